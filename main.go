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
	"net/url"
	"os"
	"os/signal"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/paperfeed/paperfeed/scrape"
)

// defaultConfig is the configuration used when PAPERFEED_CONFIG is empty.
//
//go:embed config.yaml
var defaultConfig []byte

// defaultConfigName names the embedded config in messages.
const defaultConfigName = "(embedded config.yaml)"

// Env is the process environment paperfeed reads. The desc tags feed -h.
type Env struct {
	Config    string        `env:"PAPERFEED_CONFIG" desc:"path of the YAML config (empty: the config embedded in the binary)"`
	Addr      string        `env:"PAPERFEED_ADDR" envDefault:":8080" desc:"listen address"`
	BaseURL   string        `env:"PAPERFEED_BASE_URL" envDefault:"http://localhost:8080" desc:"public URL of the site, used in self links and OPML"`
	OutDir    string        `env:"PAPERFEED_OUT_DIR" envDefault:"public" desc:"where the static site is written"`
	DataDir   string        `env:"PAPERFEED_DATA_DIR" envDefault:"data" desc:"where state (the paper history) is kept"`
	Interval  time.Duration `env:"PAPERFEED_INTERVAL" envDefault:"1h" desc:"time between refreshes (Go duration)"`
	Retention time.Duration `env:"PAPERFEED_RETENTION" envDefault:"2160h" desc:"drop papers whose listing day is older than this (0 keeps everything)"`
	HFURL     string        `env:"PAPERFEED_HF_URL" envDefault:"https://huggingface.co" desc:"Hugging Face base URL (mirrors, tests)"`
	ArxivURL  string        `env:"PAPERFEED_ARXIV_URL" envDefault:"https://arxiv.org" desc:"arXiv base URL (mirrors, tests)"`
	UserAgent string        `env:"PAPERFEED_USER_AGENT" envDefault:"paperfeed/0.1 (+https://github.com/paperfeed/paperfeed)" desc:"User-Agent sent to sources"`
	LogLevel  string        `env:"PAPERFEED_LOG_LEVEL" envDefault:"info" desc:"debug, info, warn or error"`
	LogFormat string        `env:"PAPERFEED_LOG_FORMAT" envDefault:"text" desc:"text or json"`
}

// parseEnv reads Env from environ and checks every value.
func parseEnv(environ map[string]string) (Env, error) {
	var e Env
	if err := env.ParseWithOptions(&e, env.Options{Environment: environ}); err != nil {
		return e, fmt.Errorf("environment: %w", err)
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("environment: %s: %s", name, fmt.Sprintf(format, args...)))
	}
	for name, v := range map[string]*string{"PAPERFEED_BASE_URL": &e.BaseURL, "PAPERFEED_HF_URL": &e.HFURL, "PAPERFEED_ARXIV_URL": &e.ArxivURL} {
		u, err := url.Parse(*v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(name, "%q is not an http(s) URL", *v)
		}
		*v = strings.TrimRight(*v, "/")
	}
	if e.Interval <= 0 {
		bad("PAPERFEED_INTERVAL", "%s must be positive", e.Interval)
	}
	if e.Retention < 0 {
		bad("PAPERFEED_RETENTION", "%s must not be negative", e.Retention)
	}
	if _, err := logLevel(e.LogLevel); err != nil {
		bad("PAPERFEED_LOG_LEVEL", "%v", err)
	}
	if e.LogFormat != "text" && e.LogFormat != "json" {
		bad("PAPERFEED_LOG_FORMAT", "%q must be text or json", e.LogFormat)
	}
	return e, errors.Join(errs...)
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("unknown log level %q", s)
	}
	return l, nil
}

func newLogger(e Env, w io.Writer) *slog.Logger {
	level, _ := logLevel(e.LogLevel) // checked by parseEnv
	opts := &slog.HandlerOptions{Level: level}
	if e.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadConfig loads the file named by the environment, or the embedded config.
func loadConfig(e Env) (*Config, error) {
	if e.Config == "" {
		return ParseConfig(defaultConfigName, defaultConfig)
	}
	return LoadConfig(e.Config)
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
	fs.BoolVar(&o.once, "once", false, "run one refresh, write the site and exit (0 when at least one source worked)")
	fs.BoolVar(&o.check, "check", false, "validate the config, print each topic with how many papers of the current history it takes, and exit")
	fs.StringVar(&o.explain, "explain", "", "print the papers topic `slug` takes from the current history and which terms matched in which field, and exit")
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
	cfg, err := loadConfig(e)
	if err != nil {
		fmt.Fprintf(stderr, "paperfeed: invalid config: %v\n", err)
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
