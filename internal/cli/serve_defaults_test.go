package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
)

// A --default-profile the server does not have stops it at start, saying how
// profiles are loaded, rather than refusing every webhook created later.
func TestServeUnknownDefaultProfile(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	code := Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "h.db"),
		"--admin-key", "given-admin-key-0123456789", "--default-profile", "formvox"}, &stdout, &stderr)
	if out := stderr.String(); code != 1 || !strings.Contains(out, `--default-profile (HOOKLINE_DEFAULT_PROFILE) "formvox"`) || !strings.Contains(out, "--profiles") {
		t.Errorf("got exit %d, stderr:\n%s\nwant 1 naming --default-profile and how profiles are loaded", code, out)
	}
}
