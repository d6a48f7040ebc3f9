package api

import "time"

// Meta is what every object carries besides its own fields, whatever its
// kind: the ID (with its kind's prefix), the revision (1 on create, +1 on
// every change) and the times of creation and of the last change. Every
// object type embeds it first, so that the shared rules (revisions,
// If-Match, audit, paging) can be written once for every kind.
type Meta struct {
	ID        string    `json:"id,omitempty"`
	Revision  int64     `json:"revision,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// GetMeta returns the object's Meta; through embedding, every object type
// has it, which lets generic code read and set the shared fields.
func (m *Meta) GetMeta() *Meta { return m }
