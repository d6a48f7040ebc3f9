package store

// ResultStore holds probe results and their rollups. It is part of Store;
// the results pipeline (internal/engine/results) is its only writer.
type ResultStore interface {
}
