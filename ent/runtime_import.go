package ent

// The schema declares interceptors, so Ent generates the code that wires
// defaults, hooks and interceptors into the ent/runtime package, which
// programs would otherwise have to blank-import themselves (and without it,
// creating any entity panics on a nil default). ent/runtime does not import
// this package, so importing it here is safe and every client is complete.
import _ "github.com/prefectdb/prefectdb/ent/runtime"
