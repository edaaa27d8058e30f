package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// A profile whose signature header carries one signature cannot send the old
// secret's signature next to the new one: rotation gives no grace and says
// why, and asking for a grace is refused with nothing changed.
func TestRotateSecretOneSignatureNoGrace(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	fx.do(t, "POST", "/v1/profiles", fx.admin, obj{"name": "acme", "definition": rawProfile}).must(t, http.StatusCreated)
	id := fx.createWebhook(t, fx.admin, obj{"url": discard, "profile": "acme", "secret": "acme-raw-secret-1234"}).str("id")
	path := "/v1/webhooks/" + id + "/rotate-secret"

	r := fx.do(t, "POST", path, fx.admin, obj{"grace_period": "24h"})
	r.problem(t, http.StatusUnprocessableEntity, "grace_period")
	if d := r.str("detail"); !strings.Contains(d, "X-Acme-Signature") || !strings.Contains(d, "one signature") {
		t.Errorf("refused grace: got %q, want it to say the header carries one signature", d)
	}
	if got := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK); got.str("secret") != "acme-raw-secret-1234" {
		t.Errorf("after a refused rotation: secret %q, want it unchanged", got.str("secret"))
	}

	for _, body := range []any{nil, obj{"grace_period": "0s"}} {
		got := fx.do(t, "POST", path, fx.admin, body).must(t, http.StatusOK)
		if _, has := got.body["previous_secret_expires_at"]; has {
			t.Errorf("rotate %v: got previous_secret_expires_at %v, want none: only the new secret signs", body, got.body["previous_secret_expires_at"])
		}
		if why := got.str("no_grace_reason"); !strings.Contains(why, "X-Acme-Signature") {
			t.Errorf("rotate %v: no_grace_reason %q, want it to name the header", body, why)
		}
		if all := fx.do(t, "GET", "/v1/webhooks/"+id+"?include_secret=true", fx.admin, nil).must(t, http.StatusOK); all.str("previous_secret") != "" {
			t.Errorf("rotate %v: previous_secret kept, want it dropped at once", body)
		}
	}

	// Standard's header carries several: the default grace, no reason.
	std := fx.createWebhook(t, fx.admin, obj{"url": discard}).str("id")
	got := fx.do(t, "POST", "/v1/webhooks/"+std+"/rotate-secret", fx.admin, nil).must(t, http.StatusOK)
	if got.str("previous_secret_expires_at") == "" || got.str("no_grace_reason") != "" {
		t.Errorf("standard rotation: got %s, want a grace and no reason", got.raw)
	}
}
