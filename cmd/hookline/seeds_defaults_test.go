package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedCase returns the seed case named name.
func seedCaseNamed(t *testing.T, name string) seedCase {
	t.Helper()
	for _, sc := range seedCases() {
		if sc.name == name {
			return sc
		}
	}
	t.Fatalf("no seed case %q", name)
	return seedCase{}
}

// startSeedReceivers starts the receivers of sc whose interpreter is
// installed (skipping the others, failing with CI=true, as TestSeedReceivers).
func startSeedReceivers(t *testing.T, root string, sc seedCase) []*receiverProc {
	t.Helper()
	var rs []*receiverProc
	for _, spec := range sc.receivers {
		if spec.rejectsAll {
			continue
		}
		interp := interpreterName(spec.file)
		path, err := exec.LookPath(interp)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s/%s needs %s, which is not installed", sc.name, spec.file, interp)
			}
			t.Logf("%s is not installed: not running %s/%s", interp, sc.name, spec.file)
			continue
		}
		rs = append(rs, startReceiver(t, root, sc.name, spec, path, sc.secret))
	}
	if len(rs) == 0 {
		t.Skipf("no interpreter for any %s receiver", sc.name)
	}
	return rs
}

// TestSeedFormVoxDefaultProfile (issue 15, items 7 and 9): with FormVox as
// the server's default profile, the page's "test webhook URLs" before saving
// (POST /v1/webhook-tests) reaches its receivers, which accept it; the page's
// own create body {url, events, secret, active} — no "profile" — makes a
// FormVox webhook whose deliveries the page's verifiers accept; a PUT with the
// same body keeps it FormVox.
func TestSeedFormVoxDefaultProfile(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	s := newServer(t, "HOOKLINE_PROFILES="+filepath.Join(root, "examples", "profiles"), "HOOKLINE_DEFAULT_PROFILE=formvox")
	s.start()
	sc := seedCaseNamed(t, "formvox")
	rs := startSeedReceivers(t, root, sc)

	// "Test webhook URLs" before saving (item 9): the page's secret, no profile
	// (the default), to each receiver; the page's code must accept it.
	for _, r := range rs {
		var tested struct {
			HTTPStatus int    `json:"http_status"`
			Profile    string `json:"profile"`
			Error      string `json:"error"`
		}
		s.mustDo(http.MethodPost, "/v1/webhook-tests", map[string]any{"url": r.url, "secret": sc.secret}, &tested, http.StatusOK)
		if tested.HTTPStatus != http.StatusOK || tested.Profile != "formvox" {
			t.Errorf("%s: test of the unsaved URL answered %d (%s) with profile %q, want 200 with formvox", r.spec.name(), tested.HTTPStatus, tested.Error, tested.Profile)
		}
	}

	var ids []string
	for _, r := range rs {
		page := map[string]any{"url": r.url, "events": []string{"response.created", "response.updated"}, "secret": sc.secret, "active": true}
		var wh struct {
			ID      string `json:"id"`
			Profile string `json:"profile"`
		}
		s.mustDo(http.MethodPost, "/v1/webhooks", page, &wh, http.StatusCreated)
		if wh.Profile != "formvox" {
			t.Fatalf("%s: the page's create body made a webhook with profile %q, want the server's default formvox", r.spec.name(), wh.Profile)
		}
		wh.Profile = ""
		s.mustDo(http.MethodPut, "/v1/webhooks/"+wh.ID, page, &wh, http.StatusOK)
		if wh.Profile != "formvox" {
			t.Fatalf("%s: PUT with the page's body: profile %q, want formvox kept", r.spec.name(), wh.Profile)
		}
		ids = append(ids, wh.ID)
	}
	s.publish(t, "default", seedEvent{typ: "response.created", data: `{"form": {"title": "Défaut"}, "response": {"id": "vox-default-1", "answers": {}}}`})

	done := func() bool {
		for _, r := range rs {
			if len(linesWith(r.lines(t), "vox-default-1")) == 0 {
				return false
			}
		}
		return true
	}
	if !waitFor(20*time.Second, done) {
		t.Fatalf("after 20s, not every receiver got the event (webhooks %s)", strings.Join(ids, ", "))
	}
	for _, r := range rs {
		for _, l := range linesWith(r.lines(t), "vox-default-1") {
			if !l.OK || l.Status != http.StatusOK {
				t.Errorf("%s: the page's code answered %d (ok=%v, %s), want the delivery accepted", r.spec.name(), l.Status, l.OK, l.Error)
			}
		}
	}
}

// TestSeedProductsManagerPartialPut (issue 15, items 7 and 8): with Products
// Manager as the tenant's default profile, the page's create body works
// unchanged, and its PUT body {"events", "active"}, exactly as printed,
// changes the events and keeps the rest (the profile declares put: partial);
// the page's verifiers accept the deliveries after it.
func TestSeedProductsManagerPartialPut(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	s := seedServer(t, root)
	sc := seedCaseNamed(t, "productsmanager")
	rs := startSeedReceivers(t, root, sc)
	s.mustDo(http.MethodPut, "/v1/tenants/default/defaults", map[string]any{"profile": "productsmanager"}, nil, http.StatusOK)

	for _, r := range rs {
		var wh struct {
			ID      string   `json:"id"`
			URL     string   `json:"url"`
			Profile string   `json:"profile"`
			Events  []string `json:"events"`
		}
		s.mustDo(http.MethodPost, "/v1/webhooks", map[string]any{
			"url": r.url, "events": []string{"product.created"}, "secret": sc.secret, "active": true,
		}, &wh, http.StatusCreated)
		if wh.Profile != "productsmanager" {
			t.Fatalf("%s: the page's create body: profile %q, want the tenant's default productsmanager", r.spec.name(), wh.Profile)
		}
		// The page's PUT body, as printed.
		page := json.RawMessage("{\n  \"events\": [\"import.completed\", \"import.failed\"],\n  \"active\": true\n}")
		s.mustDo(http.MethodPut, "/v1/webhooks/"+wh.ID, page, &wh, http.StatusOK)
		if wh.URL != r.url || wh.Profile != "productsmanager" || strings.Join(wh.Events, ",") != "import.completed,import.failed" {
			t.Fatalf("%s: after the page's PUT: url %q, profile %q, events %v; want the events changed, the rest kept", r.spec.name(), wh.URL, wh.Profile, wh.Events)
		}
	}
	s.publish(t, "default", seedEvent{typ: "import.completed", data: `{"import_id": "imp-partial-put", "rows": 3}`})
	done := func() bool {
		for _, r := range rs {
			if len(linesWith(r.lines(t), "imp-partial-put")) == 0 {
				return false
			}
		}
		return true
	}
	if !waitFor(20*time.Second, done) {
		t.Fatal("after 20s, not every receiver got the event")
	}
	for _, r := range rs {
		for _, l := range linesWith(r.lines(t), "imp-partial-put") {
			if !l.OK || l.Status != http.StatusOK {
				t.Errorf("%s: the page's code answered %d (ok=%v, %s), want the delivery accepted", r.spec.name(), l.Status, l.OK, l.Error)
			}
		}
	}
}
