package main

import (
	"reflect"
	"testing"
)

// TestSizesTakeRunsPerN: -sizes N:runs sets the runs of that N only; the
// others keep -reps; a bad count is refused.
func TestSizesTakeRunsPerN(t *testing.T) {
	o, err := parseFlags([]string{"-sizes", "100, 1000,10000:1", "-reps", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.sizes, []int{100, 1000, 10000}) {
		t.Errorf("sizes %v", o.sizes)
	}
	for n, want := range map[int]int{100: 3, 1000: 3, 10000: 1} {
		if got := o.repsOf(n); got != want {
			t.Errorf("runs at N=%d: %d, want %d", n, got, want)
		}
	}
	for _, bad := range []string{"10000:0", "10000:x", "0", "a"} {
		if _, err := parseFlags([]string{"-sizes", bad}); err == nil {
			t.Errorf("-sizes %s: no error", bad)
		}
	}
}

// TestReplaceStringAtAnyDepth: the seeded state's values are the
// template's with value-0 replaced wherever it is, and nothing else.
func TestReplaceStringAtAnyDepth(t *testing.T) {
	in := map[string]any{"id": "value-0", "input": map[string]any{"value": "value-0", "type": "string"},
		"list": []any{"value-0", "value-01", 1.0}, "none": nil}
	want := map[string]any{"id": "value-7", "input": map[string]any{"value": "value-7", "type": "string"},
		"list": []any{"value-7", "value-01", 1.0}, "none": nil}
	if got := replaceString(in, "value-0", "value-7"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
