package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// attempt makes one HTTP attempt for a claimed delivery, let in by its gate at
// started, and records its outcome; it returns what the attempt says of the
// endpoint's health, for the gate.
func (e *Engine) attempt(j job, started time.Time) signal {
	d := &j.delivery
	now := e.o.Now()
	done := store.DeliveryCompleteParams{
		DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: j.token},
		WebhookID:     d.WebhookID,
		Now:           now,
	}
	wh := e.activeWebhook(e.sendCtx, j, done)
	if wh == nil {
		return signal{}
	}

	prof, err := e.o.Profiles.Get(e.sendCtx, wh.Profile)
	switch {
	case errors.Is(err, store.ErrNotFound):
		done.Status, done.Error = hookline.DeliveryFailed, fmt.Sprintf("the webhook's profile %q does not exist", wh.Profile)
		e.complete(done, d, wh)
		return signal{}
	case err != nil:
		e.log.Error("loading the webhook's profile failed; delivery released", "delivery", d.ID, "profile", wh.Profile, "err", err)
		e.keepForReleaseNow(d.ID, j.token)
		return signal{}
	}

	if !e.renewLease(&j, prof.Policy.Timeout) {
		return signal{}
	}

	a := &hookline.Attempt{
		ID: hookline.NewID(hookline.PrefixAttempt), DeliveryID: d.ID, WebhookID: wh.ID, EventID: j.event.ID,
		EventType: j.event.Type, Tenant: j.event.Tenant, Number: d.Attempts + 1, StartedAt: now,
	}
	e.stalls.begin()
	sendStart := time.Now()
	resp, sent := e.send(e.sendCtx, prof, wh, j.event, d.ID, a)
	sendEnd := time.Now()
	e.stalls.end()
	e.gates.responded(d.WebhookID, started)
	if e.sendCtx.Err() != nil {
		// Aborted by a hard shutdown: not the receiver's fault, so no attempt counts.
		e.keepForRelease(d.ID, j.token)
		return signal{}
	}
	done.Attempt = a
	done.Now = e.o.Now()
	e.o.Metrics.AttemptDuration.Observe(resp.Duration.Seconds())

	pol := &prof.Policy
	verdict := JudgeWith(resp.StatusCode, resp.Err, pol.RetryOn, pol.DisableOnGone)
	switch verdict {
	case Success:
		done.Status = hookline.DeliverySucceeded
	case Retry:
		retryAfter := ParseRetryAfter(resp.StatusCode, resp.Header, done.Now)
		if delay, ok := (Policy{Schedule: pol.RetrySchedule, Jitter: pol.Jitter}).NextDelay(a.Number, retryAfter); ok {
			done.Status, done.NextAttemptAt = hookline.DeliveryPending, done.Now.Add(delay)
		} else {
			done.Status = hookline.DeliveryFailed
		}
	case Fail:
		done.Status = hookline.DeliveryFailed
	case Gone:
		done.Status, done.DisableReason = hookline.DeliveryFailed, "the endpoint answered 410 Gone"
	}
	// A failed attempt counts toward the rule's attempts part even when it is
	// retried, so a retried one may turn the webhook off too (and needs the
	// webhook.disabled event ready).
	if done.Status != hookline.DeliverySucceeded {
		done.AutoDisable = autoDisableRule(pol.AutoDisable)
	}
	if done.Status == hookline.DeliveryFailed || done.Status == hookline.DeliveryPending && pol.AutoDisable.Attempts > 0 {
		done.Ops = e.opsEvents(&done, d, wh)
	}
	stale := e.complete(done, d, wh)
	switch {
	case !sent:
		return signal{}
	case stale:
		// Another claim took the delivery while this attempt ran (this process
		// was paused past its lease, say): its outcome says nothing reliable.
		return signal{}
	case e.stalls.overlaps(sendStart, sendEnd):
		// The process itself stood still during the attempt: its duration, or
		// its timeout, measures this process, not the endpoint.
		return signal{}
	}
	s := signalOf(resp)
	s.failing = verdict == Retry && retries(wh, prof)
	if s.overload && done.Status == hookline.DeliveryPending && ParseRetryAfter(resp.StatusCode, resp.Header, done.Now) > 0 {
		s.pause = done.NextAttemptAt
	}
	return s
}

// activeWebhook returns a job's webhook when it is active. Otherwise the job
// is dealt with here, as no attempt would help: cancelled when its webhook
// was deleted or disabled, released when the webhook cannot be loaded; and
// it returns nil. done is the job's completion, to fill in.
func (e *Engine) activeWebhook(ctx context.Context, j job, done store.DeliveryCompleteParams) *hookline.Webhook {
	d := &j.delivery
	wh, err := e.cache.get(ctx, d.WebhookID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		done.Status, done.Error = hookline.DeliveryCancelled, "webhook was deleted"
		e.complete(done, d, nil)
		return nil
	case err != nil:
		e.log.Error("loading webhook failed; delivery released", "delivery", d.ID, "err", err)
		e.keepForReleaseNow(d.ID, j.token)
		return nil
	case !wh.Active:
		done.Status, done.Error = hookline.DeliveryCancelled, "webhook is disabled"
		e.complete(done, d, wh)
		return nil
	}
	return wh
}

// signalOf reads an endpoint's health from the response to an attempt: a
// transport failure (timeout, refused or reset connection), 429 and 503 are
// overload; 2xx is success.
func signalOf(resp Response) signal {
	s := signal{duration: resp.Duration, judged: true}
	switch c := resp.StatusCode; {
	case c == 0:
		s.overload = resp.Err != nil
	case c >= 200 && c <= 299:
		s.success = true
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable:
		s.overload = true
	}
	return s
}

// send renders and makes the request, filling the attempt's outcome; sent is
// false when the request could not be rendered, so none went out.
func (e *Engine) send(ctx context.Context, prof *profile.Profile, wh *hookline.Webhook, ev *hookline.Event, deliveryID string, a *hookline.Attempt) (resp Response, sent bool) {
	req, err := prof.Render(profile.Message{
		Event: ev, Webhook: wh, DeliveryID: deliveryID, Attempt: a.Number, SentAt: a.StartedAt,
		Secrets: signingSecrets(wh, a.StartedAt),
	})
	if err != nil {
		resp.Err = err
	} else {
		sent = true
		a.RequestHeaders = requestHeaderMap(req.Header)
		resp = e.o.Sender.Send(ctx, wh.URL, req.Header, req.Body, prof.Policy.Timeout)
	}
	a.StatusCode = resp.StatusCode
	a.DurationMS = resp.Duration.Milliseconds()
	a.ResponseHeaders = HeaderMap(resp.Header)
	a.ResponseBody = resp.Body
	if resp.Err != nil {
		// Transport errors may quote what the receiver sent: a status line of
		// megabytes, say. The delivery's last error and delivery.failed copy this.
		a.Error = capText(resp.Err.Error(), maxErrorBytes)
	} else if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return resp, sent
}

// requestHeaderMap is what an attempt's log keeps of a request's headers:
// HeaderMap's, with the values of credential-bearing headers (a webhook's
// Authorization, say) masked. Names are judged whole, before HeaderMap may cut
// them.
func requestHeaderMap(h http.Header) map[string]string {
	var masked http.Header // a copy, made at the first sensitive header
	for k := range h {
		if !hookline.SensitiveHeader(k) {
			continue
		}
		if masked == nil {
			masked = h.Clone()
		}
		masked[k] = []string{hookline.MaskedValue}
	}
	if masked == nil {
		return HeaderMap(h)
	}
	return HeaderMap(masked)
}

// complete stores an outcome, retrying briefly if the store is unavailable (if it
// stays so, the lease runs out and the delivery is attempted again: at least once).
// It reports whether the outcome was stale: another claim had taken the
// delivery, and nothing of it was stored.
func (e *Engine) complete(p store.DeliveryCompleteParams, d *hookline.Delivery, wh *hookline.Webhook) (stale bool) {
	var res []store.DeliveryCompleteResult
	var err error
	for i, backoff := 0, 50*time.Millisecond; i < 6; i, backoff = i+1, backoff*2 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err = e.completions.run(ctx, []store.DeliveryCompleteParams{p})
		cancel()
		if err == nil {
			break
		}
		time.Sleep(backoff)
	}
	if err != nil {
		e.log.Error("recording an attempt failed; the delivery will be retried when its lease ends", "delivery", d.ID, "err", err)
		return
	}
	r := res[0]
	if p.Attempt != nil {
		outcome := "retry"
		switch {
		case !r.Applied:
			outcome = "stale"
		case p.Status == hookline.DeliverySucceeded:
			outcome = "success"
		case p.Status == hookline.DeliveryFailed:
			outcome = "failed"
		}
		e.o.Metrics.Attempts.WithLabelValues(outcome).Inc()
	}
	if !r.Applied {
		e.log.Debug("an outcome came after another claim took the delivery; not recorded", "delivery", d.ID)
		return true
	}
	if p.Status != hookline.DeliveryPending && wh != nil && wh.Ordered {
		e.Notify() // the webhook's next delivery in order is due now
	}
	switch p.Status {
	case hookline.DeliveryPending:
		e.scheduleWake(p.NextAttemptAt)
		return
	case hookline.DeliverySucceeded, hookline.DeliveryCancelled:
		e.o.Metrics.DeliveriesEnded.WithLabelValues(p.Status).Inc()
		return
	}
	e.o.Metrics.DeliveriesEnded.WithLabelValues(p.Status).Inc()
	if r.WebhookDisabled && wh != nil {
		e.cache.invalidate(wh.ID, wh.Tenant)
		e.o.Metrics.WebhooksDisabled.Inc()
		e.log.Warn("webhook disabled", "webhook", wh.ID, "tenant", wh.Tenant, "reason", r.DisabledReason)
	}
	for _, op := range r.Ops {
		e.o.Metrics.EventsPublished.Inc()
		for _, od := range op.Deliveries {
			e.dueAt(*od.NextAttemptAt)
		}
	}
	return false
}

// renewLease makes sure an attempt that may take timeout ends within the job's
// lease; it reports whether the attempt may go ahead. Once a lease has run out,
// another node may claim the delivery and send it too, at the same time: a job
// that waited in this node's queue until its lease is too short (deliveries are
// claimed in batches, and workers may be slow to free) has it renewed first, and
// is dropped if another node has taken it meanwhile.
func (e *Engine) renewLease(j *job, timeout time.Duration) bool {
	now := e.o.Now()
	if j.leaseUntil.Sub(now) >= timeout {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	until := now.Add(e.o.Lease)
	renewed, err := e.renew(ctx, *j, until)
	switch {
	case err != nil:
		e.log.Error("renewing a lease failed; the delivery will be attempted when its lease ends", "delivery", j.delivery.ID, "err", err)
		return false
	case !renewed:
		e.log.Debug("lease ran out in the queue and another claim took the delivery", "delivery", j.delivery.ID)
		return false
	}
	j.leaseUntil = until
	return true
}

func (e *Engine) keepForReleaseNow(id, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.o.Store.DeliveryRelease(ctx, []store.DeliveryLease{{ID: id, LeaseToken: token}}); err != nil {
		e.log.Error("releasing a delivery failed; it will be retried when its lease ends", "delivery", id, "err", err)
	}
}

type deliveryFailedData struct {
	DeliveryID string `json:"delivery_id"`
	WebhookID  string `json:"webhook_id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	Tenant     string `json:"tenant"`
	Attempts   int    `json:"attempt_count"`
	// LastHTTPStatus is null when the last attempt had no answer (a
	// timeout, a refused connection: LastError says which), as in the log.
	LastHTTPStatus *int   `json:"last_http_status"`
	LastError      string `json:"last_error"`
}

type webhookDisabledData struct {
	WebhookID string `json:"webhook_id"`
	Tenant    string `json:"tenant"`
	URL       string `json:"url"`
	Reason    string `json:"reason"`
}

// opsEvents prepares the operational events a failed delivery may cause:
// delivery.failed (unless it was itself an operational event's) and, should the
// completion turn the webhook off, webhook.disabled. The store keeps them in the
// completion's commit, so a crash cannot lose them.
func (e *Engine) opsEvents(p *store.DeliveryCompleteParams, d *hookline.Delivery, wh *hookline.Webhook) *store.OpsEvents {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subs, err := e.cache.active(ctx, hookline.TenantOps)
	if err != nil {
		// The events are still stored, for the API; no webhook gets them.
		e.log.Error("loading the webhooks of operational events failed", "err", err)
	}
	now := p.Now.UTC().Truncate(time.Millisecond)
	ops := &store.OpsEvents{}
	if d.Tenant != hookline.TenantOps {
		data := deliveryFailedData{
			DeliveryID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType,
			Tenant: d.Tenant, Attempts: d.Attempts, LastError: p.Error,
			LastHTTPStatus: (&hookline.Attempt{StatusCode: d.LastStatus}).HTTPStatus(),
		}
		if a := p.Attempt; a != nil {
			data.Attempts, data.LastHTTPStatus, data.LastError = a.Number, a.HTTPStatus(), a.Error
		}
		ops.Failed = e.opsEvent(subs, hookline.EventDeliveryFailed, now, marshalOps(data))
	}
	if wh != nil {
		ops.Disabled = e.opsEvent(subs, hookline.EventWebhookDisabled, now, nil)
		ops.DisabledData = func(reason string) json.RawMessage {
			// The reason is the store's or the engine's wording, never a
			// receiver's; capped all the same, like last_error.
			return marshalOps(webhookDisabledData{WebhookID: wh.ID, Tenant: wh.Tenant, URL: wh.URL, Reason: capText(reason, maxErrorBytes)})
		}
	}
	return ops
}

// opsEvent returns an operational event with a delivery to each subscribed webhook.
func (e *Engine) opsEvent(subs []*hookline.Webhook, eventType string, now time.Time, data json.RawMessage) *store.EventInsertParams {
	p := &store.EventInsertParams{Event: &hookline.Event{
		ID: hookline.NewID(hookline.PrefixEvent), Tenant: hookline.TenantOps, Type: eventType,
		Data: data, Timestamp: now, CreatedAt: now,
	}}
	for _, wh := range subs {
		if wh.Matches(eventType) {
			p.Deliveries = append(p.Deliveries, store.DeliveryInsert{
				ID: hookline.NewID(hookline.PrefixDelivery), WebhookID: wh.ID, Ordered: wh.Ordered,
				NextAttemptAt: now.Add(e.firstDelay(context.Background(), wh)),
			})
		}
	}
	return p
}

// signingSecrets are the secrets that sign a request sent at t: the webhook's
// secret, and the one it replaced while the rotation's grace period lasts.
func signingSecrets(wh *hookline.Webhook, t time.Time) []string {
	if wh.PreviousSecret != "" && wh.PreviousSecretUntil != nil && t.Before(*wh.PreviousSecretUntil) {
		return []string{wh.Secret, wh.PreviousSecret}
	}
	return []string{wh.Secret}
}

// firstDelay is the delay before a webhook's first attempt, from its profile's
// schedule.
func (e *Engine) firstDelay(ctx context.Context, wh *hookline.Webhook) time.Duration {
	prof, _ := e.o.Profiles.Get(ctx, wh.Profile)
	return firstDelayOf(prof, e.o.Profiles)
}

// firstDelayOf is the first delay of prof's schedule, or of the built-in
// profile's when prof could not be loaded (nil): the delivery then fails or is
// released when attempted, with the reason.
func firstDelayOf(prof *profile.Profile, reg *profile.Registry) time.Duration {
	if prof == nil {
		prof, _ = reg.Fixed(profile.Standard)
	}
	return prof.Policy.RetrySchedule[0]
}

// autoDisableRule is the store's form of a profile's auto-disable rule.
func autoDisableRule(r profile.AutoDisableRule) store.AutoDisableRule {
	return store.AutoDisableRule{Failures: r.Failures, After: r.After, Attempts: r.Attempts}
}
