package sqlite

import (
	"errors"
	"fmt"

	sqlitedrv "modernc.org/sqlite"
)

// SQLite result codes that opening a database can end with. Extended codes
// keep the primary code in their low byte.
const (
	codeReadOnly          = 8
	codeIOErr             = 10
	codeCorrupt           = 11
	codeFull              = 13
	codeCantOpen          = 14
	codeNotADB            = 26
	codeReadOnlyDirectory = codeReadOnly | 6<<8 // SQLITE_READONLY_DIRECTORY
)

// OpenError is an SQLite database that could not be opened or set up, with
// what the result code means for the user and what to do.
type OpenError struct {
	// Database is the redacted URL or path of the database.
	Database string
	// Code is SQLite's extended result code (0 when the cause is not an
	// SQLite error).
	Code int
	// Err is the driver's error.
	Err error
}

// Error implements error: one line, the cause in words, then SQLite's own
// text with its code.
func (e *OpenError) Error() string {
	if hint := explainCode(e.Code); hint != "" {
		return fmt.Sprintf("sqlite: cannot open %s: %s (%v)", e.Database, hint, e.Err)
	}
	return fmt.Sprintf("sqlite: cannot open %s: %v", e.Database, e.Err)
}

// Unwrap returns the driver's error.
func (e *OpenError) Unwrap() error { return e.Err }

// openError wraps an error met while opening database into an *OpenError,
// unless it is one already or a *VersionError.
func openError(database string, err error) error {
	var oe *OpenError
	var ve *VersionError
	if errors.As(err, &oe) || errors.As(err, &ve) {
		return err
	}
	return &OpenError{Database: database, Code: resultCode(err), Err: err}
}

// resultCode is the SQLite extended result code in err's chain, or 0.
func resultCode(err error) int {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// explainCode says what an SQLite result code met while opening a database
// means and what to do about it, or "" for codes without advice.
func explainCode(code int) string {
	switch {
	case code == codeReadOnlyDirectory:
		return "the database's directory is not writable, and SQLite must create the WAL index (<file>-shm) beside a WAL database to read it: " +
			"run as a user who may write that directory, or add ?immutable=1 to the URL if no process writes the database"
	case code&0xff == codeReadOnly:
		return "the database is read-only for this user: check the permissions of the file and its directory"
	case code&0xff == codeCantOpen:
		return "the file cannot be opened: check that its directory exists and that this user may read and write the file and the directory " +
			"(SQLite creates <file>-wal and <file>-shm beside a WAL database; add ?immutable=1 to the URL to read a database no process writes)"
	case code&0xff == codeNotADB:
		return "the file is not an SQLite database (is the path right?)"
	case code&0xff == codeCorrupt:
		return "the database file is corrupt: restore it from a backup"
	case code&0xff == codeFull:
		return "the disk is full"
	case code&0xff == codeIOErr:
		return "a disk I/O error"
	}
	return ""
}

// isReadOnlyError reports whether err is SQLite's "attempt to write a
// readonly database" (any SQLITE_READONLY code).
func isReadOnlyError(err error) bool {
	return resultCode(err)&0xff == codeReadOnly
}
