package pgcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// tlsFiles are the certificate and key files of a TLS cluster, all PEM,
// all in <base>/tls.
type tlsFiles struct {
	caCert     string // the CA that signed the server and client certificates
	serverCert string // for localhost and 127.0.0.1, signed by caCert
	serverKey  string // mode 0600, owned by the server's user
	clientCert string // CN postgres, signed by caCert
	clientKey  string // mode 0600, owned by us (the test process)
	otherCA    string // an unrelated CA, for "wrong CA" tests
}

// certKey is a certificate with its private key.
type certKey struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// makeTLSFiles generates, in dir, a CA, a server certificate and a client
// certificate signed by it, and a second unrelated CA. The server's key is
// chowned to uid/gid (when uid >= 0) since PostgreSQL refuses a key not
// owned by its own user (or by root with mode 0640).
func makeTLSFiles(dir string, uid, gid int) (*tlsFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tls directory: %w", err)
	}
	f := &tlsFiles{
		caCert:     filepath.Join(dir, "ca.crt"),
		serverCert: filepath.Join(dir, "server.crt"),
		serverKey:  filepath.Join(dir, "server.key"),
		clientCert: filepath.Join(dir, "client.crt"),
		clientKey:  filepath.Join(dir, "client.key"),
		otherCA:    filepath.Join(dir, "other-ca.crt"),
	}
	ca, err := newCert(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "pgcluster test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	server, err := newCert(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	client, err := newCert(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "postgres"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	other, err := newCert(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "pgcluster unrelated CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("unrelated CA certificate: %w", err)
	}

	for _, w := range []struct {
		path string
		ck   *certKey
	}{{f.caCert, ca}, {f.serverCert, server}, {f.clientCert, client}, {f.otherCA, other}} {
		if err := writePEM(w.path, "CERTIFICATE", w.ck.der, 0o644); err != nil {
			return nil, err
		}
	}
	for _, w := range []struct {
		path  string
		ck    *certKey
		owner bool
	}{{f.serverKey, server, true}, {f.clientKey, client, false}} {
		der, err := x509.MarshalPKCS8PrivateKey(w.ck.key)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", w.path, err)
		}
		if err := writePEM(w.path, "PRIVATE KEY", der, 0o600); err != nil {
			return nil, err
		}
		if w.owner && uid >= 0 {
			if err := os.Chown(w.path, uid, gid); err != nil {
				return nil, fmt.Errorf("chown %s to the server's user: %w", w.path, err)
			}
		}
	}
	return f, nil
}

// newCert creates a certificate from template with a fresh ECDSA P-256 key,
// signed by parent (self-signed when parent is nil), valid from an hour
// ago for a day.
func newCert(template *x509.Certificate, parent *certKey) (*certKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(24 * time.Hour)
	signer, signerCert := key, template
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the new certificate: %w", err)
	}
	return &certKey{cert: cert, der: der, key: key}, nil
}

// writePEM writes one PEM block to a new file with the given mode.
func writePEM(path, blockType string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// WriteFile's mode is subject to the umask; make it exact.
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}
