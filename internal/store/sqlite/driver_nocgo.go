//go:build sqlite_cgo && !cgo

package sqlite

// The sqlite_cgo tag selects mattn/go-sqlite3, which needs cgo: without it
// (CGO_ENABLED=0, or no C compiler found) the build stops here rather than
// give a binary whose every open fails. Build with CGO_ENABLED=1 and a C
// compiler (gcc or clang), or without the tag.
var _ = sqlite_cgo_needs_CGO_ENABLED_1_and_a_C_compiler
