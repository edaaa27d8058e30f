// Command hookline is the Hookline webhooks server. See `hookline help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookline/hookline/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
