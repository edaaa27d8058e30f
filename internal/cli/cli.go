// Package cli holds Hookline's subcommands, one file each, each with its own
// flag.FlagSet.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/secrets"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// Version is set at build time with -ldflags "-X github.com/hookline/hookline/internal/cli.Version=…".
var Version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"serve", "run the API and the delivery workers", runServe},
	{"migrate", "create or upgrade the database schema, then exit", runMigrate},
	{"admin-key", "create a new admin API key directly in the database and print it (recovery)", runAdminKey},
	{"send", "publish one event through a running server's API", runSend},
	{"listen", "run a local receiver that prints webhooks and verifies their signatures", runListen},
	{"bench", "load-test a deployment end to end, on this machine: rates, latency, losses, CPU, memory", runBench},
	{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "hookline", Version)
		return nil
	}},
}

// errUsage marks a command called wrongly: the message is printed and the exit
// code is 2.
var errUsage = errors.New("usage")

// errParsed is a flag parsing error the flag package has already printed, with
// the command's usage.
var errParsed = errors.New("invalid flags")

// parseFlags parses args into fs, which prints its own errors and usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errParsed
	}
	return nil
}

// Run executes the subcommand named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errParsed):
				return 2
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "hookline %s: %s\n", c.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
				return 2
			}
			fmt.Fprintln(stderr, "hookline:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "hookline: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Hookline delivers your product's events to your customers' webhooks: signed, retried, logged.")
	fmt.Fprintln(w, "\nUsage: hookline <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hookline <command> --help' for a command's flags. Every flag of serve and migrate")
	fmt.Fprintln(w, "can also be set with an environment variable: HOOKLINE_ + its name in capitals, '-' as '_'.")
}

// parseConfig declares the settings on a new flag set, parses args and loads the
// configuration.
func parseConfig(name string, args []string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet("hookline "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hookline %s [flags]\n\nFlags (a flag beats its environment variable, which beats the default):\n", name)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return config.Config{}, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return config.Config{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return config.Load(fs, os.Getenv)
}

// openStore opens and migrates the database named by cfg.DB: a PostgreSQL URL,
// or a SQLite file. Webhook secrets are encrypted with HOOKLINE_SECRET_KEY, or,
// with SQLite only, a key file kept beside the database (created on first use);
// the pepper of API key hashes, which it returns as a Hasher, is derived from
// the same key. API keys stored by earlier versions are rehashed.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, *apikey.Hasher, error) {
	var s store.Store
	var box *secrets.Box
	var err error
	if url, ok := postgres.ParseDSN(cfg.DB); ok {
		if cfg.SecretKey == "" {
			return nil, nil, errors.New("HOOKLINE_SECRET_KEY is required with PostgreSQL: every node must encrypt and decrypt webhook secrets with the same key (make one with: openssl rand -base64 32)")
		}
		if box, err = secretBox(log, cfg.SecretKey, ""); err != nil {
			return nil, nil, err
		}
		pg, err := postgres.Open(ctx, url, postgres.Options{Secrets: box, MaxConns: int32(cfg.PGMaxConns)})
		if err != nil {
			return nil, nil, err
		}
		s = pg
	} else {
		path, ok := sqlite.ParseDSN(cfg.DB)
		if !ok {
			return nil, nil, fmt.Errorf("--db %q: unsupported database; use a SQLite file path, a sqlite: URL or a postgres:// URL", cfg.DB)
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, nil, err
			}
		}
		if box, err = secretBox(log, cfg.SecretKey, path+".secret-key"); err != nil {
			return nil, nil, err
		}
		lite, err := sqlite.Open(ctx, path, sqlite.Options{Secrets: box, Synchronous: cfg.SQLiteSynchronous})
		if err != nil {
			return nil, nil, err
		}
		s = lite
	}
	hasher, err := apikey.NewHasher(box.Derive(apikey.Purpose))
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err == nil {
		var n int
		if n, err = apikey.Upgrade(ctx, s, hasher); n > 0 {
			log.Info("rehashed API keys with the server's pepper", "keys", n)
		}
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, hasher, nil
}

// secretBox returns the box that seals webhook secrets: with the configured key,
// or else the key kept in keyFile (generated there on first use).
func secretBox(log *slog.Logger, configured, keyFile string) (*secrets.Box, error) {
	var key []byte
	var err error
	switch {
	case configured != "":
		if key, err = secrets.ParseKey(configured); err != nil {
			return nil, fmt.Errorf("HOOKLINE_SECRET_KEY: %w", err)
		}
	default:
		var created bool
		if key, created, err = secrets.LoadOrCreateKeyFile(keyFile); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		if created {
			log.Warn("generated the key that encrypts webhook secrets; back it up with the database (or set HOOKLINE_SECRET_KEY)", "file", keyFile)
		}
	}
	return secrets.New(key)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
