// Package ids makes object IDs: a kind prefix and 26 characters of
// lower-case Crockford base32 holding a millisecond timestamp and 80 random
// bits, so that IDs sort by creation time and never collide.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// last is the time and the random part of the ID made last in this
// process. An ID made in the same millisecond takes the last one's random
// part plus one instead of fresh random bits, so that IDs made one after
// the other sort in that order even within a millisecond: listings, which
// are in ID order, then list objects in the order they were created (two
// endpoints created in the same millisecond once listed the later one
// first, and a test that wanted creation order failed now and then). It is
// the process's, as the clock is: one aiod makes every ID of its store.
var last struct {
	sync.Mutex
	ms   uint64
	rand [10]byte
}

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// New returns a new ID with the given prefix (such as "ep_") made at now.
func New(prefix string, now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	last.Lock()
	if ms != last.ms || !increment(&last.rand) {
		// A new millisecond (or, never in practice, 80 bits used up):
		// fresh random bits.
		_, _ = rand.Read(last.rand[:])
		last.ms = ms
	}
	copy(b[6:], last.rand[:])
	last.Unlock()
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var sb strings.Builder
	sb.Grow(len(prefix) + 26)
	sb.WriteString(prefix)
	// 128 bits in 26 base32 digits: the first digit carries 3 bits.
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift+5 > 64:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		sb.WriteByte(alphabet[v&31])
	}
	return sb.String()
}

// increment adds one to the big-endian number r and tells whether it did
// so without overflowing.
func increment(r *[10]byte) bool {
	for i := len(r) - 1; i >= 0; i-- {
		r[i]++
		if r[i] != 0 {
			return true
		}
	}
	return false
}

// Valid tells whether s has the form New gives with this prefix: the
// prefix and 26 digits of the alphabet, the first at most 7 (it carries 3
// bits). Listings use it to refuse a cursor they never returned.
func Valid(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 26 || strings.IndexByte(alphabet[:8], rest[0]) < 0 {
		return false
	}
	for i := 1; i < len(rest); i++ {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
