package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/store"
)

// bootstrapAdmin makes sure a starting server can be reached with an admin
// key, and says at start which one works, never showing a key in the log: the
// configured HOOKLINE_ADMIN_KEY (stored if the database lacks it, whatever
// else it holds), a key generated for an empty database (printed once on
// stdout), or else the admin keys the database already holds.
func bootstrapAdmin(ctx context.Context, s store.Store, h *apikey.Hasher, adminKey string, stdout io.Writer, log *slog.Logger) error {
	now := time.Now()
	if adminKey != "" {
		k, stored, err := apikey.EnsureAdminKey(ctx, s, h, adminKey, now)
		if err != nil {
			return fmt.Errorf("store HOOKLINE_ADMIN_KEY: %w", err)
		}
		log.Info("admin access: HOOKLINE_ADMIN_KEY is an admin key for as long as it is set", "key_id", k.ID, "stored_now", stored)
		return nil
	}
	generated, err := apikey.Bootstrap(ctx, s, h, "", now)
	if err != nil {
		return fmt.Errorf("bootstrap admin key: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(stdout, "\nAdmin API key (shown once, store it now):\n\n    %s\n\n", generated)
		k, err := s.APIKeyGetByHash(ctx, h.Hash(generated))
		if err != nil {
			return fmt.Errorf("bootstrap admin key: %w", err)
		}
		log.Info("admin access: generated an admin key, printed once above; HOOKLINE_ADMIN_KEY is not set", "key_id", k.ID)
		return nil
	}
	n, err := s.APIKeyCount(ctx)
	if err != nil {
		return fmt.Errorf("count API keys: %w", err)
	}
	log.Info("admin access: HOOKLINE_ADMIN_KEY is not set; use an admin key the database holds (printed at its first start, or made by hookline admin-key), or set HOOKLINE_ADMIN_KEY and restart",
		"api_keys", n)
	return nil
}
