package bench

import (
	"context"
	"fmt"
)

// deadPath is the receiver's path for the dead webhook of --dead timeout: its
// requests are held and never answered.
const deadPath = "/dead"

// The backlog goes out in Hookline's largest batches, from a few publishers
// (as scenario 5 publishes its backlog).
const (
	backlogBatch       = 1000
	backlogConcurrency = 4
)

// deadEndpoint is where the dead webhook points.
type deadEndpoint struct {
	url     string
	release func() // frees the port of --dead refuse
}

// startDead prepares the endpoint of --dead kind: the receiver's dead path
// (timeout), or a loopback port that refuses connections (refuse).
func startDead(kind string, rc *receiver) (*deadEndpoint, error) {
	if kind == DeadTimeout {
		return &deadEndpoint{url: rc.base() + deadPath, release: func() {}}, nil
	}
	addr, release, err := refusingAddr()
	if err != nil {
		return nil, fmt.Errorf("reserving a loopback port with nothing listening: %w", err)
	}
	return &deadEndpoint{url: "http://" + addr + deadPath, release: release}, nil
}

// deadTenant is the tenant of the dead webhook: its own, so that no event of
// the measured load goes to it.
func deadTenant(runID string) string { return "bench-" + runID + "-dead" }

// createDeadWebhook creates the dead webhook, on the standard profile (a
// --hold profile is for the others), ordered with --ordered.
func createDeadWebhook(ctx context.Context, c *client, base, url string, o Options, runID string) (string, error) {
	in := map[string]any{"url": url, "tenant": deadTenant(runID), "events": []string{},
		"description": "hookline bench " + runID + ": dead endpoint (" + o.Dead + ")"}
	if o.Ordered {
		in["ordered"] = true
	}
	id, a, err := postWebhook(ctx, c, base, in)
	if err != nil {
		return "", fmt.Errorf("creating the dead webhook: %w", err)
	}
	if !created(a.status) {
		return "", setupError("creating the dead webhook (POST /v1/webhooks)", a, authHint(a))
	}
	return id, nil
}

// publishBacklog publishes --backlog events to the dead webhook, as fast as the
// server takes them, and reports it in rep. The events' ids differ from the
// measured load's ("hlbench-<run>-dead-<n>").
func publishBacklog(ctx context.Context, c clock, api *client, bases []string, runID string, o Options, rc *receiver, rep *Report) error {
	t := deadTenant(runID)
	pub := &publisher{
		load: newLoad(c, bases, o.Backlog, backlogBatch, 0), client: api, runID: runID + "-dead",
		padding: padding(o.PayloadBytes), accepted: make([]bool, o.Backlog),
		tenant:  func(int) string { return t },
		noBatch: "this server has no POST /v1/events/batch, through which --backlog is published: --backlog needs a Hookline server",
	}
	stop := reportProgress(o.Progress, "backlog published", o.Backlog, &pub.load, nil, rc)
	pub.run(ctx, backlogConcurrency)
	stop()
	if pub.fatal != nil {
		return fmt.Errorf("publishing the backlog: %w", pub.fatal)
	}
	r := publishResult(pub, o.Backlog)
	rep.Backlog = &r
	if r.Errors > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d backlog events could not be published after %d attempts each (last error: %s)", r.Errors, publishAttempts, r.LastError))
	}
	return nil
}
