package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/keyring"
	"github.com/hookline/hookline/internal/metrics"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	s, hasher, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()

	if err := bootstrapAdmin(ctx, s, hasher, cfg.AdminKey, stdout, log); err != nil {
		return err
	}

	profiles, err := profile.NewRegistry(s, profile.Defaults{
		RetrySchedule: cfg.RetrySchedule, Timeout: cfg.Timeout, Jitter: 0.1,
		AutoDisable:          profile.AutoDisableRule{Failures: cfg.AutoDisableFailures, After: cfg.AutoDisableAfter},
		MaxPayloadBytes:      cfg.MaxPayloadBytes,
		MaxWebhooksPerTenant: cfg.MaxWebhooksPerTenant,
	})
	if err != nil {
		return err
	}
	if cfg.Profiles != "" {
		names, err := profiles.LoadFiles(cfg.Profiles)
		if err != nil {
			return err
		}
		log.Info("loaded profiles", "from", cfg.Profiles, "names", names)
	}
	if _, err := profiles.Get(ctx, cfg.DefaultProfile); err != nil {
		return fmt.Errorf("config: --default-profile (HOOKLINE_DEFAULT_PROFILE) %q: %w; a profile is built in (standard), loaded with --profiles or created with POST /v1/profiles", cfg.DefaultProfile, err)
	}

	ring := keyring.New(keyring.Options{Store: s, Hasher: hasher, Logger: log})
	if cfg.Keyspaces != "" {
		names, err := ring.LoadFiles(cfg.Keyspaces)
		if err != nil {
			return err
		}
		log.Info("loaded key spaces", "from", cfg.Keyspaces, "names", names)
	}
	ringCtx, stopRing := context.WithCancel(context.Background())
	ringDone := make(chan struct{})
	go func() { defer close(ringDone); ring.Run(ringCtx) }()
	defer func() { stopRing(); <-ringDone }() // writes the last-used times noted last

	m := metrics.New()
	engine := delivery.New(delivery.Options{
		Store:              s,
		Profiles:           profiles,
		Sender:             delivery.NewSender(delivery.SenderOptions{AllowPrivate: cfg.AllowPrivateTargets, BodyLimit: cfg.ResponseBodyLimit, MaxConnsPerHost: cfg.Workers}),
		Policy:             delivery.Policy{Schedule: cfg.RetrySchedule, Jitter: 0.1},
		Timeout:            cfg.Timeout,
		Lease:              cfg.Lease,
		Workers:            cfg.Workers,
		WebhookConcurrency: cfg.WebhookConcurrency,
		AutoDisable:        store.AutoDisableRule{Failures: cfg.AutoDisableFailures, After: cfg.AutoDisableAfter},
		Metrics:            m,
		Logger:             log,
	})
	if err := engine.Start(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		engine.Shutdown(context.Background())
		return err
	}
	srv := api.NewHTTPServer(api.New(api.Options{Store: s, Engine: engine, Config: cfg, Metrics: m, Logger: log, Hasher: hasher, Keyring: ring}),
		api.ServerOptions{ReadTimeout: cfg.ReadTimeout, Logger: log})
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(api.NewListener(ln)) }()
	go purgeLoop(ctx, s, cfg, log)
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			srv.Close()
			engine.Shutdown(context.Background())
			return err
		}
		defer stop()
	}
	log.Info("hookline is serving", "addr", ln.Addr().String(), "db", cfg.DB, "workers", cfg.Workers,
		"allow_private_targets", cfg.AllowPrivateTargets)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			engine.Shutdown(context.Background())
			return err
		}
	}
	log.Info("shutting down: finishing requests and attempts in flight", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	if err := engine.Shutdown(sctx); err != nil {
		log.Warn("delivery shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}

// purgeLoop deletes, in bounded batches, every ten minutes, events and
// attempts older than the retention (none when it is 0), and Idempotency-Key
// records that have expired, whatever the retention: they keep answers that
// may show a secret.
func purgeLoop(ctx context.Context, s store.Store, cfg config.Config, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		for cfg.Retention > 0 {
			n, err := s.Purge(ctx, store.PurgeParams{Before: time.Now().Add(-cfg.Retention), Limit: 1000})
			if err != nil {
				if ctx.Err() == nil {
					log.Error("purging old events failed", "err", err)
				}
				break
			}
			if n > 0 {
				log.Info("purged old events and attempts", "rows", n)
			}
			if n < 1000 {
				break
			}
		}
		for {
			n, err := s.IdempotencyPurge(ctx, time.Now(), 1000)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("purging expired idempotency keys failed", "err", err)
				}
				break
			}
			if n > 0 {
				log.Info("purged expired idempotency keys", "rows", n)
			}
			if n < 1000 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// servePprof serves Go's runtime profiles on their own listener, apart from the
// API, and returns what stops it.
func servePprof(addr string, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("serving pprof profiles", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
