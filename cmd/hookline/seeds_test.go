package main

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/testkit"
	"github.com/hookline/hookline/webhook"
)

// The seed tests check Hookline against the four "API & Webhooks" pages in
// /work/shared/seeds (Formulr, FormVox, Products Manager, URLR) and the profiles
// in examples/profiles that reproduce them (docs/seeds.md maps each promise of a
// page to what fulfils it):
//
//   - TestSeedReceivers runs each page's own verification code — the receivers in
//     examples/receivers, in the page's languages (Node.js, Python, PHP) — against
//     the real binary, and checks that every delivery is accepted, that a wrong
//     secret is rejected, and that bodies and headers are the page's.
//   - TestSeedPolicies watches each page's retry schedule (scaled down), retried
//     statuses and disable rule on the wire.

// repoRoot returns the module root: the nearest directory above the test's
// working directory that holds go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// seedServer starts the binary with the example profiles loaded.
func seedServer(t *testing.T, root string) *server {
	t.Helper()
	s := newServer(t, "HOOKLINE_PROFILES="+filepath.Join(root, "examples", "profiles"))
	s.start()
	return s
}

// ─── receivers ──────────────────────────────────────────────────────────────

// receiverSpec is one of a page's receivers, in examples/receivers/<seed>/.
type receiverSpec struct {
	file string   // receiver.js, receiver.py, receiver.php
	path string   // the URL path the page's route serves
	env  []string // more environment
	// label names the subtest; the file when empty.
	label string
	// rejectsAll: the receiver is expected to refuse every request (the page's
	// code as printed, when it cannot work).
	rejectsAll bool
}

func (r receiverSpec) name() string {
	if r.label != "" {
		return r.label
	}
	return r.file
}

// interpreterName is the program that runs a receiver file.
func interpreterName(file string) string {
	switch filepath.Ext(file) {
	case ".js":
		return "node"
	case ".py":
		return "python3"
	case ".php":
		return "php"
	}
	return ""
}

// receiverProc is a running receiver.
type receiverProc struct {
	spec receiverSpec
	url  string // where webhooks point
	log  string // its JSON-lines file
	out  *testkit.SyncBuffer
}

// receivedLine is one line a receiver logs per request (see
// examples/receivers/_lib/expresslike.js).
type receivedLine struct {
	OK            bool              `json:"ok"`
	Status        int               `json:"status"`
	Path          string            `json:"path"`
	Event         any               `json:"event"`
	Headers       map[string]string `json:"headers"`
	RawHeaders    []string          `json:"raw_headers"` // Node only
	Body          string            `json:"body"`
	Error         string            `json:"error"`
	ID            *string           `json:"id"`             // Products Manager (Node): the dedup key
	Duplicate     *bool             `json:"duplicate"`      // Products Manager (Node)
	VerifyWebhook *bool             `json:"verify_webhook"` // Products Manager (Node)
	ReencodedOK   *bool             `json:"reencoded_ok"`   // URLR (PHP)
}

// startReceiver runs a receiver on a free loopback port with secret and waits
// until it accepts connections. The process is killed when the test ends.
func startReceiver(t *testing.T, root, seed string, spec receiverSpec, interp, secret string) *receiverProc {
	t.Helper()
	addr := testkit.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	script := filepath.Join(root, "examples", "receivers", seed, spec.file)
	logPath := filepath.Join(t.TempDir(), "received.jsonl")
	args := []string{script, port}
	if filepath.Ext(spec.file) == ".php" {
		// PHP's built-in server with the receiver as router script; display_errors
		// off makes a fatal error a 500, as under PHP-FPM.
		args = []string{"-d", "display_errors=0", "-S", addr, script}
	}
	env := append([]string{"WEBHOOK_SECRET=" + secret, "RECEIVER_LOG=" + logPath, "PORT=" + port, "PYTHONUNBUFFERED=1"}, spec.env...)
	out := &testkit.SyncBuffer{}
	p := start(t, interp, args, env, out)
	r := &receiverProc{spec: spec, url: "http://" + addr + spec.path, log: logPath, out: out}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s/%s output:\n%s", seed, spec.name(), tail(out.String(), 4000))
		}
	})
	up := waitFor(15*time.Second, func() bool {
		if p.exited() {
			return true
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if !up || p.exited() {
		t.Fatalf("%s/%s did not start listening on %s: %v\n%s", seed, spec.name(), addr, p.waitErr, out.String())
	}
	return r
}

// lines returns the complete lines the receiver has logged so far.
func (r *receiverProc) lines(t *testing.T) []receivedLine {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []receivedLine
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // a line being written
		}
		var l receivedLine
		if err := json.Unmarshal(b[:i], &l); err != nil {
			t.Fatalf("%s: bad log line %q: %v", r.spec.name(), b[:i], err)
		}
		out = append(out, l)
		b = b[i+1:]
	}
	return out
}

// linesWith returns the lines whose body contains token.
func linesWith(ls []receivedLine, token string) []receivedLine {
	var out []receivedLine
	for _, l := range ls {
		if strings.Contains(l.Body, token) {
			out = append(out, l)
		}
	}
	return out
}

// seedEvent is one event to publish, shaped like the page's examples.
type seedEvent struct {
	typ string
	// token is a string of the data that appears, unchanged, in the body every
	// receiver gets: it tells which event a logged request carried.
	token string
	data  string // JSON as a publisher would send it (whitespace and all)
	// timestamp, when set, is the event's time as published (RFC 3339).
	timestamp string
}

// seedCase is one page: its profile, receivers, secrets and events.
type seedCase struct {
	name        string // the profile, and the directory of examples/receivers
	secret      string // shaped as the page shows
	wrongSecret string // another one, for the webhook whose requests must be refused
	receivers   []receiverSpec
	events      []seedEvent
	wrong       seedEvent // published to the wrong-secret webhooks only
	testSends   int       // POST /v1/webhooks/{id}/test per receiver
	// keys are the body's top-level keys, in order; for URLR the data's members
	// come between the first and the last.
	keys []string
	// unixTimestamp: the envelope's timestamp is a number (URLR), else a string.
	unixTimestamp bool
	// zone is how a string timestamp ends: "+00:00" as the page shows (FormVox),
	// else "Z".
	zone string
	// render builds the exact body a receiver must get for data (compact) with the
	// envelope's timestamp as received and the delivery id.
	render func(typ string, data []byte, ts json.RawMessage, deliveryID string) []byte
	// headers checks the request headers a receiver logged.
	headers func(t *testing.T, typ string, h map[string]string)
}

var (
	hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// formvoxSecret is the page's "whsec_<32 chars>", in the alphabet of its
	// fvx_ key example.
	formvoxSecret = regexp.MustCompile(`^whsec_[A-Za-z0-9]{32}$`)
)

// envelope writes {"k": v, ...} from raw members in order.
func envelope(members ...string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(members); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(members[i])
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(members[i+1])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// member returns the raw value of a top-level member of a compact JSON object
// ("null" when absent).
func member(obj []byte, key string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		panic(err) // the tests' own data
	}
	if v, ok := m[key]; ok {
		return string(v)
	}
	return "null"
}

// topKeys returns the top-level keys of a JSON object, in order.
func topKeys(body []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func mustECMAScript(b []byte) []byte {
	out, err := webhook.ECMAScriptJSON(b)
	if err != nil {
		panic(err)
	}
	return out
}

func seedCases() []seedCase {
	near := func(t *testing.T, what string, at time.Time, within time.Duration) {
		t.Helper()
		if d := time.Since(at); d > within || d < -within {
			t.Errorf("%s is %s, %s from now; want within %s", what, at.Format(time.RFC3339), d.Round(time.Second), within)
		}
	}
	header := func(t *testing.T, h map[string]string, name, want string) {
		t.Helper()
		if got, ok := h[name]; !ok || got != want {
			t.Errorf("header %s: got %q (present: %v), want %q", name, got, ok, want)
		}
	}
	headerLike := func(t *testing.T, h map[string]string, name string, re *regexp.Regexp) {
		t.Helper()
		if !re.MatchString(h[name]) {
			t.Errorf("header %s: got %q, want it to match %s", name, h[name], re)
		}
	}
	return []seedCase{
		{
			name:        "formulr",
			secret:      "formulr_webhook_secret_2024",
			wrongSecret: "formulr_other_secret_2024",
			receivers:   []receiverSpec{{file: "receiver.js", path: "/webhook"}},
			events: []seedEvent{
				{typ: "response.created", token: "REF-2024-001", timestamp: "2024-12-14T10:30:00Z", data: `{
  "campaign": {"uuid": "xxx", "title": "Mon formulaire"},
  "response": {
    "uuid": "yyy", "reference": "REF-2024-001", "status": "pending",
    "user": {"email": "jean@exemple.fr", "firstName": "Jean", "lastName": "Dupont"},
    "responses": {"nom_module": {"value": ["Valeur"]}},
    "createdAt": "2024-12-14T10:30:00Z"
  }
}`},
				{typ: "response.status_changed", token: "REF-2024-002", data: `{
  "campaign": {"uuid": "c-2", "title": "Inscription été 2025 — 日本語 🎉"},
  "response": {
    "uuid": "r-2", "reference": "REF-2024-002", "status": "validated",
    "user": {"email": "zoë@exemple.fr", "firstName": "Zoë", "lastName": "Müller"},
    "responses": {
      "site": {"value": ["https://exemple.fr/a/b?c=d/e"]},
      "notes": {"value": [1.0, 0.1, 49.99]},
      "compteur": {"value": [12345678901234567890]},
      "ordre": {"10": "dix", "2": "deux", "1": "un"},
      "texte": {"value": ["caf\u00e9 \"cité\" \\ <b>&amp;</b>\nligne 2"]}
    },
    "createdAt": "2024-12-14T10:31:00.5Z"
  }
}`},
				{typ: "file.uploaded", token: "f-3-upload", data: `{"campaign": {"uuid": "c-3", "title": "Pièces"}, "response": {"uuid": "r-3"},
  "file": {"uuid": "f-3-upload", "name": "pièce jointe n°1.pdf", "url": "https://api.formulr.fr/v1/files/f-3-upload", "size": 1048576}}`},
			},
			wrong:     seedEvent{typ: "response.completed", token: "REF-WRONG", data: `{"campaign": {"uuid": "w"}, "response": {"uuid": "w", "reference": "REF-WRONG"}}`},
			testSends: 1,
			keys:      []string{"event", "timestamp", "data"},
			render: func(typ string, data []byte, ts json.RawMessage, _ string) []byte {
				return envelope("event", jsonString(typ), "timestamp", string(ts), "data", string(data))
			},
			headers: func(t *testing.T, typ string, h map[string]string) {
				headerLike(t, h, "x-formulr-signature", hex64)
				header(t, h, "content-type", "application/json")
			},
		},
		{
			name:        "formvox",
			secret:      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			wrongSecret: "whsec_0123456789abcdefghijklmnopqrstuv",
			zone:        "+00:00",
			receivers: []receiverSpec{
				{file: "receiver.php", path: "/webhook"},
				{file: "receiver.py", path: "/webhook"},
				{file: "receiver.js", path: "/webhook"},
			},
			events: []seedEvent{
				{typ: "response.created", token: "abc123-def456", timestamp: "2026-01-27T10:30:00+00:00", data: `{
  "form": {"title": "Customer Feedback Survey"},
  "response": {
    "id": "abc123-def456",
    "submitted_at": "2026-01-27T10:30:00+00:00",
    "respondent": {"type": "anonymous", "fingerprint": "sha256:..."},
    "answers": {"q1": "John Doe", "q2": "5"}
  }
}`},
				{typ: "response.updated", token: "vox-0002", data: `{
  "form": {"title": "Enquête de satisfaction — 日本 😀"},
  "response": {
    "id": "vox-0002",
    "submitted_at": "2026-01-28T08:00:00+00:00",
    "respondent": {"type": "user", "fingerprint": "sha256:0f/ab+cd=="},
    "answers": {"q1": "Zoë Müller", "q2": "5", "q3": "https://example.com/a/b?c=1/2",
      "q4": [1.0, 0.1, 49.99], "q5": 12345678901234567890, "q6": {"10": "a", "2": "b", "1": "c"},
      "q7": "caf\u00e9 \"entre guillemets\" \\ <script>\u2028"}
  }
}`},
				{typ: "response.deleted", token: "vox-0003", data: `{"form": {"title": "Customer Feedback Survey"}, "response": {"id": "vox-0003"}}`},
			},
			wrong:     seedEvent{typ: "response.created", token: "vox-wrong", data: `{"form": {"title": "x"}, "response": {"id": "vox-wrong"}}`},
			testSends: 1,
			keys:      []string{"event", "timestamp", "form", "data"},
			render: func(typ string, data []byte, ts json.RawMessage, _ string) []byte {
				return envelope("event", jsonString(typ), "timestamp", string(ts),
					"form", member(data, "form"), "data", member(data, "response"))
			},
			headers: func(t *testing.T, typ string, h map[string]string) {
				header(t, h, "user-agent", "FormVox-Webhook/1.0")
				header(t, h, "x-formvox-event", typ)
				header(t, h, "content-type", "application/json")
				headerLike(t, h, "x-formvox-signature", regexp.MustCompile(`^v1=[0-9a-f]{64}$`))
				ts, err := strconv.ParseInt(h["x-formvox-timestamp"], 10, 64)
				if err != nil {
					t.Errorf("X-FormVox-Timestamp %q is not unix seconds", h["x-formvox-timestamp"])
				} else {
					near(t, "X-FormVox-Timestamp", time.Unix(ts, 0), 300*time.Second)
				}
			},
		},
		{
			name:        "productsmanager",
			secret:      "votre_secret_pour_signature",
			wrongSecret: "un_autre_secret_pour_signature",
			receivers: []receiverSpec{
				{file: "receiver.js", path: "/webhooks/productsmanager"},
				{file: "receiver.py", path: "/webhooks/productsmanager"},
			},
			events: []seedEvent{
				{typ: "import.started", token: `"job_id":12345,`, timestamp: "2025-10-05T10:30:00Z", data: `{"job_id": 12345, "supplier_id": 42, "supplier_name": "Fournisseur XYZ", "import_type": "full", "total_products": 5000, "started_by": "user@example.com"}`},
				{typ: "import.completed", token: `"job_id":12346,`, data: `{"job_id": 12346, "supplier_id": 42, "supplier_name": "Fournisseur XYZ", "duration_seconds": 2700,
  "stats": {"total_products": 5000, "created": 150, "updated": 4800, "errors": 50}, "status": "completed"}`},
				{typ: "import.failed", token: `"job_id":12347,`, data: `{"job_id": 12347, "supplier_id": 42, "supplier_name": "Fournisseur XYZ",
  "error": {"code": "FILE_NOT_FOUND", "message": "Unable to download file from FTP server", "details": "Connection timeout after 30 seconds"}, "duration_seconds": 30}`},
				{typ: "product.created", token: "PROD-NEW-001", data: `{"product_id": 9876, "sku": "PROD-NEW-001", "name": "Nouveau Produit — Café 日本 😀", "price": 49.99,
  "supplier_id": 42, "created_by": "import_job_12345", "weight": 1.0, "ratio": 0.1, "ean": 12345678901234567890,
  "url": "https://shop.example.com/p/PROD-NEW-001/", "stock_by_warehouse": {"10": 5, "2": 7, "1": 9},
  "note": "caf\u00e9 \"promo\" \\ <b>\u2028"}`},
				{typ: "product.updated", token: "PROD-NEW-002", data: `{"product_id": 9877, "sku": "PROD-NEW-002",
  "changes": {"price": {"old": 49.99, "new": 39.99}, "stock": {"old": 100, "new": 250}}, "updated_by": "import_job_12345"}`},
				{typ: "product.deleted", token: "PROD-NEW-003", data: `{"product_id": 9878, "sku": "PROD-NEW-003", "deleted_by": "user@example.com", "reason": "discontinued"}`},
				{typ: "supplier.created", token: `"supplier_id":43,`, data: `{"supplier_id": 43, "name": "Nouveau Fournisseur Éè — 東京", "import_type": "api", "created_by": "admin@example.com"}`},
				{typ: "supplier.updated", token: `"supplier_id":44,`, data: `{"supplier_id": 44, "changes": {"import_schedule": {"old": "daily", "new": "hourly"}}, "updated_by": "admin@example.com"}`},
				{typ: "stock.low_alert", token: "PROD-001", data: `{"product_id": 1234, "sku": "PROD-001", "name": "Produit en Rupture", "current_stock": 5, "threshold": 10, "supplier_id": 42}`},
			},
			wrong:     seedEvent{typ: "product.deleted", token: "PROD-WRONG", data: `{"product_id": 1, "sku": "PROD-WRONG", "deleted_by": "user@example.com", "reason": "test"}`},
			testSends: 2,
			keys:      []string{"event", "timestamp", "webhook_id", "data"},
			render: func(typ string, data []byte, ts json.RawMessage, deliveryID string) []byte {
				return mustECMAScript(envelope("event", jsonString(typ), "timestamp", string(ts),
					"webhook_id", jsonString(deliveryID), "data", string(data)))
			},
			headers: func(t *testing.T, typ string, h map[string]string) {
				headerLike(t, h, "x-webhook-signature", regexp.MustCompile(`^sha256=[0-9a-f]{64}$`))
				header(t, h, "content-type", "application/json")
			},
		},
		{
			name:        "urlr",
			secret:      "urlr_cle_secrete_du_dossier",
			wrongSecret: "urlr_mauvaise_cle_secrete",
			receivers: []receiverSpec{
				{file: "receiver.js", path: "/webhook"},
				{file: "receiver.php", path: "/webhook"},
				{file: "receiver.php", path: "/webhook", label: "receiver.php as printed", env: []string{"URLR_AS_PRINTED=1"}, rejectsAll: true},
			},
			events: []seedEvent{
				// The page's example body, made valid JSON: no trailing comma, and
				// 'null' read as null.
				{typ: "link_clicked", token: "yBPhx", timestamp: "2023-10-15T19:28:46Z", data: `{
    "link": {
        "id": "9759d03f-eaec-4ca4-a5a2-105ced01fbd8",
        "code": "yBPhx",
        "team": 5,
        "team_id": "2c196f79-0db8-421a-9230-623c8956bdbf",
        "folder": 10,
        "folder_id": "469cf8aa-5d9b-4bcb-bafc-8a2576b6f504"
    },
    "country": null,
    "region": null,
    "city": null,
    "system": "GNU/Linux",
    "browser": "Firefox",
    "isBot": false,
    "referer": null
}`},
				{typ: "link_clicked", token: "Zk9Qe", data: `{"link": {"id": "1f7c", "code": "Zk9Qe", "team": 5, "folder": 10, "url": "https://www.example.fr/été/2025?x=1/2"},
  "country": "FR", "region": "Île-de-France", "city": "Montréal", "system": "Mac OS X/10.15", "browser": "Safari 😀",
  "isBot": false, "referer": "https://t.co/abc/def", "geo": {"lat": 1.0, "lng": 0.1, "score": 49.99},
  "visits": 12345678901234567890, "hours": {"10": 1, "2": 2, "1": 3}, "note": "caf\u00e9 \"x\" \\ <i>\u2028"}`},
				{typ: "link_clicked", token: "Jp7Lx", data: `{"link": {"id": "2a8d", "code": "Jp7Lx", "team": 6, "folder": 11}, "country": "JP", "region": "東京都", "city": "東京",
  "system": "iOS", "browser": "Chrome", "isBot": true, "referer": null}`},
			},
			wrong:         seedEvent{typ: "link_clicked", token: "Wr0ng", data: `{"link": {"id": "w", "code": "Wr0ng"}, "country": null}`},
			testSends:     1,
			keys:          []string{"event", "timestamp"},
			unixTimestamp: true,
			render: func(typ string, data []byte, ts json.RawMessage, _ string) []byte {
				inner := string(bytes.TrimSpace(data))
				inner = strings.TrimSpace(inner[1 : len(inner)-1])
				body := `{"event":` + jsonString(typ)
				if inner != "" {
					body += "," + inner
				}
				body += `,"timestamp":` + string(ts) + "}"
				return webhook.EscapeSlashes(mustECMAScript([]byte(body)))
			},
			headers: func(t *testing.T, typ string, h map[string]string) {
				header(t, h, "user-agent", "URLR")
				header(t, h, "content-type", "application/json")
				headerLike(t, h, "x-signature", hex64)
				d, err := http.ParseTime(h["date"])
				if err != nil {
					t.Errorf("header date %q is not an HTTP date: %v", h["date"], err)
				} else {
					near(t, "header date", d, time.Minute)
				}
			},
		},
	}
}

// seedAccepted is the part of POST /v1/events' answer the seed tests use.
type seedAccepted struct {
	ID         string `json:"id"`
	Deliveries []struct {
		ID        string `json:"id"`
		WebhookID string `json:"webhook_id"`
	} `json:"deliveries"`
}

// publish posts an event and returns the delivery id per webhook id. The data
// goes out byte for byte as written (json.Marshal would rewrite "<" as \u003c).
func (s *server) publish(t *testing.T, tenant string, ev seedEvent) map[string]string {
	t.Helper()
	body := `{"type": ` + jsonString(ev.typ) + `, "tenant": ` + jsonString(tenant) + `, "data": ` + ev.data
	if ev.timestamp != "" {
		body += `, "timestamp": ` + jsonString(ev.timestamp)
	}
	body += "}"
	req, err := http.NewRequest(http.MethodPost, s.url("/v1/events"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %d %s", resp.StatusCode, answer)
	}
	var acc seedAccepted
	if err := json.Unmarshal(answer, &acc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range acc.Deliveries {
		out[d.WebhookID] = d.ID
	}
	return out
}

// TestSeedReceivers publishes events shaped like each page's examples to
// webhooks pointed at receivers that run the page's own verification code, and
// checks that each receiver accepts every delivery, gets exactly the page's body
// and headers, and refuses a delivery signed with another secret.
func TestSeedReceivers(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	s := seedServer(t, root)

	for _, sc := range seedCases() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			testSeedReceivers(t, root, s, sc)
		})
	}
}

func testSeedReceivers(t *testing.T, root string, s *server, sc seedCase) {
	def, err := profile.ParseYAML(mustRead(t, filepath.Join(root, "examples", "profiles", sc.name+".yaml")))
	if err != nil {
		t.Fatal(err)
	}
	prof, err := profile.Compile(sc.name, def, profile.Defaults{})
	if err != nil {
		t.Fatal(err)
	}

	// Start the receivers whose interpreter is installed.
	type running struct {
		r    *receiverProc
		good string // the id of its webhook with the page's secret
	}
	var rs []*running
	for _, spec := range sc.receivers {
		interp := interpreterName(spec.file)
		path, err := exec.LookPath(interp)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s/%s needs %s, which is not installed; with CI=true that is a failure (.ci/run installs php-cli)", sc.name, spec.file, interp)
			}
			t.Run(spec.name(), func(t *testing.T) {
				t.Skipf("%s is not installed: not running %s/%s (with CI=true this fails)", interp, sc.name, spec.file)
			})
			continue
		}
		rs = append(rs, &running{r: startReceiver(t, root, sc.name, spec, path, sc.secret)})
	}
	if len(rs) == 0 {
		return
	}

	// One webhook per receiver with the page's secret, in the seed's tenant; one
	// with another secret, pointed at the same receiver, in another tenant.
	tenant, wrongTenant := "seed-"+sc.name, "seed-"+sc.name+"-wrong"
	for _, x := range rs {
		var wh webhookCreated
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": x.r.url, "tenant": tenant, "profile": sc.name, "secret": sc.secret,
		}, &wh, http.StatusCreated)
		x.good = wh.ID
		if x.r.spec.rejectsAll {
			continue
		}
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": x.r.url, "tenant": wrongTenant, "profile": sc.name, "secret": sc.wrongSecret,
		}, &wh, http.StatusCreated)
	}

	// Publish.
	deliveries := make([]map[string]string, len(sc.events))
	for i, ev := range sc.events {
		deliveries[i] = s.publish(t, tenant, ev)
	}
	s.publish(t, wrongTenant, sc.wrong)

	// The test event, sent synchronously by POST /v1/webhooks/{id}/test.
	for _, x := range rs {
		if x.r.spec.rejectsAll {
			continue
		}
		for range sc.testSends {
			var entry struct {
				HTTPStatus int    `json:"http_status"`
				Error      string `json:"error"`
			}
			s.mustDo(http.MethodPost, "/v1/webhooks/"+x.good+"/test", nil, &entry, http.StatusOK)
			if entry.HTTPStatus != http.StatusOK {
				t.Errorf("%s: the test event was answered %d (%s), want 200", x.r.spec.name(), entry.HTTPStatus, entry.Error)
			}
		}
	}

	// Wait until every delivery of the page's events succeeded and every receiver
	// logged the wrong-secret event (and, for a receiver that refuses everything,
	// every event).
	pending := func() []string {
		var left []string
		for i, ev := range sc.events {
			for _, x := range rs {
				if x.r.spec.rejectsAll {
					if len(linesWith(x.r.lines(t), ev.token)) == 0 {
						left = append(left, x.r.spec.name()+": "+ev.token)
					}
					continue
				}
				var d struct {
					Status string `json:"status"`
				}
				if _, err := s.do(http.MethodGet, "/v1/deliveries/"+deliveries[i][x.good], nil, &d); err != nil || d.Status != "succeeded" {
					left = append(left, fmt.Sprintf("%s: %s (delivery %s)", x.r.spec.name(), ev.token, d.Status))
				}
			}
		}
		for _, x := range rs {
			if !x.r.spec.rejectsAll && len(linesWith(x.r.lines(t), sc.wrong.token)) == 0 {
				left = append(left, x.r.spec.name()+": the wrong-secret event")
			}
		}
		return left
	}
	if !waitFor(20*time.Second, func() bool { return len(pending()) == 0 }) {
		t.Fatalf("after 20s, still waiting for: %s", strings.Join(pending(), "; "))
	}

	for _, x := range rs {
		t.Run(x.r.spec.name(), func(t *testing.T) {
			lines := x.r.lines(t)
			for _, l := range lines {
				if l.RawHeaders != nil {
					checkNoDuplicateHeaders(t, l.RawHeaders)
				}
			}
			if x.r.spec.rejectsAll {
				for _, l := range lines {
					if l.OK || l.Status != http.StatusInternalServerError {
						t.Errorf("the page's code as printed: got ok=%v status %d, want every request refused with 500", l.OK, l.Status)
					}
				}
				if len(lines) > 0 {
					t.Logf("the page's code as printed fails with: %s", lines[0].Error)
				}
				return
			}
			for i, ev := range sc.events {
				got := linesWith(lines, ev.token)
				if len(got) != 1 {
					t.Errorf("%s %s: got %d requests, want 1", ev.typ, ev.token, len(got))
					continue
				}
				checkSeedLine(t, sc, prof, ev.typ, ev.timestamp, []byte(ev.data), deliveries[i][x.good], got[0])
			}
			// The test event(s).
			var tests []receivedLine
			for _, l := range lines {
				if l.Event == "webhook.test" {
					tests = append(tests, l)
				}
			}
			if len(tests) != sc.testSends {
				t.Errorf("webhook.test: got %d requests, want %d", len(tests), sc.testSends)
			}
			ids := map[string]bool{}
			for _, l := range tests {
				checkSeedLine(t, sc, prof, "webhook.test", "", prof.TestData(), "", l)
				if sc.name == "productsmanager" {
					var b struct {
						WebhookID string `json:"webhook_id"`
					}
					_ = json.Unmarshal([]byte(l.Body), &b)
					if b.WebhookID == "" || ids[b.WebhookID] {
						t.Errorf("webhook.test: webhook_id %q, want a fresh non-empty id per test send (the page's receiver deduplicates on it)", b.WebhookID)
					}
					ids[b.WebhookID] = true
				}
			}
			// The wrong secret.
			wrong := linesWith(lines, sc.wrong.token)
			for _, l := range wrong {
				if l.OK || l.Status != http.StatusUnauthorized {
					t.Errorf("a delivery signed with another secret: got ok=%v status %d, want refused with 401 (%s)", l.OK, l.Status, l.Error)
				}
			}
			if n := len(lines) - len(wrong) - len(tests); n != len(sc.events) {
				t.Errorf("got %d requests besides the test and wrong-secret ones, want %d", n, len(sc.events))
			}
			for _, l := range lines {
				if l.ReencodedOK != nil {
					t.Logf("json_encode(json_decode(body)) would verify too: %v for %.60s…", *l.ReencodedOK, l.Body)
				}
			}
		})
	}
}

// checkSeedLine checks one request a receiver accepted: verified by the page's
// code, the page's envelope with the published data, the page's headers.
func checkSeedLine(t *testing.T, sc seedCase, prof *profile.Profile, typ, timestamp string, data []byte, deliveryID string, l receivedLine) {
	t.Helper()
	if !l.OK || l.Status != http.StatusOK {
		t.Errorf("%s: the page's code refused it: status %d %s\nbody: %s", typ, l.Status, l.Error, l.Body)
		return
	}
	if l.Event != typ {
		t.Errorf("%s: the receiver read event %v", typ, l.Event)
	}
	body := []byte(l.Body)
	keys, err := topKeys(body)
	if err != nil {
		t.Errorf("%s: body %s: %v", typ, body, err)
		return
	}
	if sc.unixTimestamp {
		if len(keys) < 2 || keys[0] != "event" || keys[len(keys)-1] != "timestamp" {
			t.Errorf("%s: body keys %q, want event first and timestamp last", typ, keys)
		}
	} else if !slices.Equal(keys, sc.keys) {
		t.Errorf("%s: body keys %q, want %q", typ, keys, sc.keys)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		t.Errorf("%s: %v", typ, err)
		return
	}
	ts := env["timestamp"]
	if sc.unixTimestamp {
		n, err := strconv.ParseInt(string(ts), 10, 64)
		switch {
		case err != nil:
			t.Errorf("%s: timestamp %s is not unix seconds", typ, ts)
		case timestamp != "":
			at, _ := time.Parse(time.RFC3339, timestamp)
			if n != at.Unix() {
				t.Errorf("%s: timestamp %d, want %d (%s)", typ, n, at.Unix(), timestamp)
			}
		case time.Since(time.Unix(n, 0)).Abs() > time.Minute:
			t.Errorf("%s: timestamp %d is not now", typ, n)
		}
	} else {
		var s string
		if err := json.Unmarshal(ts, &s); err != nil {
			t.Errorf("%s: timestamp %s is not a string", typ, ts)
		} else if at, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("%s: timestamp %q is not ISO 8601 / RFC 3339", typ, s)
		} else if zone := cmp.Or(sc.zone, "Z"); !strings.HasSuffix(s, zone) {
			t.Errorf("%s: timestamp %q, want it to end with %q as the page shows", typ, s, zone)
		} else if timestamp != "" && s != timestamp {
			t.Errorf("%s: timestamp %q, want %q as published", typ, s, timestamp)
		} else if timestamp == "" && time.Since(at).Abs() > time.Minute {
			t.Errorf("%s: timestamp %q is not now", typ, s)
		}
	}
	if sc.name == "productsmanager" && deliveryID == "" {
		_ = json.Unmarshal(env["webhook_id"], &deliveryID) // test sends: checked by the caller
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	want := sc.render(typ, compact.Bytes(), ts, deliveryID)
	if !bytes.Equal(body, want) {
		t.Errorf("%s: body\n got %s\nwant %s", typ, body, want)
	}
	if sc.name == "formvox" {
		for _, k := range []string{"form", "data"} {
			if v := bytes.TrimSpace(env[k]); len(v) == 0 || v[0] != '{' {
				t.Errorf("%s: %q is %s, want an object as on the page", typ, k, v)
			}
		}
	}
	if l.Duplicate != nil && *l.Duplicate {
		t.Errorf("%s: the page's receiver took it for a duplicate of webhook_id %v", typ, deref(l.ID))
	}
	if l.VerifyWebhook != nil && !*l.VerifyWebhook {
		t.Errorf("%s: the page's verifyWebhook (Vérification (Node.js)) refused it", typ)
	}
	sc.headers(t, typ, l.Headers)
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// checkNoDuplicateHeaders fails if a header came more than once (Node keeps only
// the first User-Agent, Content-Type, … of a request).
func checkNoDuplicateHeaders(t *testing.T, raw []string) {
	t.Helper()
	seen := map[string]string{}
	for i := 0; i+1 < len(raw); i += 2 {
		k := strings.ToLower(raw[i])
		if prev, dup := seen[k]; dup {
			t.Errorf("header %s sent twice: %q and %q", k, prev, raw[i+1])
		}
		seen[k] = raw[i+1]
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ─── policies ───────────────────────────────────────────────────────────────

// hit is one request a scripted receiver got.
type hit struct {
	at     time.Time
	body   []byte
	header http.Header
}

// script answers the n-th request with statuses[n] (the last one repeating).
type script struct {
	mu       sync.Mutex
	statuses []int
	hits     []hit
}

func (sc *script) snapshot() []hit {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return slices.Clone(sc.hits)
}

// scriptedReceiver is a loopback receiver whose paths each follow a script.
type scriptedReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	scripts map[string]*script
}

func newScriptedReceiver(t *testing.T) *scriptedReceiver {
	sr := &scriptedReceiver{scripts: map[string]*script{}}
	sr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		sr.mu.Lock()
		sc := sr.scripts[r.URL.Path]
		sr.mu.Unlock()
		if sc == nil {
			http.NotFound(w, r)
			return
		}
		sc.mu.Lock()
		status := sc.statuses[min(len(sc.hits), len(sc.statuses)-1)]
		sc.hits = append(sc.hits, hit{at: at, body: body, header: r.Header.Clone()})
		sc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(sr.srv.Close)
	return sr
}

// path registers a script and returns its URL.
func (sr *scriptedReceiver) path(p string, statuses ...int) (string, *script) {
	sc := &script{statuses: statuses}
	sr.mu.Lock()
	sr.scripts[p] = sc
	sr.mu.Unlock()
	return sr.srv.URL + p, sc
}

// opsEvent is an operational event as the _ops webhook (standard profile) gets it.
type opsEvent struct {
	Event string `json:"event"`
	Data  struct {
		DeliveryID string `json:"delivery_id"`
		WebhookID  string `json:"webhook_id"`
		Attempts   int    `json:"attempt_count"`
		Reason     string `json:"reason"`
	} `json:"data"`
}

// policyCase is one scenario: a webhook on a <seed>-fast profile whose receiver
// answers statuses in turn, and what must follow.
type policyCase struct {
	name         string
	seed         string
	statuses     []int
	wantAttempts int
	wantStatus   string // the delivery's end: succeeded, failed or cancelled
	wantActive   bool   // the webhook afterwards
	wantOps      []string
}

// scaledSchedule returns a profile's retry schedule (the server's when it sets
// none) divided by div.
func scaledSchedule(t *testing.T, def *profile.Definition, div int) []time.Duration {
	t.Helper()
	var sched []time.Duration
	if len(def.Policy.RetrySchedule) == 0 {
		var err error
		if sched, err = config.ParseSchedule(config.DefaultRetrySchedule); err != nil {
			t.Fatal(err)
		}
	} else {
		for _, s := range def.Policy.RetrySchedule {
			d, err := time.ParseDuration(s)
			if err != nil {
				t.Fatal(err)
			}
			sched = append(sched, d)
		}
	}
	for i := range sched {
		sched[i] /= time.Duration(div)
	}
	return sched
}

// TestSeedPolicies creates, for each page's profile, a copy whose retry schedule
// is divided by a constant (everything else kept) and watches on the wire the
// number of attempts, the gaps between them, which statuses are retried and when
// the webhook is disabled.
func TestSeedPolicies(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	// The server's own limits are raised above the pages' so that the profiles'
	// limits are the ones observed.
	s := newServer(t, "HOOKLINE_PROFILES="+filepath.Join(root, "examples", "profiles"),
		"HOOKLINE_MAX_PAYLOAD_BYTES=2097152", "HOOKLINE_MAX_WEBHOOKS_PER_TENANT=100")
	s.start()
	rec := newScriptedReceiver(t)

	// Hookline's operational events (the pages' "notification après échec final"
	// and the disabling) go to an _ops webhook.
	opsURL, opsScript := rec.path("/ops", http.StatusOK)
	s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
		"url": opsURL, "tenant": "_ops", "events": []string{"delivery.failed", "webhook.disabled"},
	}, &webhookCreated{}, http.StatusCreated)
	opsFor := func(whID string) []opsEvent {
		var out []opsEvent
		for _, h := range opsScript.snapshot() {
			var ev opsEvent
			if json.Unmarshal(h.body, &ev) == nil && ev.Data.WebhookID == whID {
				out = append(out, ev)
			}
		}
		return out
	}

	// The divisors keep each schedule's total under about 15 s.
	divisors := map[string]int{"formulr": 1000, "productsmanager": 2000, "formvox": 20000, "urlr": 20000}
	schedules := map[string][]time.Duration{}
	for _, seed := range []string{"formulr", "formvox", "productsmanager", "urlr"} {
		def, err := profile.ParseYAML(mustRead(t, filepath.Join(root, "examples", "profiles", seed+".yaml")))
		if err != nil {
			t.Fatal(err)
		}
		sched := scaledSchedule(t, def, divisors[seed])
		def.Policy.RetrySchedule = nil
		for _, d := range sched {
			def.Policy.RetrySchedule = append(def.Policy.RetrySchedule, d.String())
		}
		schedules[seed] = sched
		s.mustDo(http.MethodPost, "/v1/profiles", map[string]any{"name": seed + "-fast", "definition": def}, nil, http.StatusCreated)
		t.Logf("%s-fast: retry_schedule %v", seed, def.Policy.RetrySchedule)
	}

	cases := []policyCase{
		// Formulr: "En cas d'échec (timeout ou code != 2xx) : 3 tentatives
		// automatiques, délais 1min, 5min, 30min, notification après échec final."
		{name: "formulr 400 retried to the end", seed: "formulr", statuses: []int{400},
			wantAttempts: 4, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		{name: "formulr 410 and 404 retried, not disabled", seed: "formulr", statuses: []int{410, 404, 200},
			wantAttempts: 3, wantStatus: "succeeded", wantActive: true},
		// Products Manager: 4xx not retried but 408 and 429, 5xx retried after 1,
		// 5, 15 min, 1 h, 6 h; "Après 5 tentatives échouées, le webhook est
		// désactivé": one 4xx (one failed attempt) leaves it on; the fifth failed
		// attempt in a row turns it off, and the delivery's sixth attempt is then
		// not made (cancelled: the webhook is disabled).
		{name: "productsmanager 400 not retried, webhook kept", seed: "productsmanager", statuses: []int{400},
			wantAttempts: 1, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		{name: "productsmanager 404 not retried, webhook kept", seed: "productsmanager", statuses: []int{404},
			wantAttempts: 1, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		{name: "productsmanager 413 not retried, webhook kept", seed: "productsmanager", statuses: []int{413},
			wantAttempts: 1, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		{name: "productsmanager 408 429 5xx retried", seed: "productsmanager", statuses: []int{408, 429, 500, 502, 200},
			wantAttempts: 5, wantStatus: "succeeded", wantActive: true},
		{name: "productsmanager 5xx, disabled after 5 failed attempts", seed: "productsmanager", statuses: []int{500},
			wantAttempts: 5, wantStatus: "cancelled", wantActive: false, wantOps: []string{"webhook.disabled"}},
		// FormVox: the page states no schedule: the server's, and its rules.
		{name: "formvox 503 retried to the end", seed: "formvox", statuses: []int{503},
			wantAttempts: 9, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		{name: "formvox 400 not retried", seed: "formvox", statuses: []int{400},
			wantAttempts: 1, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		// URLR: "réessayés plusieurs fois avec un incrément de temps exponentiel si
		// votre endpoint ne répond pas avec un code HTTP 2XX".
		{name: "urlr 404 retried to the end", seed: "urlr", statuses: []int{404},
			wantAttempts: 9, wantStatus: "failed", wantActive: true, wantOps: []string{"delivery.failed"}},
		{name: "urlr 410 retried, not disabled", seed: "urlr", statuses: []int{410, 200},
			wantAttempts: 2, wantStatus: "succeeded", wantActive: true},
		{name: "urlr 400 401 500 retried", seed: "urlr", statuses: []int{400, 401, 500, 200},
			wantAttempts: 4, wantStatus: "succeeded", wantActive: true},
	}
	// Formulr's "Limites et quotas": 50 webhooks per account, 1 Mo payloads.
	t.Run("formulr limits", func(t *testing.T) {
		t.Parallel()
		url, sc := rec.path("/limits", http.StatusOK)
		for i := range 50 {
			s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
				"url": url, "tenant": "policy-limits", "profile": "formulr", "description": strconv.Itoa(i),
			}, &webhookCreated{}, http.StatusCreated)
		}
		var problem struct {
			Detail string `json:"detail"`
		}
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": url, "tenant": "policy-limits", "profile": "formulr",
		}, &problem, http.StatusUnprocessableEntity)
		if want := `tenant "policy-limits" already has 50 webhooks, the most it may have (the limit of the "formulr" profile); delete one to add another`; problem.Detail != want {
			t.Errorf("the 51st webhook: got detail %q, want %q", problem.Detail, want)
		}

		payload := func(size int) json.RawMessage { // compact JSON of exactly size bytes
			return json.RawMessage(`{"s":"` + strings.Repeat("a", size-8) + `"}`)
		}
		// "1 Mo" is the request a receiver gets: the body as sent, the envelope
		// around the data included (the page's example time: a known length).
		const limit = 1048576
		overhead := len(`{"event":"response.created","timestamp":"2024-12-14T10:30:00Z","data":}`)
		event := func(tenant string, size int) map[string]any {
			return map[string]any{"type": "response.created", "tenant": tenant, "timestamp": "2024-12-14T10:30:00Z", "data": payload(size)}
		}
		s.mustDo(http.MethodPost, "/v1/events", event("policy-limits", limit-overhead+1), &problem, http.StatusRequestEntityTooLarge)
		if want := `the request body a webhook of profile "formulr" would get is 1048577 bytes, more than the 1048576 its max_body_bytes allows`; !strings.Contains(problem.Detail, want) {
			t.Errorf("a body of 1 Mo + 1 byte refused with %q, want %q", problem.Detail, want)
		}
		var wh webhookCreated
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": url, "tenant": "policy-limits-ok", "profile": "formulr",
		}, &wh, http.StatusCreated)
		s.mustDo(http.MethodPost, "/v1/events", event("policy-limits-ok", limit-overhead), &struct{}{}, http.StatusAccepted)
		// One request: the refused event went to none of the 50 webhooks.
		if !waitFor(10*time.Second, func() bool { return len(sc.snapshot()) == 1 }) {
			t.Fatalf("the 1 Mo event: the receiver got %d requests, want 1", len(sc.snapshot()))
		}
		if n := len(sc.snapshot()[0].body); n != limit {
			t.Errorf("the 1 Mo event: body of %d bytes, want %d", n, limit)
		}
	})

	// Products Manager: a 413 (one large event) is one failed attempt, not
	// retried; the webhook stays on through four of them and goes off at the
	// fifth, and events published afterwards get no delivery.
	t.Run("productsmanager five 413 deliveries disable", func(t *testing.T) {
		t.Parallel()
		url, sc := rec.path("/pm413", http.StatusRequestEntityTooLarge)
		const tenant = "policy-pm413"
		var wh webhookCreated
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": url, "tenant": tenant, "profile": "productsmanager-fast", "secret": "pm413_secret",
		}, &wh, http.StatusCreated)
		var w struct {
			Active         bool   `json:"active"`
			DisabledReason string `json:"disabled_reason"`
		}
		for n := 1; n <= 5; n++ {
			dl := s.publish(t, tenant, seedEvent{typ: "policy.check", data: `{"n": ` + strconv.Itoa(n) + `}`})[wh.ID]
			if dl == "" {
				t.Fatalf("event %d: no delivery for the webhook", n)
			}
			var d struct {
				Status string `json:"status"`
			}
			if !waitFor(10*time.Second, func() bool {
				_, err := s.do(http.MethodGet, "/v1/deliveries/"+dl, nil, &d)
				return err == nil && d.Status == "failed"
			}) {
				t.Fatalf("event %d: delivery %q, want failed after its one attempt", n, d.Status)
			}
			s.mustDo(http.MethodGet, "/v1/webhooks/"+wh.ID, nil, &w, http.StatusOK)
			if want := n < 5; w.Active != want {
				t.Fatalf("after %d × 413: active %v (%q), want %v", n, w.Active, w.DisabledReason, want)
			}
		}
		if want := "auto-disabled: 5 attempts in a row failed"; w.DisabledReason != want {
			t.Errorf("disabled_reason %q, want %q", w.DisabledReason, want)
		}
		if got := s.publish(t, tenant, seedEvent{typ: "policy.check", data: `{"n": 6}`}); got[wh.ID] != "" {
			t.Errorf("an event after the disabling got delivery %s", got[wh.ID])
		}
		if n := len(sc.snapshot()); n != 5 {
			t.Errorf("receiver got %d requests, want 5", n)
		}
	})

	// FormVox's "Secret: whsec_<32 chars>": a given secret of another format is
	// refused, naming the format; created and rotated ones are generated in it.
	t.Run("formvox secrets", func(t *testing.T) {
		t.Parallel()
		url, _ := rec.path("/secrets", http.StatusOK)
		var problem struct {
			Errors []struct{ Field, Message string } `json:"errors"`
		}
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": url, "tenant": "policy-secrets", "profile": "formvox", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La+/Sw",
		}, &problem, http.StatusUnprocessableEntity)
		if len(problem.Errors) != 1 || problem.Errors[0].Field != "secret" ||
			!strings.Contains(problem.Errors[0].Message, `must be "whsec_" followed by 32 letters and digits`) {
			t.Errorf("a base64 secret: got errors %+v, want secret and the page's format", problem.Errors)
		}
		var wh, rot webhookCreated
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": url, "tenant": "policy-secrets", "profile": "formvox",
		}, &wh, http.StatusCreated)
		s.mustDo(http.MethodPost, "/v1/webhooks/"+wh.ID+"/rotate-secret", map[string]any{}, &rot, http.StatusOK)
		for what, got := range map[string]string{"created": wh.Secret, "rotated": rot.Secret} {
			if !formvoxSecret.MatchString(got) {
				t.Errorf("%s: secret %q, want whsec_ + 32 letters and digits", what, got)
			}
		}
		if rot.Secret == wh.Secret {
			t.Errorf("rotation kept the secret %q", wh.Secret)
		}
	})

	for i, pc := range cases {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			sched := schedules[pc.seed]
			url, sc := rec.path(fmt.Sprintf("/case/%d", i), pc.statuses...)
			in := map[string]any{"url": url, "tenant": fmt.Sprintf("policy-%d", i), "profile": pc.seed + "-fast"}
			if pc.seed != "formvox" {
				in["secret"] = "policy_secret_" + strconv.Itoa(i)
			} // FormVox's is generated: the page's format, signing as the page's code expects
			tenant := in["tenant"].(string)
			var wh webhookCreated
			s.mustDo(http.MethodPost, "/v1/webhooks", in, &wh, http.StatusCreated)
			secret := wh.Secret
			if pc.seed == "formvox" && !formvoxSecret.MatchString(secret) {
				t.Errorf("generated secret %q, want the page's whsec_<32 chars> in letters and digits", secret)
			}
			data := `{"n": ` + strconv.Itoa(i) + `}`
			if pc.seed == "formvox" {
				data = `{"form": {"title": "t"}, "response": {"id": "r-` + strconv.Itoa(i) + `"}}`
			}
			published := time.Now()
			dl := s.publish(t, tenant, seedEvent{typ: "policy.check", data: data})[wh.ID]

			var total time.Duration
			for _, d := range sched {
				total += d
			}
			var d struct {
				Status   string `json:"status"`
				Attempts int    `json:"attempt_count"`
			}
			limit := total + total/10 + 15*time.Second
			if !waitFor(limit, func() bool {
				_, err := s.do(http.MethodGet, "/v1/deliveries/"+dl, nil, &d)
				return err == nil && (d.Status == "succeeded" || d.Status == "failed" || d.Status == "cancelled")
			}) {
				t.Fatalf("delivery still %q after %s (%d attempts)", d.Status, limit, len(sc.snapshot()))
			}
			hits := sc.snapshot()
			if d.Status != pc.wantStatus || d.Attempts != pc.wantAttempts || len(hits) != pc.wantAttempts {
				t.Errorf("delivery %s after %d attempts (receiver got %d requests); want %s after %d",
					d.Status, d.Attempts, len(hits), pc.wantStatus, pc.wantAttempts)
			}

			// Gaps: the scheduled delay ±jitter (10 %), never less; more by the time
			// the answer, its recording and the next claim take — two SQLite commits
			// with a full fsync each, which on a machine busy with other disk work
			// has been seen to take a second.
			const slack = 1500 * time.Millisecond
			gaps := make([]string, 0, len(hits))
			for k, h := range hits {
				var gap time.Duration
				if k == 0 {
					gap = h.at.Sub(published)
				} else {
					gap = h.at.Sub(hits[k-1].at)
				}
				gaps = append(gaps, gap.Round(100*time.Microsecond).String())
				if k >= len(sched) {
					continue
				}
				want := sched[k]
				lo, hi := want-want/10-2*time.Millisecond, want+want/10+slack
				if k == 0 {
					hi = want + 5*time.Second // measured from before the publish request and its commit
				}
				if gap < lo || gap > hi {
					t.Errorf("gap before attempt %d: %s, want %s (between %s and %s)", k+1, gap, want, lo, hi)
				}
			}
			t.Logf("gaps %v for schedule %v", gaps, sched[:min(len(sched), len(hits))])

			// What each attempt carried.
			for k, h := range hits {
				switch pc.seed {
				case "productsmanager":
					var b struct {
						WebhookID string `json:"webhook_id"`
					}
					_ = json.Unmarshal(h.body, &b)
					if b.WebhookID != dl {
						t.Errorf("attempt %d: webhook_id %q, want the delivery id %s on every attempt", k+1, b.WebhookID, dl)
					}
					mac := hmac.New(sha256.New, []byte(secret))
					mac.Write(h.body)
					if got, want := h.header.Get("X-Webhook-Signature"), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
						t.Errorf("attempt %d: X-Webhook-Signature %q, want %q", k+1, got, want)
					}
				case "formvox":
					// Each attempt is signed with its own send time, so that a retry
					// hours later still passes the page's 5-minute replay check.
					if h.header.Get("User-Agent") != "FormVox-Webhook/1.0" {
						t.Errorf("attempt %d: User-Agent %q", k+1, h.header.Get("User-Agent"))
					}
					ts := h.header.Get("X-FormVox-Timestamp")
					if n, err := strconv.ParseInt(ts, 10, 64); err != nil || h.at.Sub(time.Unix(n, 0)).Abs() > 3*time.Second {
						t.Errorf("attempt %d: X-FormVox-Timestamp %q, want the send time (%d)", k+1, ts, h.at.Unix())
					}
					mac := hmac.New(sha256.New, []byte(secret))
					mac.Write([]byte(ts + "."))
					mac.Write(h.body)
					if got, want := h.header.Get("X-FormVox-Signature"), "v1="+hex.EncodeToString(mac.Sum(nil)); got != want {
						t.Errorf("attempt %d: X-FormVox-Signature %q, want %q", k+1, got, want)
					}
				}
			}

			// The delivery log (the fields of Products Manager's "Logs de Webhooks").
			var logs struct {
				Items []struct {
					Event      string `json:"event"`
					HTTPStatus int    `json:"http_status"`
					RetryCount int    `json:"retry_count"`
				} `json:"items"`
			}
			s.mustDo(http.MethodGet, "/v1/webhooks/"+wh.ID+"/logs", nil, &logs, http.StatusOK)
			if len(logs.Items) != pc.wantAttempts {
				t.Errorf("log: %d entries, want %d", len(logs.Items), pc.wantAttempts)
			}
			for k, it := range logs.Items {
				n := len(logs.Items) - 1 - k // newest first
				if want := pc.statuses[min(n, len(pc.statuses)-1)]; it.HTTPStatus != want || it.RetryCount != n || it.Event != "policy.check" {
					t.Errorf("log entry %d: %+v, want http_status %d retry_count %d", k, it, want, n)
				}
			}

			// The webhook afterwards, and the operational events.
			var w struct {
				Active         bool   `json:"active"`
				DisabledReason string `json:"disabled_reason"`
			}
			s.mustDo(http.MethodGet, "/v1/webhooks/"+wh.ID, nil, &w, http.StatusOK)
			if w.Active != pc.wantActive {
				t.Errorf("webhook active=%v (%s), want %v", w.Active, w.DisabledReason, pc.wantActive)
			}
			if want := "auto-disabled: 5 attempts in a row failed"; pc.seed == "productsmanager" && !pc.wantActive && w.DisabledReason != want {
				t.Errorf("disabled_reason %q, want %q", w.DisabledReason, want)
			}
			var ops []opsEvent
			waitFor(5*time.Second, func() bool {
				ops = opsFor(wh.ID)
				return len(ops) >= len(pc.wantOps)
			})
			if len(pc.wantOps) == 0 {
				time.Sleep(200 * time.Millisecond) // a stray event would be on its way
				ops = opsFor(wh.ID)
			}
			var got []string
			for _, ev := range ops {
				got = append(got, ev.Event)
				if ev.Event == "delivery.failed" && (ev.Data.DeliveryID != dl || ev.Data.Attempts != pc.wantAttempts) {
					t.Errorf("delivery.failed for delivery %s after %d attempts, want %s after %d", ev.Data.DeliveryID, ev.Data.Attempts, dl, pc.wantAttempts)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, pc.wantOps) {
				t.Errorf("operational events for the webhook: got %q, want %q", got, pc.wantOps)
			}
		})
	}
}
