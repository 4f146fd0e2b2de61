// Command paperfeed scrapes research paper listings (Hugging Face Daily
// Papers) on a timer, keeps a history of every paper, routes papers into
// per-topic feeds by keyword rules and writes Atom, RSS and JSON feeds that it
// serves as static files.
//
// main.go is the only place that reads the environment, parses flags or exits;
// everything below it gets its configuration passed in.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/topic"
)

// defaultConfig is the configuration used when PAPERFEED_CONFIG is empty.
//
//go:embed config.yaml
var defaultConfig []byte

// defaultConfigName names the embedded config in messages.
const defaultConfigName = "(embedded config.yaml)"

func newLogger(e Env, w io.Writer) *slog.Logger {
	level, _ := logLevel(e.LogLevel) // checked by parseEnv
	opts := &slog.HandlerOptions{Level: level}
	if e.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadConfig loads the file named by the environment, or the embedded
// config; ${NAME} in it is read from environ.
func loadConfig(e Env, environ map[string]string) (*Config, error) {
	lookup := func(name string) (string, bool) {
		v, ok := environ[name]
		return v, ok
	}
	if e.Config == "" {
		return ParseConfigEnv(defaultConfigName, defaultConfig, lookup)
	}
	return LoadConfigEnv(e.Config, lookup)
}

// usage prints the flags and every environment variable with its default.
func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: paperfeed [flags]\n\n")
	fmt.Fprintf(w, "Scrapes paper listings on a timer and serves per-topic Atom, RSS and JSON feeds.\n\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nEnvironment:\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	t := reflect.TypeFor[Env]()
	for i := range t.NumField() {
		f := t.Field(i)
		def := f.Tag.Get("envDefault")
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "  %s\t%s [default %s]\n", f.Tag.Get("env"), f.Tag.Get("desc"), def)
	}
	fmt.Fprintf(tw, "  GOMEMLIMIT\tGo's soft memory limit: past it the garbage collector works harder [default %dMiB]\n", memoryLimit>>20)
	tw.Flush()
}

// options are the command-line flags.
type options struct {
	once        bool
	healthcheck bool
	check       bool
	explain     string
}

// errUsage means the flags were wrong or -h was given; usage was printed.
var errUsage = errors.New("usage")

func parseFlags(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("paperfeed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.once, "once", false, "run one refresh, write the site, publish it when PAPERFEED_PUBLISH_URL is set, and exit (0 when at least one source worked); deliveries need the server")
	fs.BoolVar(&o.check, "check", false, "validate the config, print each topic with how many papers of the current history it takes and each like-topic's model, and exit")
	fs.StringVar(&o.explain, "explain", "", "print the papers topic `slug` takes from the current history and which terms matched in which field (a like-topic: each paper's score and the words for and against it), and exit")
	fs.BoolVar(&o.healthcheck, "healthcheck", false, "ask the running server's /healthz on PAPERFEED_ADDR and exit 0 when healthy (for container health checks)")
	if err := fs.Parse(args); err != nil {
		// Asked for, the help is the output (paperfeed -h | less);
		// after a bad flag it explains the error.
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, stdout)
			return o, flag.ErrHelp
		}
		fmt.Fprintf(stderr, "paperfeed: %v\n", err)
		usage(fs, stderr)
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paperfeed: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return o, errUsage
	}
	return o, nil
}

// hooks lets tests observe a running server.
type hooks struct {
	// ready is called with the listening address once the server accepts
	// connections.
	ready func(addr net.Addr)
	// refreshed is called after every refresh of the server loop.
	refreshed func(st Status, err error)
	// reloaded is called after every SIGHUP, with the reload's outcome.
	reloaded func(err error)
	// scrape adjusts the scrapers' politeness (delays, backoff) for tests.
	scrape func(*scrape.Options)
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer, h hooks) int {
	opts, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	e, err := parseEnv(environ)
	if err != nil {
		fmt.Fprintf(stderr, "paperfeed: %v\n", err)
		return 2
	}
	if opts.healthcheck {
		if err := healthcheck(ctx, e.Addr); err != nil {
			fmt.Fprintf(stderr, "paperfeed: unhealthy: %v\n", err)
			return 1
		}
		return 0
	}
	cfg, err := loadConfig(e, environ)
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	if opts.check || opts.explain != "" {
		if err := inspect(e, cfg, opts, stdout); err != nil {
			fmt.Fprintf(stderr, "paperfeed: %v\n", err)
			return 1
		}
		return 0
	}
	log := newLogger(e, stderr)
	opt := scrape.Options{UserAgent: e.UserAgent, Logger: log}
	if h.scrape != nil {
		h.scrape(&opt)
	}
	a, err := newApp(e, cfg, opt, log, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "paperfeed: %v\n", err)
		return 1
	}
	a.environ = environ
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("close", "err", err)
		}
	}()
	if opts.once {
		if _, err := a.Refresh(ctx); err != nil {
			fmt.Fprintf(stderr, "paperfeed: %s\n", oneLine(err))
			return 1
		}
		if err := a.Publish(ctx); err != nil {
			fmt.Fprintf(stderr, "paperfeed: %s\n", oneLine(err))
			return 1
		}
		return 0
	}
	// Signals belong to the process: SIGHUP reloads the config of a
	// running server (SIGINT and SIGTERM cancel ctx in main).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := a.Serve(ctx, hup, h); err != nil {
		fmt.Fprintf(stderr, "paperfeed: %v\n", err)
		return 1
	}
	return 0
}

// printConfigError writes each error of an invalid config on its own line,
// with a query's caret drawing under it: this is a terminal, not a log.
func printConfigError(w io.Writer, err error) {
	errs := unjoin(err)
	fmt.Fprintf(w, "paperfeed: invalid config:")
	sep := " "
	if len(errs) > 1 {
		sep = "\n  "
	}
	for _, e := range errs {
		fmt.Fprintf(w, "%s%s\n", sep, e)
		var qe *topic.QueryError
		if errors.As(e, &qe) {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(qe.Caret(), "\n", "\n  "))
		}
	}
}

// healthcheck asks /healthz of a server listening on addr, over loopback.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("PAPERFEED_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return nil
}

// oneLine folds a (joined) error onto one line for a terse exit message.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func environMap(kv []string) map[string]string {
	m := make(map[string]string, len(kv))
	for _, s := range kv {
		if k, v, ok := strings.Cut(s, "="); ok {
			m[k] = v
		}
	}
	return m
}

// memoryLimit is the heap size past which the garbage collector works
// harder (Go's soft memory limit), unless GOMEMLIMIT says otherwise. A
// refresh that re-renders many topics makes garbage fast, and the collector's
// default lets the heap reach twice what is live; paperfeed should fit a
// small machine. Above the limit the collector only runs more often: the
// process never fails for it.
const memoryLimit = 192 << 20

func main() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], environMap(os.Environ()), os.Stdout, os.Stderr, hooks{})
	stop()
	os.Exit(code)
}
