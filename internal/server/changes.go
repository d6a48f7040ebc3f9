package server

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// changeList collects, in order, the names of the fields that differ
// between two objects, as the audit event records them.
type changeList []string

// add names the field when its values differ.
func (c *changeList) add(name string, differ bool) {
	if differ {
		*c = append(*c, name)
	}
}

// nested names the paths at which a nested field differs.
func (c *changeList) nested(field string, a, b any) {
	*c = append(*c, nestedChanges(field, a, b)...)
}

// nestedChanges names the paths at which two values of a nested field
// differ, in the dotted form field errors use: "request.credential_id",
// "tags.env", "assertions.1.target". An object compares member by member,
// a list index by index (an index only one side has is a change of that
// index), anything else, and a value that is null on one side only, as a
// whole. It compares the JSON forms, as the API shows them, so that it
// sees what a client sees; the audit trail records these paths, never the
// values.
func nestedChanges(field string, a, b any) []string {
	x, errA := toJSONValue(a)
	y, errB := toJSONValue(b)
	if errA != nil || errB != nil {
		if sameJSON(a, b) {
			return nil
		}
		return []string{field}
	}
	var out []string
	diffJSON(field, x, y, &out)
	return out
}

func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

func diffJSON(path string, a, b any, out *[]string) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, path)
			return
		}
		keys := slices.Sorted(maps.Keys(x))
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			diffJSON(path+"."+k, x[k], y[k], out)
		}
	case []any:
		y, ok := b.([]any)
		if !ok {
			*out = append(*out, path)
			return
		}
		for i := range max(len(x), len(y)) {
			p := path + "." + strconv.Itoa(i)
			switch {
			case i >= len(x) || i >= len(y):
				*out = append(*out, p)
			default:
				diffJSON(p, x[i], y[i], out)
			}
		}
	default:
		if !sameJSON(a, b) {
			*out = append(*out, path)
		}
	}
}
