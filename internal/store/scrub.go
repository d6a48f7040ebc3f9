package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
)

// scrubBatch is how many pages one scrub transaction rewrites at most: a
// few milliseconds of the writer, so that probe results and API writes
// wait no longer than for a retention batch.
const scrubBatch = 500

// scrubMaxPages bounds the files EraseResidue scrubs. The first byte of a
// b-tree page is its type (2, 5, 10 or 13); the first four bytes of an
// overflow or freelist trunk page are a page number, whose first byte is
// 0 below 2^24 pages and never 2 or more below 2^25. Below this bound a
// page whose first byte is a b-tree type is a b-tree page (or a free page,
// whose bytes are unused anyway).
const scrubMaxPages = 1 << 25

// EraseResidue zeroes, in every b-tree page of the file, the bytes that
// belong to no live cell (the space between the cell pointer array and
// the cell content area, and the bodies of free blocks), then checkpoints
// the WAL into the file and truncates it.
//
// secure_delete zeroes a cell when it is deleted or replaced and a page
// when it is freed, but not the copies that SQLite's page balancing
// leaves behind: when a full or thin page is rebuilt (rebuildPage in
// btree.c), its cells are written anew from the page's end and the
// region between the cell pointer array and the first cell keeps
// whatever cells were there before, which now live on a sibling page. A
// record anonymized or deleted later is zeroed where it lives, and its
// stale copy stays in that gap. The erasure reaches those copies: one
// read of every page through sqlite_dbpage on the read pool (a snapshot:
// writers go on) finds the pages with stale bytes, and the writer scrubs
// those, scrubBatch pages per transaction, each page read again as it is
// then. The live cells, the page headers and therefore the b-tree are
// unchanged. A page that changes after the snapshot was rebuilt from what
// was live then: what this erasure is for was gone from live cells
// before it started.
func (s *SQLite) EraseResidue(ctx context.Context) error {
	var pageSize, pages int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return err
	}
	if err := s.writer.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return err
	}
	if pages >= scrubMaxPages {
		return fmt.Errorf("the database has %d pages: scrubbing free space needs fewer than %d", pages, scrubMaxPages)
	}
	dirty, err := s.pagesWithResidue(ctx, pageSize)
	if err != nil {
		return fmt.Errorf("find pages with residue: %w", err)
	}
	for len(dirty) > 0 {
		batch := dirty[:min(scrubBatch, len(dirty))]
		dirty = dirty[len(batch):]
		if err := s.writeAlone(ctx, func(tx Tx) error { return tx.(sqlTx).scrubPages(ctx, batch, pageSize) }); err != nil {
			return fmt.Errorf("scrub pages %d-%d: %w", batch[0], batch[len(batch)-1], err)
		}
	}
	return s.checkpointTruncate(ctx)
}

// pagesWithResidue reads every page in one snapshot of the read pool and
// returns the numbers of the b-tree pages with non-zero unused bytes.
func (s *SQLite) pagesWithResidue(ctx context.Context, pageSize int) ([]int, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT pgno, data FROM sqlite_dbpage`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var dirty []int
	usable := 0
	for rows.Next() {
		var pgno int
		// The driver's bytes, valid until the next row: only read.
		var p sql.RawBytes
		if err := rows.Scan(&pgno, &p); err != nil {
			return nil, err
		}
		if pgno == 1 {
			if len(p) != pageSize {
				return nil, fmt.Errorf("page 1 has %d bytes, want %d", len(p), pageSize)
			}
			// The reserved bytes at the end of each page (file header
			// offset 20) are not the b-tree's.
			usable = pageSize - int(p[20])
		}
		if usable > 0 && len(p) == pageSize && len(unusedSpans(p, pgno, usable, true)) > 0 {
			dirty = append(dirty, pgno)
		}
	}
	return dirty, rows.Err()
}

// scrubPages scrubs the given pages (those that still exist) in one
// transaction, each as it is now.
func (t sqlTx) scrubPages(ctx context.Context, pgnos []int, pageSize int) error {
	first, err := t.page(ctx, 1)
	if err != nil {
		return err
	}
	if len(first) != pageSize {
		return fmt.Errorf("page 1 has %d bytes, want %d", len(first), pageSize)
	}
	usable := pageSize - int(first[20])
	for _, pgno := range pgnos {
		p, err := t.page(ctx, pgno)
		if err != nil {
			return err
		}
		if len(p) != pageSize || !scrubPage(p, pgno, usable) {
			continue
		}
		if _, err := t.exec(ctx, `UPDATE sqlite_dbpage SET data = ? WHERE pgno = ?`, p, pgno); err != nil {
			return err
		}
	}
	return nil
}

// page reads one page as it is in this transaction (WAL included); nil
// when the file has no such page.
func (t sqlTx) page(ctx context.Context, pgno int) ([]byte, error) {
	var p []byte
	err := t.queryRow(ctx, `SELECT data FROM sqlite_dbpage WHERE pgno = ?`, pgno).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// scrubPage zeroes the unused bytes of p, page pgno, when it is a b-tree
// page with a consistent header, and says whether it changed any.
func scrubPage(p []byte, pgno, usable int) bool {
	spans := unusedSpans(p, pgno, usable, true)
	for _, s := range spans {
		clear(p[s.from:s.to])
	}
	return len(spans) > 0
}

// span is a range of bytes of a page, from included, to excluded.
type span struct{ from, to int }

// unusedSpans returns the ranges of p, page pgno, that belong to no cell
// when it is a b-tree page with a consistent header (else none): the gap
// between the cell pointer array and the cell content area, and the
// bodies of the free blocks (their next pointer and size stay). With
// dirtyOnly, only the ranges that hold a non-zero byte. p is not changed.
func unusedSpans(p []byte, pgno, usable int, dirtyOnly bool) []span {
	off := 0
	if pgno == 1 {
		off = 100 // the file header
	}
	if usable > len(p) || off+12 > usable {
		return nil
	}
	hdr := 0
	switch p[off] {
	case 0x0a, 0x0d: // index and table leaves
		hdr = 8
	case 0x02, 0x05: // interior pages
		hdr = 12
	default:
		return nil
	}
	u16 := func(i int) int { return int(binary.BigEndian.Uint16(p[i:])) }
	cells := u16(off + 3)
	content := u16(off + 5)
	if content == 0 {
		content = 65536
	}
	ptrEnd := off + hdr + 2*cells
	if ptrEnd > content || content > usable {
		return nil
	}
	for i := range cells {
		if c := u16(off + hdr + 2*i); c < content || c >= usable {
			return nil
		}
	}
	// The free blocks: in increasing order, inside the content area, each
	// at least 4 bytes.
	spans := []span{{ptrEnd, content}}
	for fb, prevEnd := u16(off+1), content; fb != 0; {
		if fb < prevEnd || fb+4 > usable {
			return nil
		}
		size := u16(fb + 2)
		if size < 4 || fb+size > usable {
			return nil
		}
		spans = append(spans, span{fb + 4, fb + size})
		prevEnd = fb + size
		fb = u16(fb)
	}
	if !dirtyOnly {
		return spans
	}
	dirty := spans[:0]
	for _, s := range spans {
		for _, c := range p[s.from:s.to] {
			if c != 0 {
				dirty = append(dirty, s)
				break
			}
		}
	}
	return dirty
}
