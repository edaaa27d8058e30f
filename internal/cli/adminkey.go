package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hookline/hookline/internal/apikey"
	"github.com/hookline/hookline/internal/hookline"
)

// runAdminKey creates an admin API key directly in the database, without the
// API: the way back in for an operator who has lost every admin key. It needs
// what serve needs to open the database (--db, and --secret-key where serve
// has it), and the server need not be stopped.
func runAdminKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("admin-key", args, stderr)
	if err != nil {
		return err
	}
	s, hasher, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer s.Close()
	name := "recovery admin (hookline admin-key, " + time.Now().UTC().Format(time.DateTime) + " UTC)"
	k, key, err := apikey.Create(ctx, s, hasher, apikey.CreateParams{Name: name, Scopes: []string{hookline.ScopeAdmin}, Now: time.Now()})
	if err != nil {
		return fmt.Errorf("create admin key: %w", err)
	}
	fmt.Fprintf(stdout, "\nAdmin API key (shown once, store it now):\n\n    %s\n\nIt is key %s, %q; delete the keys you no longer trust with it.\n", key, k.ID, k.Name)
	return nil
}
