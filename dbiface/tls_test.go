package dbiface_test

// TLS to PostgreSQL and Prefect's connection settings (issue 12): servers
// started by the test with a self-signed CA that accept TCP only over TLS
// (hostssl), reached with Prefect's TLS settings.

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/internal/pgcluster"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// plainURL is the cluster's URL without any TLS parameter: TLS comes from
// the options alone, as with Prefect's settings.
func plainURL(c *pgcluster.Cluster) string {
	return fmt.Sprintf("postgresql+asyncpg://postgres@localhost:%d/postgres", c.Port())
}

// usesTLS reports whether the interface's connection is encrypted.
func usesTLS(t *testing.T, db *dbiface.Interface) bool {
	t.Helper()
	var ssl bool
	if err := db.Engine().QueryRowContext(testutil.Context(t), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
		t.Fatal(err)
	}
	return ssl
}

// TestTLSVerifiesTheServer: Prefect's TLS settings (enabled, CA file) give a
// verified TLS connection, through which prefectdb migrates and works; the
// same server refuses plain TCP; a CA that did not sign the server's
// certificate is refused with a one-line error naming the unknown
// authority; libpq's URL parameters (sslmode=verify-full, sslrootcert) work
// too.
func TestTLSVerifiesTheServer(t *testing.T) {
	t.Parallel()
	c := pgcluster.StartWith(t, pgcluster.Options{TLS: true})
	ctx := testutil.Context(t)

	env := map[string]string{
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED": "true",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE": c.CAFile(),
	}
	opts, err := config.OptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !opts.TLS.Enabled || opts.TLS.CAFile != c.CAFile() || opts.TLS.SkipHostnameCheck {
		t.Fatalf("Prefect's TLS settings read as %+v", opts.TLS)
	}
	db, err := dbiface.Open(ctx, dbiface.Config{URL: plainURL(c), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateDB(ctx); err != nil {
		t.Fatalf("migrate over TLS: %v", err)
	}
	if !usesTLS(t, db) {
		t.Fatal("the connection is not encrypted")
	}
	db.Flow.Create().SetName("over tls").SaveX(ctx)

	// libpq's names in the URL.
	viaURL, err := dbiface.Open(ctx, dbiface.Config{URL: c.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer viaURL.Close()
	if n := viaURL.Flow.Query().CountX(ctx); n != 1 || !usesTLS(t, viaURL) {
		t.Errorf("sslmode=verify-full in the URL: %d flows, TLS %v", n, usesTLS(t, viaURL))
	}

	// Plain TCP is refused by the server (hostssl only).
	plain := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port())
	if db, err := dbiface.Open(ctx, dbiface.Config{URL: plain}); err == nil {
		_, err = db.Flow.Query().Count(ctx)
		_ = db.Close()
		if err == nil || !strings.Contains(err.Error(), "pg_hba.conf") {
			t.Errorf("plain TCP to a hostssl-only server: %v", err)
		}
	}

	// A CA that did not sign the server's certificate.
	wrong := opts
	wrong.TLS.CAFile = c.OtherCAFile()
	bad, err := dbiface.Open(ctx, dbiface.Config{URL: plainURL(c), Options: wrong})
	if err == nil {
		_, err = bad.Flow.Query().Count(ctx)
		_ = bad.Close()
	}
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) || !strings.Contains(err.Error(), "unknown authority") || strings.Contains(err.Error(), "\n") {
		t.Errorf("wrong CA: %v; want one line with x509's unknown authority", err)
	}
}

// TestTLSClientCertificate: a server that requires a client certificate
// (cert authentication) accepts prefectdb with Prefect's cert and key file
// settings, and refuses it without them.
func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	c := pgcluster.StartWith(t, pgcluster.Options{TLS: true, ClientCert: true})
	ctx := testutil.Context(t)
	env := map[string]string{
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED":   "1",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE":   c.CAFile(),
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CERT_FILE": c.ClientCertFile(),
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_KEY_FILE":  c.ClientKeyFile(),
	}
	opts, err := config.OptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	db, err := dbiface.Open(ctx, dbiface.Config{URL: plainURL(c), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateDB(ctx); err != nil {
		t.Fatalf("migrate with a client certificate: %v", err)
	}
	var dn string
	if err := db.Engine().QueryRowContext(ctx, "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&dn); err != nil || dn != "/CN=postgres" {
		t.Errorf("client certificate seen by the server: %q, %v", dn, err)
	}

	noCert := opts
	noCert.TLS.CertFile, noCert.TLS.KeyFile = "", ""
	bad, err := dbiface.Open(ctx, dbiface.Config{URL: plainURL(c), Options: noCert})
	if err == nil {
		_, err = bad.Flow.Query().Count(ctx)
		_ = bad.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without a client certificate: %v; want the server's refusal", err)
	}
	half := opts
	half.TLS.KeyFile = ""
	if _, err := dbiface.Open(ctx, dbiface.Config{URL: plainURL(c), Options: half}); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("a certificate without its key: %v; want an error saying both files are needed", err)
	}
}

// TestSearchPathOtherSchema: with Prefect's search_path setting, prefectdb
// keeps Prefect's tables in a schema other than public: migrations create
// them there, status and drift read that schema, and queries work.
func TestSearchPathOtherSchema(t *testing.T) {
	t.Parallel()
	if os.Getenv(testutil.PoolerVariable) != "" {
		t.Skip("search_path cannot be set per connection behind a transaction pooler (TestPgBouncerMisconfigured checks that it is refused)")
	}
	ctx := testutil.Context(t)
	url := testutil.EmptyPostgres(t)
	setup, err := dbiface.Open(ctx, dbiface.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Engine().ExecContext(ctx, "CREATE SCHEMA prefect"); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close()
	env := map[string]string{"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH": "prefect, public"}
	opts, err := config.OptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	db, err := dbiface.Open(ctx, dbiface.Config{URL: url, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateDB(ctx); err != nil {
		t.Fatal(err)
	}
	var inPrefect, inPublic int
	q := "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1"
	if err := db.Engine().QueryRowContext(ctx, q, "prefect").Scan(&inPrefect); err != nil {
		t.Fatal(err)
	}
	if err := db.Engine().QueryRowContext(ctx, q, "public").Scan(&inPublic); err != nil {
		t.Fatal(err)
	}
	if inPrefect < 30 || inPublic != 0 {
		t.Fatalf("tables: %d in prefect, %d in public; want all in prefect", inPrefect, inPublic)
	}
	m := migrate.New(db.Engine(), db.Dialect(), migrate.Options{})
	st, err := m.Status(ctx)
	if err != nil || len(st.Pending) != 0 {
		t.Fatalf("status in schema prefect: %+v, %v", st, err)
	}
	if drift, err := m.Drift(ctx); err != nil || len(drift) != 0 {
		t.Fatalf("drift in schema prefect: %v, %v", drift, err)
	}
	db.Flow.Create().SetName("in prefect").SaveX(ctx)
}
