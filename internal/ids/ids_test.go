package ids_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/ids"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// decodeMillis reads the timestamp held by the first 10 digits of an ID.
func decodeMillis(t *testing.T, digits string) int64 {
	t.Helper()
	var v int64
	for _, c := range digits[:10] {
		i := strings.IndexRune(alphabet, c)
		if i < 0 {
			t.Fatalf("%q is not a Crockford base32 digit", c)
		}
		v = v<<5 | int64(i)
	}
	return v
}

func TestFormat(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	for _, prefix := range []string{"ep_", "tok_", "aud_", ""} {
		id := ids.New(prefix, now)
		rest, ok := strings.CutPrefix(id, prefix)
		if !ok {
			t.Fatalf("%q does not start with %q", id, prefix)
		}
		if len(rest) != 26 {
			t.Errorf("%q has %d characters after the prefix, want 26", id, len(rest))
		}
		for _, c := range rest {
			if !strings.ContainsRune(alphabet, c) {
				t.Errorf("%q holds %q, not lower-case Crockford base32", id, c)
			}
		}
		// 128 bits in 26 digits: the first digit carries only 3 bits.
		if !strings.ContainsRune("01234567", rune(rest[0])) {
			t.Errorf("%q: first digit %q carries more than 3 bits", id, rest[0])
		}
		if got := decodeMillis(t, rest); got != now.UnixMilli() {
			t.Errorf("%q holds time %d ms, want %d", id, got, now.UnixMilli())
		}
	}
}

func TestUnique(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	seen := make(map[string]bool, 10000)
	for range 10000 {
		// The same millisecond every time: only the random part differs.
		id := ids.New("ep_", now)
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestSortableByTime(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	times := []time.Time{
		time.Unix(0, 0).UTC(),
		time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC),
		base,
		base.Add(time.Millisecond),
		base.Add(2 * time.Millisecond),
		base.Add(time.Second),
		base.Add(time.Hour),
		base.AddDate(1, 0, 0),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC),
	}
	for round := range 50 {
		var got []string
		for _, tm := range times {
			got = append(got, ids.New("x_", tm))
		}
		if !slices.IsSorted(got) {
			t.Fatalf("round %d: IDs made at increasing times do not sort: %q", round, got)
		}
		for i, id := range got {
			if ms := decodeMillis(t, strings.TrimPrefix(id, "x_")); ms != times[i].UnixMilli() {
				t.Errorf("%q holds %d ms, want %d", id, ms, times[i].UnixMilli())
			}
		}
	}
	// Within one millisecond, the order is random, yet IDs of a later
	// millisecond sort after every ID of an earlier one.
	var early, late []string
	for range 1000 {
		early = append(early, ids.New("", base))
		late = append(late, ids.New("", base.Add(time.Millisecond)))
	}
	if slices.Max(early) >= slices.Min(late) {
		t.Errorf("an ID of %v sorts after one of a millisecond later: %q ≥ %q", base, slices.Max(early), slices.Min(late))
	}
}

func TestValid(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	id := ids.New("ep_", now)
	if !ids.Valid("ep_", id) {
		t.Errorf("Valid(ep_, %q) = false for a new ID", id)
	}
	for _, bad := range []string{
		"", "ep_", "a", id[:len(id)-1], id + "0", "mon_" + id[3:], strings.ToUpper(id),
		// 'u' is not a Crockford digit; the first digit holds 3 bits only.
		id[:len(id)-1] + "u", "ep_8" + id[4:],
	} {
		if ids.Valid("ep_", bad) {
			t.Errorf("Valid(ep_, %q) = true", bad)
		}
	}
}

// IDs made one after the other sort in that order, in the same millisecond
// too (listings are in ID order, and users read them as creation order),
// and keep the time they were made at.
func TestMonotonicWithinAMillisecond(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var made []string
	for i := range 1000 {
		// Ten IDs a millisecond, of several kinds.
		at := now.Add(time.Duration(i/10) * time.Millisecond)
		id := ids.New([]string{"ep_", "mon_", "cred_"}[i%3], at)
		_, rest, _ := strings.Cut(id, "_")
		if got := decodeMillis(t, rest); got != at.UnixMilli() {
			t.Fatalf("%q holds time %d ms, want %d", id, got, at.UnixMilli())
		}
		made = append(made, rest)
	}
	if !slices.IsSorted(made) {
		for i := 1; i < len(made); i++ {
			if made[i] <= made[i-1] {
				t.Fatalf("ID %d (%s) sorts before ID %d (%s), made before it", i, made[i], i-1, made[i-1])
			}
		}
	}
}
