package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
)

// scrubBatch is how many pages one scrub transaction reads: a few
// milliseconds of the writer, so that probe results and API writes wait
// no longer than for a retention batch.
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
// the cell content area, and the bodies of free blocks), in transactions
// of scrubBatch pages, then checkpoints the WAL into the file and
// truncates it.
//
// secure_delete zeroes a cell when it is deleted or replaced and a page
// when it is freed, but not the copies that SQLite's page balancing
// leaves behind: when a full or thin page is rebuilt (rebuildPage in
// btree.c), its cells are written anew from the page's end and the
// region between the cell pointer array and the first cell keeps
// whatever cells were there before, which now live on a sibling page. A
// record anonymized or deleted later is zeroed where it lives, and its
// stale copy stays in that gap. The scrub reaches those copies: it reads
// every page through sqlite_dbpage and writes back only the pages whose
// unused bytes are not all zero; the live cells, the page headers and
// therefore the b-tree are unchanged.
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
	for from := 1; from <= pages; from += scrubBatch {
		if err := s.Write(ctx, func(tx Tx) error {
			return tx.(sqlTx).scrubPages(ctx, from, min(from+scrubBatch-1, pages), pageSize)
		}); err != nil {
			return fmt.Errorf("scrub pages %d-: %w", from, err)
		}
	}
	return s.checkpointTruncate(ctx)
}

// scrubPages scrubs pages from..to (those that still exist) in one
// transaction.
func (t sqlTx) scrubPages(ctx context.Context, from, to, pageSize int) error {
	first, err := t.page(ctx, 1)
	if err != nil {
		return err
	}
	if len(first) != pageSize {
		return fmt.Errorf("page 1 has %d bytes, want %d", len(first), pageSize)
	}
	// The reserved bytes at the end of each page (file header offset 20)
	// are not the b-tree's.
	reserved := int(first[20])
	for pgno := from; pgno <= to; pgno++ {
		p, err := t.page(ctx, pgno)
		if err != nil {
			return err
		}
		if len(p) != pageSize || !scrubPage(p, pgno, pageSize-reserved) {
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
// page with a consistent header, and says whether it changed any. A page
// whose header or free-block chain is not consistent is left alone.
func scrubPage(p []byte, pgno, usable int) bool {
	off := 0
	if pgno == 1 {
		off = 100 // the file header
	}
	if usable > len(p) || off+12 > usable {
		return false
	}
	hdr := 0
	switch p[off] {
	case 0x0a, 0x0d: // index and table leaves
		hdr = 8
	case 0x02, 0x05: // interior pages
		hdr = 12
	default:
		return false
	}
	u16 := func(i int) int { return int(binary.BigEndian.Uint16(p[i:])) }
	cells := u16(off + 3)
	content := u16(off + 5)
	if content == 0 {
		content = 65536
	}
	ptrEnd := off + hdr + 2*cells
	if ptrEnd > content || content > usable {
		return false
	}
	for i := range cells {
		if c := u16(off + hdr + 2*i); c < content || c >= usable {
			return false
		}
	}
	// The free blocks: in increasing order, inside the content area, each
	// at least 4 bytes (its next pointer and size stay).
	type span struct{ from, to int }
	spans := []span{{ptrEnd, content}}
	for fb, prevEnd := u16(off+1), content; fb != 0; {
		if fb < prevEnd || fb+4 > usable {
			return false
		}
		size := u16(fb + 2)
		if size < 4 || fb+size > usable {
			return false
		}
		spans = append(spans, span{fb + 4, fb + size})
		prevEnd = fb + size
		fb = u16(fb)
	}
	changed := false
	for _, s := range spans {
		for i := s.from; i < s.to; i++ {
			if p[i] != 0 {
				changed = true
				clear(p[s.from:s.to])
				break
			}
		}
	}
	return changed
}
