// Package ent is the generated Ent client of prefectdb's schema (see
// ent/schema). Run `go generate ./...` from the repository root after
// changing the schema: it regenerates this package, the migration files and
// the schema documents.
package ent

//go:generate go run -mod=mod entc.go
//go:generate go run ../internal/cmd/schemagen -schema ./schema -out ../migrate
//go:generate go run ../internal/cmd/schemadocs -out ../docs
