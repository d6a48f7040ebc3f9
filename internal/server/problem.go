package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// problemError is an error that carries the HTTP answer to give. Handlers
// return it; writeError turns it into an RFC 9457 document.
type problemError struct {
	status int
	detail string
	fields []api.FieldError
	header map[string]string
}

func (p *problemError) Error() string { return fmt.Sprintf("%d %s", p.status, p.detail) }

func problemf(status int, format string, args ...any) *problemError {
	return &problemError{status: status, detail: fmt.Sprintf(format, args...)}
}

func invalid(fields []api.FieldError) *problemError {
	return &problemError{status: http.StatusBadRequest, detail: "the request has invalid fields", fields: fields}
}

// writeProblem writes an RFC 9457 problem document.
func writeProblem(w http.ResponseWriter, p *problemError) {
	for k, v := range p.header {
		w.Header().Set(k, v)
	}
	doc := api.Problem{
		Type:   "about:blank",
		Title:  http.StatusText(p.status),
		Status: p.status,
		Detail: p.detail,
		Errors: p.fields,
	}
	w.Header().Set("Content-Type", api.ContentTypeProblem)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.status)
	_ = json.NewEncoder(w).Encode(doc)
}

// decodeJSON reads a JSON request body into v. Unknown fields, trailing
// data and type mismatches are 400s that name the field.
func decodeJSON(body []byte, v any) *problemError {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		p := jsonProblem(err)
		if len(p.fields) == 1 && p.fields[0].Field == "" {
			// Errors of a field's own decoder (a bad time, say) do not
			// name the field: find it by decoding the fields one by one.
			if name, ok := failingField(body, v); ok {
				p.fields[0] = api.FieldError{Field: name, Message: "has a value of the wrong form; a time must be RFC 3339, as in 2026-01-02T15:04:05Z"}
			}
		}
		return p
	}
	if dec.More() {
		return invalid([]api.FieldError{{Field: "", Message: "the body must hold exactly one JSON object"}})
	}
	return nil
}

func jsonProblem(err error) *problemError {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		// encoding/json names a field of an embedded struct with the Go
		// name of the embedding (Meta.revision); the API's field is its
		// JSON name alone.
		return invalid([]api.FieldError{{Field: strings.TrimPrefix(typeErr.Field, "Meta."), Message: "must be a JSON " + jsonKind(typeErr.Type.Kind().String())}})
	case errors.As(err, &syntaxErr):
		return invalid([]api.FieldError{{Field: "", Message: fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid([]api.FieldError{{Field: name, Message: "is not a known field"}})
	case err.Error() == "EOF":
		return invalid([]api.FieldError{{Field: "", Message: "the body must be a JSON object"}})
	}
	return invalid([]api.FieldError{{Field: "", Message: "malformed JSON: " + err.Error()}})
}

func jsonKind(k string) string {
	switch k {
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return k
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problemf(http.StatusInternalServerError, "could not encode the response"))
		return
	}
	w.Header().Set("Content-Type", api.ContentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// failingField decodes each top-level member of a JSON object into the
// field of v's struct with the same JSON name and returns the name of the
// first that fails.
func failingField(body []byte, v any) (string, bool) {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return "", false
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "", false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		raw, ok := members[name]
		if !ok || name == "" || name == "-" {
			continue
		}
		if json.Unmarshal(raw, reflect.New(f.Type).Interface()) != nil {
			return name, true
		}
	}
	return "", false
}
