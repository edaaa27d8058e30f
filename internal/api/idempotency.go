package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// The Idempotency-Key header on a POST (docs/api.md, "Idempotency"): the
// first request with a key runs and its answer is kept for idempotencyTTL; a
// retry with the same key and the same request gets that answer again, with
// Idempotent-Replayed: true, and runs nothing; the same key with another
// request is refused (422), and so is one that arrives while the first still
// runs (409). Keys belong to the API key that sends them.
const (
	// idempotencyTTL is how long a key and its answer are kept.
	idempotencyTTL = 24 * time.Hour
	// idempotencyMaxKey bounds a key's length.
	idempotencyMaxKey = 255
	// idempotencyMaxAnswer bounds the answer kept; a larger one is sent but
	// not kept, and a retry runs again. No API answer to a POST comes near.
	idempotencyMaxAnswer = 1 << 20
)

// ownIdempotency are the POST routes that do not take the generic
// Idempotency-Key: a publish's key is its event's id (sameEvent), a batch
// gives each event its own id, and verifying a key is a read whose answer
// must not be replayed after a revocation.
var ownIdempotency = map[string]bool{
	"POST /v1/events":       true,
	"POST /v1/events/batch": true,
	"POST /v1/keys/verify":  true,
}

// idempotencyLock is how long a request holds its key while it runs: past
// it, the server that ran it is taken for dead and a retry may run it again.
// It outlasts the longest a handler may write (WriteTimeout).
func (h *handler) idempotencyLock() time.Duration {
	return max(time.Minute, 2*h.cfg.WriteTimeout)
}

// replayedHeaders are not kept with an answer: they describe one answer, not
// the request's outcome, and a replay sends its own.
var replayedHeaders = map[string]bool{
	"Request-Id": true, "Date": true, "Content-Length": true,
	"Ratelimit": true, "Ratelimit-Policy": true,
	"X-Ratelimit-Limit": true, "X-Ratelimit-Remaining": true, "X-Ratelimit-Reset": true,
}

// idempotent runs next for a POST that carries an Idempotency-Key, or
// replays the answer a request with that key had.
func (h *handler) idempotent(w http.ResponseWriter, r *http.Request, key *hookline.APIKey, next http.Handler) {
	ikey := r.Header.Get("Idempotency-Key")
	if err := validIdempotencyKey(ikey); err != nil {
		h.error(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.error(w, r, readError(err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	now := h.now()
	rec := &store.IdempotencyRecord{
		Scope:       "key:" + key.ID,
		Key:         ikey,
		RequestHash: requestHash(r, body),
		Token:       randomToken(),
		CreatedAt:   now,
		LockedUntil: now.Add(h.idempotencyLock()),
		ExpiresAt:   now.Add(idempotencyTTL),
	}
	stored, err := h.store.IdempotencyBegin(r.Context(), rec, now)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if stored != nil {
		h.idempotencyAnswer(w, r, stored, rec)
		return
	}

	rw := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		// Finish or release even if next panics (wrap answers the panic); a
		// client gone must not leave its key stuck either.
		ctx := context.WithoutCancel(r.Context())
		v := recover()
		if v != nil || rw.status >= 500 || rw.status == http.StatusTooManyRequests || rw.overflow || r.Context().Err() != nil {
			// Worth a retry that runs again: free the key.
			if err := h.store.IdempotencyRelease(ctx, rec.Scope, rec.Key, rec.Token); err != nil {
				h.log.Warn("could not free an idempotency key; it frees itself when its claim runs out", "err", err, "request_id", requestID(r))
			}
			if v != nil {
				panic(v) // wrap answers it
			}
			return
		}
		rec.Status, rec.Header, rec.Body = rw.status, keptHeaders(rw.header), rw.body.Bytes()
		rec.ExpiresAt = h.now().Add(idempotencyTTL)
		if err := h.store.IdempotencyFinish(ctx, rec); err != nil {
			h.log.Warn("could not keep the answer of an idempotent request; a retry runs it again", "err", err, "request_id", requestID(r))
		}
	}()
	next.ServeHTTP(rw, r)
}

// idempotencyAnswer answers a request whose key is taken: the kept answer
// for the same request, or why not.
func (h *handler) idempotencyAnswer(w http.ResponseWriter, r *http.Request, stored, rec *store.IdempotencyRecord) {
	switch {
	case !bytes.Equal(stored.RequestHash, rec.RequestHash):
		h.error(w, r, &httpError{status: http.StatusUnprocessableEntity, kind: "idempotency-key-reused",
			detail: fmt.Sprintf("Idempotency-Key %q was used in the last %s for another request (another route or body); use a new key for a new request", rec.Key, idempotencyTTL)})
	case stored.Status == 0:
		h.error(w, r, &httpError{status: http.StatusConflict, kind: "idempotency-key-in-use",
			detail: fmt.Sprintf("a request with Idempotency-Key %q is still running; retry when it has answered", rec.Key), retryAfter: time.Second})
	default:
		var hd http.Header
		if err := json.Unmarshal(stored.Header, &hd); err != nil {
			h.error(w, r, fmt.Errorf("idempotency: kept headers: %w", err))
			return
		}
		for name, vs := range hd {
			w.Header()[name] = vs
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(stored.Status)
		_, _ = w.Write(stored.Body)
	}
}

// validIdempotencyKey checks a key: 1 to idempotencyMaxKey visible ASCII
// characters (a UUID, say).
func validIdempotencyKey(k string) error {
	bad := func(why string) error {
		return &httpError{status: http.StatusBadRequest, kind: "bad-request", field: "Idempotency-Key", message: why, detail: "Idempotency-Key header: " + why}
	}
	if k == "" {
		return bad("is empty; leave the header out, or send a key")
	}
	if len(k) > idempotencyMaxKey {
		return bad("at most " + strconv.Itoa(idempotencyMaxKey) + " characters")
	}
	for i := range len(k) {
		if k[i] <= ' ' || k[i] > '~' {
			return bad("only visible ASCII characters, no spaces (a UUID, say)")
		}
	}
	return nil
}

// requestHash identifies a request for its key: method, path, query and body.
func requestHash(r *http.Request, body []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s?%s\n", r.Method, r.URL.EscapedPath(), r.URL.RawQuery)
	h.Write(body)
	return h.Sum(nil)
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// keptHeaders are the headers of an answer worth replaying, as JSON.
func keptHeaders(hd http.Header) []byte {
	kept := http.Header{}
	for name, vs := range hd {
		if !replayedHeaders[http.CanonicalHeaderKey(name)] {
			kept[name] = vs
		}
	}
	b, _ := json.Marshal(kept)
	return b
}

// recordingWriter passes an answer through and keeps a copy: its status,
// its headers as they were when it was written, and up to
// idempotencyMaxAnswer bytes of body (overflow: there was more).
type recordingWriter struct {
	http.ResponseWriter
	status   int
	header   http.Header
	body     bytes.Buffer
	wrote    bool
	overflow bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
		w.header = w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.body.Len()+len(b) > idempotencyMaxAnswer {
		w.overflow = true
	} else {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
