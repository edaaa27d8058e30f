// Package profile turns an event into the HTTP request a webhook receives: body
// envelope, headers and signature. Today it speaks the default wire format,
// Standard Webhooks; the wire-format profiles of SPEC §4 extend it.
package profile

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// Standard is the name of the default profile.
const Standard = "standard"

// UserAgent is sent unless a webhook's headers set another.
const UserAgent = "Hookline-Webhooks/1.0"

// Message is one attempt to render.
type Message struct {
	Event      *hookline.Event
	Webhook    *hookline.Webhook
	DeliveryID string
	Attempt    int
	SentAt     time.Time
}

// Request is what to send.
type Request struct {
	Body   []byte
	Header http.Header
}

// RenderStandard renders the Standard Webhooks format: body
// {"id","event","timestamp","data"} with data byte for byte as stored, headers
// webhook-id (the event id, the same on every retry), webhook-timestamp (the time
// of this attempt) and webhook-signature.
func RenderStandard(m Message) (Request, error) {
	signer, err := webhook.NewStandard(m.Webhook.Secret)
	if err != nil {
		return Request{}, err
	}
	e := m.Event
	var b bytes.Buffer
	b.Grow(len(e.Data) + 128)
	b.WriteString(`{"id":`)
	writeJSONString(&b, e.ID)
	b.WriteString(`,"event":`)
	writeJSONString(&b, e.Type)
	b.WriteString(`,"timestamp":`)
	writeJSONString(&b, e.Timestamp.UTC().Format(time.RFC3339Nano))
	b.WriteString(`,"data":`)
	b.Write(e.Data)
	b.WriteByte('}')
	body := b.Bytes()

	h := make(http.Header, 6+len(m.Webhook.Headers))
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", UserAgent)
	for k, v := range m.Webhook.Headers {
		h.Set(k, v)
	}
	h[webhook.HeaderID] = []string{e.ID}
	h[webhook.HeaderTimestamp] = []string{strconv.FormatInt(m.SentAt.Unix(), 10)}
	h[webhook.HeaderSignature] = []string{signer.Sign(e.ID, m.SentAt, body)}
	return Request{Body: body, Header: h}, nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
