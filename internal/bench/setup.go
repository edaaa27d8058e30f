package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// eventType is the type of every event the bench publishes.
const eventType = "hlbench.event"

// tenant is the tenant of webhook k: one shared by all with fan-out, one each
// otherwise. The run id keeps runs against one deployment apart.
func tenant(runID string, fanout bool, k int) string {
	if fanout {
		return "bench-" + runID
	}
	return "bench-" + runID + "-" + strconv.Itoa(k)
}

// setupError is a step before the load that the server refused: the bench
// cannot measure anything.
func setupError(step string, a answer, hint string) error {
	msg := fmt.Sprintf("%s: the server answered %s", step, truncate(a.String(), 2000))
	if hint != "" {
		msg += "\n" + hint
	}
	return errors.New(msg)
}

func authHint(a answer) string {
	switch a.status {
	case http.StatusUnauthorized:
		return "pass an API key with the webhooks:write and events:write scopes (admin for --hold) in --api-key or HOOKLINE_API_KEY"
	case http.StatusForbidden:
		return "the API key lacks a scope: the bench needs webhooks:write and events:write (admin for --hold)"
	}
	return ""
}

// createHoldProfile creates profile name: the server's standard profile whose
// first retry delay (the delay before the first attempt) is hold.
func createHoldProfile(ctx context.Context, c *client, base, name string, hold time.Duration) error {
	a, err := c.do(ctx, http.MethodGet, base+"/v1/profiles/standard", nil)
	if err != nil {
		return fmt.Errorf("--hold: GET /v1/profiles/standard: %w", err)
	}
	if a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed {
		return setupError("--hold: GET /v1/profiles/standard", a, "--hold needs a Hookline server: this target has no profiles (nullhook has none)")
	}
	if a.status != http.StatusOK {
		return setupError("--hold: GET /v1/profiles/standard", a, authHint(a))
	}
	// Raw members keep the envelope's key order, which a round trip through
	// map[string]any would sort.
	var std struct {
		Definition map[string]json.RawMessage `json:"definition"`
	}
	if err := json.Unmarshal(a.body, &std); err != nil || std.Definition == nil {
		return fmt.Errorf("--hold: GET /v1/profiles/standard: unexpected answer %s", truncate(string(a.body), 500))
	}
	policy := map[string]json.RawMessage{}
	if raw, ok := std.Definition["policy"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &policy); err != nil {
			return fmt.Errorf("--hold: the standard profile's policy: %w", err)
		}
	}
	// The delay before the first attempt, then quick retries: a delivery that
	// fails after the hold is not left waiting for minutes.
	policy["retry_schedule"], _ = json.Marshal([]string{hold.String(), "1s", "5s", "30s"})
	std.Definition["policy"], _ = json.Marshal(policy)
	std.Definition["description"], _ = json.Marshal("hookline bench: the standard profile, first attempt after " + hold.String())
	body, err := json.Marshal(map[string]any{"name": name, "definition": std.Definition})
	if err != nil {
		return err
	}
	if a, err = c.do(ctx, http.MethodPost, base+"/v1/profiles", body); err != nil {
		return fmt.Errorf("--hold: POST /v1/profiles: %w", err)
	}
	if a.status != http.StatusCreated {
		hint := authHint(a)
		if a.status == http.StatusForbidden {
			hint = "--hold creates a profile, which needs an admin API key with no tenant restriction"
		}
		return setupError("--hold: POST /v1/profiles", a, hint)
	}
	return nil
}

// createWebhooks subscribes webhook k of the receiver to every event of its
// tenant and returns the ids the server gave them.
func createWebhooks(ctx context.Context, c *client, base string, rc *receiver, o Options, runID, profile string) ([]string, error) {
	ids := make([]string, 0, o.Webhooks)
	for k := range o.Webhooks {
		in := map[string]any{"url": rc.url(k), "tenant": tenant(runID, o.Fanout, k), "events": []string{},
			"description": "hookline bench " + runID}
		if profile != "" {
			in["profile"] = profile
		}
		if o.Ordered {
			in["ordered"] = true
		}
		id, a, err := postWebhook(ctx, c, base, in)
		if err != nil {
			return ids, fmt.Errorf("creating webhook %d: %w", k, err)
		}
		if !created(a.status) {
			hint := authHint(a)
			if a.status == http.StatusUnprocessableEntity && o.Fanout {
				hint = "with --fanout all webhooks are in one tenant: the server's --max-webhooks-per-tenant (default 50) must allow --webhooks"
			}
			return ids, setupError(fmt.Sprintf("creating webhook %d of %d (POST /v1/webhooks)", k+1, o.Webhooks), a, hint)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// postWebhook creates one webhook and returns the server's answer, and the id
// it gave when it created it (only needed to delete the webhook afterwards).
func postWebhook(ctx context.Context, c *client, base string, in map[string]any) (id string, a answer, err error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", a, err
	}
	a, err = c.do(ctx, http.MethodPost, base+"/v1/webhooks", body)
	if err != nil || !created(a.status) {
		return "", a, err
	}
	var out struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(a.body, &out)
	return out.ID, a, nil
}

func created(status int) bool { return status == http.StatusCreated || status == http.StatusOK }

// checkDelivery sends webhook id a test event (POST /v1/webhooks/{id}/test) and
// fails when the server cannot reach the receiver — typically because it refuses
// loopback targets. Servers without the route (nullhook) are not checked.
func checkDelivery(ctx context.Context, c *client, base, id string) error {
	if id == "" {
		return nil
	}
	a, err := c.do(ctx, http.MethodPost, base+"/v1/webhooks/"+id+"/test", nil)
	if err != nil || a.status != http.StatusOK {
		return nil // not every server has it; publishing will tell
	}
	var out struct {
		Success bool   `json:"success"`
		Status  int    `json:"http_status"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(a.body, &out) != nil || out.Success {
		return nil
	}
	return fmt.Errorf("the server cannot deliver to the bench's receiver on 127.0.0.1 (test send: status %d, %s); "+
		"start it with --allow-private-targets (HOOKLINE_ALLOW_PRIVATE_TARGETS=true)", out.Status, out.Error)
}

// cleanup deletes what the run created on a server the bench does not own, so
// that its webhooks do not go on retrying to a receiver that is gone.
func cleanup(ctx context.Context, c *client, base string, ids []string, profile string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var errs []error
	for _, id := range ids {
		if id == "" {
			continue
		}
		a, err := c.do(ctx, http.MethodDelete, base+"/v1/webhooks/"+id, nil)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed {
			return errors.Join(errs...) // a server that cannot delete (nullhook)
		}
		if a.status != http.StatusNoContent && a.status != http.StatusOK {
			errs = append(errs, fmt.Errorf("DELETE /v1/webhooks/%s: %s", id, truncate(a.String(), 300)))
		}
	}
	if profile != "" {
		if a, err := c.do(ctx, http.MethodDelete, base+"/v1/profiles/"+profile, nil); err != nil {
			errs = append(errs, err)
		} else if a.status != http.StatusNoContent && a.status != http.StatusOK {
			errs = append(errs, fmt.Errorf("DELETE /v1/profiles/%s: %s", profile, truncate(a.String(), 300)))
		}
	}
	return errors.Join(errs...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
