package rawsql

import (
	"fmt"
	"strings"
)

// TerminalStates are the terminal state types, as a list of SQL literals
// for IN (…).
const TerminalStates = "'COMPLETED', 'CANCELLED', 'FAILED', 'CRASHED'"

// Literal renders s as an SQL string literal.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// PostgresLiteral renders s as a PostgreSQL string literal that reads the
// same whatever standard_conforming_strings is set to: a string with a
// backslash is written as an escape string (E'...') with the backslashes
// doubled (with the setting off, a backslash in '...' escapes the next
// character, and Literal's quoting could be escaped out of).
func PostgresLiteral(s string) string {
	q := strings.ReplaceAll(s, "'", "''")
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(q, `\`, `\\`) + "'"
	}
	return "'" + q + "'"
}

// JSONPairs returns the arguments of a JSON object constructor
// (dialects.Queries.BuildJSONObject) for alternating keys and value
// expressions: each key quoted by quote (the dialect's string literal),
// each value verbatim, comma separated. It panics on an odd number of
// arguments, with a message that name (the dialect's) begins.
func JSONPairs(name string, quote func(string) string, pairs []string) string {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("%s: BuildJSONObject needs key/value pairs, got %d arguments", name, len(pairs)))
	}
	parts := make([]string, 0, len(pairs))
	for k := 0; k < len(pairs); k += 2 {
		parts = append(parts, quote(pairs[k]), pairs[k+1])
	}
	return strings.Join(parts, ", ")
}
