// Command loadtest serves a directory with serve.Handler on a loopback
// address, for run.sh to measure against nginx serving the same files (a feed
// and its .gz copy) with gzip_static. It refuses any address that is
// not loopback, so a load test can never be pointed at a real network.
//
// Usage: loadtest -dir DIR [-addr 127.0.0.1:PORT] [-max-age 15m] [-max-conns N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/paperfeed/paperfeed/serve"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	dir := fl.String("dir", "", "directory to serve")
	addr := fl.String("addr", "127.0.0.1:0", "loopback address to listen on")
	maxAge := fl.Duration("max-age", 15*time.Minute, "Cache-Control max-age")
	maxConns := fl.Int("max-conns", 0, "client connections open at once (0: half the soft RLIMIT_NOFILE)")
	cpuProfile := fl.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("addr %q: %w", *addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("addr %q: only a loopback IP is allowed", *addr)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h := serve.New(*dir, serve.Options{MaxAge: *maxAge, Logger: log, MaxConns: *maxConns})
	if err := h.Reload(); err != nil {
		return fmt.Errorf("load %s: %w", *dir, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Served as the service serves: the same http.Server settings, see
	// serve.NewServer.
	srv := h.Server(h)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "dir", *dir)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
