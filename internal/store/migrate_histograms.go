package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// histogramBatch is how many rollups migration 00015 reads at a time.
const histogramBatch = 1000

// migrateLeanHistograms (version 15) re-encodes the latency histogram of
// every stored rollup in the shorter of its two forms (stats.Histogram's
// MarshalBinary): an hour rollup's histogram, most of the row, becomes
// the runs form, about two thirds of the sparse one; a minute rollup's
// usually stays sparse and is left as it is. The counts in the buckets do
// not change, so every figure reads the same before and after. The pages
// freed are reused by new rows; VACUUM shrinks the file.
func migrateLeanHistograms(ctx context.Context, tx *sql.Tx) error {
	return reencodeHistograms(ctx, tx, (*stats.Histogram).Marshal)
}

// unmigrateLeanHistograms writes every histogram back in the sparse form,
// the only one versions before 00015 read.
func unmigrateLeanHistograms(ctx context.Context, tx *sql.Tx) error {
	return reencodeHistograms(ctx, tx, (*stats.Histogram).MarshalSparse)
}

// reencodeHistograms rewrites the histograms of both rollup tables with
// encode, reading them in key order a batch at a time and updating only
// the rows whose bytes change.
func reencodeHistograms(ctx context.Context, tx *sql.Tx, encode func(*stats.Histogram) []byte) error {
	for _, table := range []string{"rollups_minute", "rollups_hour"} {
		type row struct {
			key, bucket int64
			hist        []byte
		}
		var lastKey, lastBucket int64 = -1 << 62, -1 << 62
		for {
			// table is one of the two rollup tables' names, never input.
			q := `SELECT monitor_key, bucket_start, histogram FROM ` + table + //nolint:gosec // G202: see above.
				` WHERE (monitor_key, bucket_start) > (?, ?) ORDER BY monitor_key, bucket_start LIMIT ?`
			rows, err := tx.QueryContext(ctx, q, lastKey, lastBucket, histogramBatch) //nolint:gosec // G202: see above.
			if err != nil {
				return fmt.Errorf("read %s: %w", table, err)
			}
			var batch []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.key, &r.bucket, &r.hist); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range batch {
				var h stats.Histogram
				if err := h.UnmarshalBinary(r.hist); err != nil {
					return fmt.Errorf("%s row (%d, %d): %w", table, r.key, r.bucket, err)
				}
				b := encode(&h)
				if string(b) == string(r.hist) {
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET histogram = ? WHERE monitor_key = ? AND bucket_start = ?`, //nolint:gosec // G202: table is one of the two rollup tables' names, never input.
					b, r.key, r.bucket); err != nil {
					return fmt.Errorf("write %s: %w", table, err)
				}
			}
			if len(batch) < histogramBatch {
				break
			}
			lastKey, lastBucket = batch[len(batch)-1].key, batch[len(batch)-1].bucket
		}
	}
	return nil
}
