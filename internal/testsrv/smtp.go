package testsrv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPMode is how an SMTP server offers TLS.
type SMTPMode int

const (
	// SMTPPlain offers no TLS at all.
	SMTPPlain SMTPMode = iota
	// SMTPStartTLS offers STARTTLS on a plain connection (port 587's way).
	SMTPStartTLS
	// SMTPImplicitTLS speaks TLS from the first byte (port 465's way).
	SMTPImplicitTLS
)

// SMTPOptions say how SMTP starts a server.
type SMTPOptions struct {
	Mode SMTPMode
	// User and Password, when set, are the one account the server takes
	// (AUTH PLAIN, offered only over TLS), and mail is refused without it.
	User, Password string
	// Reject, when set, answers the data of each message: a non-nil
	// error (an *smtp.SMTPError for a reply code of its own) refuses it.
	Reject func(m Mail) error
}

// Mail is one message an SMTP server accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
	TLS  bool // whether the session was encrypted
	Auth string
}

// SMTPServer is an SMTP server (github.com/emersion/go-smtp, in this
// process) on 127.0.0.1 that keeps what it accepts. Its certificate is
// self-signed for 127.0.0.1; clients trust it through RootCAs.
type SMTPServer struct {
	Addr    string // 127.0.0.1:PORT
	Host    string
	Port    int
	RootCAs *x509.CertPool

	srv      *smtp.Server
	opts     SMTPOptions
	mu       sync.Mutex
	mails    []Mail
	received chan Mail
}

// SMTP starts an SMTP server on a free port of 127.0.0.1; it is closed
// when the test ends.
func SMTP(t testing.TB, o SMTPOptions) *SMTPServer {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &SMTPServer{opts: o, RootCAs: pool, received: make(chan Mail, 1000)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &smtpSession{srv: s, tls: isTLS}, nil
	}))
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	var ln net.Listener
	var err error
	switch o.Mode {
	case SMTPImplicitTLS:
		srv.TLSConfig = tlsConfig
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	case SMTPStartTLS:
		srv.TLSConfig = tlsConfig
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("smtp: listen: %v", err)
	}
	s.srv = srv
	s.Addr = ln.Addr().String()
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = addr.IP.String(), addr.Port
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("smtp: close: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp: serve: %v", err)
		}
	})
	return s
}

// Mails is every message accepted so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Received delivers each message as it is accepted.
func (s *SMTPServer) Received() <-chan Mail { return s.received }

type smtpSession struct {
	srv  *SMTPServer
	tls  bool
	auth string
	mail Mail
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.srv.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.opts.User || pass != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.auth = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.User != "" && s.auth == "" {
		return smtp.ErrAuthRequired
	}
	s.mail = Mail{From: from, TLS: s.tls, Auth: s.auth}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := s.mail
	m.Data = data
	if s.srv.opts.Reject != nil {
		if err := s.srv.opts.Reject(m); err != nil {
			return err
		}
	}
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, m)
	s.srv.mu.Unlock()
	select {
	case s.srv.received <- m:
	default:
	}
	return nil
}

func (s *smtpSession) Reset()        { s.mail = Mail{TLS: s.tls, Auth: s.auth} }
func (s *smtpSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("smtp: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("smtp: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("smtp: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
