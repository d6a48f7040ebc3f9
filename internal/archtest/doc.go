// Package archtest holds tests of the module's shape rather than of its
// behaviour: today, that dependencies point the way DESIGN.md says
// (provider → client → api; server → store → api; engine → store), so that
// the provider binary never links the control plane. It has no code of its
// own; `make deps-check` runs its tests, and `make test` runs them with
// every other package.
package archtest
