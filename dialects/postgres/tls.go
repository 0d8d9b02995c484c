package postgres

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/prefectdb/prefectdb/config"
)

// configureTLS sets up TLS the way Prefect's TLS settings do: the server's
// certificate verified against o.CAFile (or the system's roots), its host
// name checked unless o.SkipHostnameCheck, TLS 1.2 at least, a client
// certificate when o.CertFile and o.KeyFile are set. There is no plain-text
// fallback, for any host of the URL.
func configureTLS(cfg *pgx.ConnConfig, o config.TLSOptions) error {
	roots, err := x509.SystemCertPool()
	if err != nil || o.CAFile != "" {
		roots = x509.NewCertPool()
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return fmt.Errorf("TLS: read the CA file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TLS: the CA file %s holds no PEM certificate", o.CAFile)
		}
	}
	var certs []tls.Certificate
	switch {
	case o.CertFile != "" && o.KeyFile != "":
		c, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return fmt.Errorf("TLS: load the client certificate and key: %w", err)
		}
		certs = []tls.Certificate{c}
	case o.CertFile != "" || o.KeyFile != "":
		return errors.New("TLS: a client certificate needs both the certificate file and the key file")
	}
	configFor := func(host string) *tls.Config {
		c := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: certs, ServerName: host}
		if o.SkipHostnameCheck {
			// Verify the chain, not the name: crypto/tls checks both or
			// neither, so the chain is checked here.
			c.InsecureSkipVerify = true
			c.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("TLS: the server sent no certificate")
				}
				inter := x509.NewCertPool()
				for _, ic := range cs.PeerCertificates[1:] {
					inter.AddCert(ic)
				}
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
				return err
			}
		}
		return c
	}
	cfg.TLSConfig = configFor(cfg.Host)
	var fallbacks []*pgconn.FallbackConfig
	seen := map[string]bool{}
	for _, fb := range append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port}}, cfg.Fallbacks...) {
		key := fmt.Sprintf("%s:%d", fb.Host, fb.Port)
		if seen[key] {
			continue // the plain-text twin of a TLS attempt (sslmode=prefer)
		}
		seen[key] = true
		if fb.Host == cfg.Host && fb.Port == cfg.Port {
			continue // the first host is cfg itself
		}
		fallbacks = append(fallbacks, &pgconn.FallbackConfig{Host: fb.Host, Port: fb.Port, TLSConfig: configFor(fb.Host)})
	}
	cfg.Fallbacks = fallbacks
	return nil
}
