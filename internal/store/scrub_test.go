package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// btreePage builds a b-tree page of size bytes for unusedSpans: the header
// at off (100 on page 1, after the file header), the given cell pointers,
// the content area start and a chain of free blocks (offset, size); every
// other byte is 0xAA, so that each unused range holds stale bytes.
func btreePage(size, off int, typ byte, cells []int, content int, free [][2]int) []byte {
	p := bytes.Repeat([]byte{0xAA}, size)
	put := func(i, v int) { binary.BigEndian.PutUint16(p[i:], uint16(v)) }
	p[off] = typ
	put(off+1, 0)
	if len(free) > 0 {
		put(off+1, free[0][0])
	}
	put(off+3, len(cells))
	put(off+5, content)
	hdr := 8
	if typ == 0x02 || typ == 0x05 {
		hdr = 12
	}
	for i, c := range cells {
		put(off+hdr+2*i, c)
	}
	for i, fb := range free {
		next := 0
		if i+1 < len(free) {
			next = free[i+1][0]
		}
		put(fb[0], next)
		put(fb[0]+2, fb[1])
	}
	return p
}

// TestUnusedSpans: the unused ranges of a b-tree page are the gap between
// the cell pointer array and the content area and the bodies of the free
// blocks; a page whose header is not consistent (any bound one byte off)
// has none, so that EraseResidue never zeroes what may be a live byte.
func TestUnusedSpans(t *testing.T) {
	const size = 512
	for _, c := range []struct {
		name   string
		p      []byte
		pgno   int
		usable int
		want   []span // with dirtyOnly false
	}{
		{"table leaf", btreePage(size, 0, 0x0d, []int{400, 450}, 400, [][2]int{{420, 10}}), 2, size, []span{{12, 400}, {424, 430}}},
		{"index leaf", btreePage(size, 0, 0x0a, []int{500}, 500, nil), 2, size, []span{{10, 500}}},
		{"table interior", btreePage(size, 0, 0x05, []int{480, 490}, 480, nil), 2, size, []span{{16, 480}}},
		{"index interior", btreePage(size, 0, 0x02, nil, 300, [][2]int{{300, 4}}), 2, size, []span{{12, 300}, {304, 304}}},
		{"page 1, after the file header", btreePage(size, 100, 0x0d, []int{450}, 450, nil), 1, size, []span{{110, 450}}},
		{"not a b-tree page", btreePage(size, 0, 0x00, []int{450}, 450, nil), 2, size, nil},
		{"overflow-like", btreePage(size, 0, 0x01, nil, 450, nil), 2, size, nil},
		// Reserved bytes at the end: usable < size.
		{"within the usable size", btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{440, 8}}), 2, 448, []span{{10, 400}, {444, 448}}},
		{"free block past the usable size", btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{440, 12}}), 2, 448, nil},
		{"free block head past the usable size", btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{446, 4}}), 2, 448, nil},
		// A free block pointer to the page's last two bytes: its size
		// field would lie past the page.
		{"free block head in the last two bytes", func() []byte {
			p := btreePage(size, 0, 0x0d, []int{400}, 400, nil)
			binary.BigEndian.PutUint16(p[1:], size-2)
			return p
		}(), 2, size, nil},
		{"cell pointer at the usable size", btreePage(size, 0, 0x0d, []int{448}, 400, nil), 2, 448, nil},
		{"cell pointer before the content", btreePage(size, 0, 0x0d, []int{399}, 400, nil), 2, size, nil},
		{"cell pointer at the last usable byte", btreePage(size, 0, 0x0d, []int{447}, 400, nil), 2, 448, []span{{10, 400}}},
		{"content area at the usable end", btreePage(size, 0, 0x0d, nil, 448, nil), 2, 448, []span{{8, 448}}},
		{"content area past the usable end", btreePage(size, 0, 0x0d, nil, 449, nil), 2, 448, nil},
		{"content 0 is 65536", btreePage(size, 0, 0x0d, nil, 0, nil), 2, size, nil},
		{"full pointer array", btreePage(size, 0, 0x0d, []int{12, 100}, 12, nil), 2, size, []span{{12, 12}}},
		{"pointer array past the content", btreePage(size, 0, 0x0d, []int{11, 100}, 11, nil), 2, size, nil},
		{"usable past the page", btreePage(size, 0, 0x0d, []int{400}, 400, nil), 2, size + 1, nil},
		{"smallest page", btreePage(12, 0, 0x0d, nil, 12, nil), 2, 12, []span{{8, 12}}},
		{"too small for a header", btreePage(12, 0, 0x0d, nil, 11, nil), 2, 11, nil},
		{"page 1 too small for its header", btreePage(size, 100, 0x0d, nil, 111, nil), 1, 111, nil},
		{
			"adjacent free blocks, the last ending at the usable end",
			btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{400, 4}, {404, 8}, {440, 8}}), 2, 448,
			[]span{{10, 400}, {404, 404}, {408, 412}, {444, 448}},
		},
		{
			"a free block of 4 bytes at the usable end",
			btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{444, 4}}), 2, 448, []span{{10, 400}, {448, 448}},
		},
		{"overlapping free blocks", btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{410, 8}, {417, 8}}), 2, size, nil},
		{"free block before the content", btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{399, 8}}), 2, size, nil},
		{"free block of 3 bytes", btreePage(size, 0, 0x0d, []int{400}, 400, [][2]int{{410, 3}}), 2, size, nil},
	} {
		before := bytes.Clone(c.p)
		got := unusedSpans(c.p, c.pgno, c.usable, false)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: spans %v, want %v", c.name, got, c.want)
		}
		if !bytes.Equal(c.p, before) {
			t.Errorf("%s: unusedSpans changed the page", c.name)
		}
		// Every span but the empty ones holds stale bytes here.
		var dirty []span
		for _, s := range c.want {
			if s.from < s.to {
				dirty = append(dirty, s)
			}
		}
		if got := unusedSpans(c.p, c.pgno, c.usable, true); len(got) != len(dirty) || (len(dirty) > 0 && !reflect.DeepEqual(got, dirty)) {
			t.Errorf("%s: dirty spans %v, want %v", c.name, got, dirty)
		}
		// scrubPage zeroes exactly those and says whether it did.
		p := bytes.Clone(c.p)
		if changed := scrubPage(p, c.pgno, c.usable); changed != (len(dirty) > 0) {
			t.Errorf("%s: scrubPage said changed %v, want %v", c.name, changed, len(dirty) > 0)
		}
		for i := range p {
			inSpan := false
			for _, s := range dirty {
				inSpan = inSpan || (i >= s.from && i < s.to)
			}
			if want := c.p[i]; inSpan && p[i] != 0 || !inSpan && p[i] != want {
				t.Errorf("%s: byte %d is %#x after scrubPage (in a span: %v)", c.name, i, p[i], inSpan)
				break
			}
		}
		// A scrubbed page has nothing left to scrub.
		if scrubPage(p, c.pgno, c.usable) || len(unusedSpans(p, c.pgno, c.usable, true)) != 0 {
			t.Errorf("%s: a scrubbed page still has stale bytes", c.name)
		}
	}
}

// TestPagesWithResidueOnlyDirty: pagesWithResidue names the pages with
// stale bytes, and none once EraseResidue has run.
func TestPagesWithResidueOnlyDirty(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	if _, err := s.writer.ExecContext(ctx, `CREATE TABLE junk (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if _, err := s.writer.ExecContext(ctx, `INSERT INTO junk VALUES (?)`, bytes.Repeat([]byte{'a' + byte(i%26)}, 200)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM junk WHERE rowid % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	var pageSize int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseResidue(ctx); err != nil {
		t.Fatal(err)
	}
	dirty, err := s.pagesWithResidue(ctx, pageSize)
	if err != nil || len(dirty) != 0 {
		t.Errorf("after EraseResidue: pages with residue %v, %v; want none", dirty, err)
	}
}

// The schema page (page 1, whose header is the file's and whose usable
// size EraseResidue reads) is scrubbed like every other page: a dropped
// table's name does not stay in its unused bytes.
func TestEraseResidueScrubsTheSchemaPage(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	name := func(i int) string { return fmt.Sprintf("scratch_%02d_%s", i, strings.Repeat("SECRETNAME", 8)) }
	for i := range 40 {
		if _, err := s.writer.ExecContext(ctx, `CREATE TABLE `+name(i)+` (v TEXT)`); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 40; i += 2 {
		if _, err := s.writer.ExecContext(ctx, `DROP TABLE `+name(i)); err != nil {
			t.Fatal(err)
		}
	}
	page1 := func() []span {
		t.Helper()
		var p []byte
		if err := s.writer.QueryRowContext(ctx, `SELECT data FROM sqlite_dbpage WHERE pgno = 1`).Scan(&p); err != nil {
			t.Fatal(err)
		}
		return unusedSpans(p, 1, len(p)-int(p[20]), true)
	}
	if len(page1()) == 0 {
		t.Fatal("page 1 has no residue to erase: the test would prove nothing")
	}
	if err := s.EraseResidue(ctx); err != nil {
		t.Fatal(err)
	}
	if left := page1(); len(left) > 0 {
		t.Errorf("page 1 still has residue in %v", left)
	}
}
