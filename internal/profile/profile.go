package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// Definition is a profile as users write it, in YAML or through the API as JSON
// (docs/profiles.md). Durations are Go duration strings.
type Definition struct {
	Description   string            `json:"description,omitempty"`
	Envelope      json.RawMessage   `json:"envelope,omitempty"`
	JSON          string            `json:"json,omitempty"`
	EscapeSlashes bool              `json:"escape_slashes,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Signature     *Signature        `json:"signature,omitempty"`
	Secret        *SecretFormat     `json:"secret,omitempty"`
	Policy        PolicyDefinition  `json:"policy"`
	TestData      json.RawMessage   `json:"test_data,omitempty"`
	// Reserved are top-level data member names the envelope fills itself:
	// publishing data holding one to a webhook of the profile is refused. An
	// envelope that spreads {data} into its root reserves its other members'
	// names without being told.
	Reserved []string `json:"reserved,omitempty"`
	// Put is what PUT /v1/webhooks/{id} means for the profile's webhooks:
	// "replace" (the default) or "partial" (fields left out are kept, as
	// with PATCH), for products whose page documents a partial PUT.
	Put string `json:"put,omitempty"`
}

// Signature is how requests are signed.
type Signature struct {
	Algorithm string `json:"algorithm,omitempty" yaml:"algorithm"`
	Header    string `json:"header" yaml:"header"`
	Payload   string `json:"payload,omitempty" yaml:"payload"`
	Encoding  string `json:"encoding,omitempty" yaml:"encoding"`
	Prefix    string `json:"prefix,omitempty" yaml:"prefix"`
	Key       string `json:"key,omitempty" yaml:"key"`
	Separator string `json:"separator,omitempty" yaml:"separator"`
}

// PolicyDefinition is the delivery policy part of a profile; empty fields take
// the server's settings.
type PolicyDefinition struct {
	RetrySchedule        []string     `json:"retry_schedule,omitempty" yaml:"retry_schedule"`
	RetryOn              []string     `json:"retry_on,omitempty" yaml:"retry_on"`
	DisableOnGone        *bool        `json:"disable_on_gone,omitempty" yaml:"disable_on_gone"`
	Timeout              string       `json:"timeout,omitempty" yaml:"timeout"`
	AutoDisable          *AutoDisable `json:"auto_disable,omitempty" yaml:"auto_disable"`
	MaxPayloadBytes      int64        `json:"max_payload_bytes,omitempty" yaml:"max_payload_bytes"`
	MaxBodyBytes         int64        `json:"max_body_bytes,omitempty" yaml:"max_body_bytes"`
	MaxWebhooksPerTenant int          `json:"max_webhooks_per_tenant,omitempty" yaml:"max_webhooks_per_tenant"`
	Jitter               *float64     `json:"jitter,omitempty" yaml:"jitter"`
}

// AutoDisable is the rule that turns a failing webhook off: after Failures
// deliveries in a row ended failed and no success for After, or after Attempts
// attempts in a row failed (retried or not); either part 0 is off.
type AutoDisable struct {
	Failures int    `json:"failures" yaml:"failures"`
	After    string `json:"after" yaml:"after"`
	Attempts int    `json:"attempts,omitempty" yaml:"attempts"`
}

// yamlDefinition is Definition as read from YAML: the envelope and test data are
// JSON text in a string.
type yamlDefinition struct {
	Description   string            `yaml:"description"`
	Envelope      string            `yaml:"envelope"`
	JSON          string            `yaml:"json"`
	EscapeSlashes bool              `yaml:"escape_slashes"`
	Headers       map[string]string `yaml:"headers"`
	Signature     *Signature        `yaml:"signature"`
	Secret        *SecretFormat     `yaml:"secret"`
	Policy        PolicyDefinition  `yaml:"policy"`
	TestData      string            `yaml:"test_data"`
	Reserved      []string          `yaml:"reserved"`
	Put           string            `yaml:"put"`
}

// ParseYAML reads a profile from YAML. The envelope is JSON text (a string that is
// not JSON, such as {data}, is taken as a JSON string template).
func ParseYAML(src []byte) (*Definition, error) {
	var y yamlDefinition
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		return nil, fmt.Errorf("not a valid profile: %w", err)
	}
	d := &Definition{
		Description: y.Description, JSON: y.JSON, EscapeSlashes: y.EscapeSlashes,
		Headers: y.Headers, Signature: y.Signature, Secret: y.Secret, Policy: y.Policy,
		Reserved: y.Reserved, Put: y.Put,
	}
	if env := strings.TrimSpace(y.Envelope); env != "" {
		if json.Valid([]byte(env)) {
			d.Envelope = json.RawMessage(env)
		} else {
			d.Envelope = appendJSONString(nil, env)
		}
	}
	if td := strings.TrimSpace(y.TestData); td != "" {
		if !json.Valid([]byte(td)) {
			return nil, hookline.Invalid("test_data", "is not valid JSON")
		}
		d.TestData = json.RawMessage(td)
	}
	return d, nil
}

// Defaults are the server-wide settings a profile's empty policy fields take.
type Defaults struct {
	RetrySchedule        []time.Duration
	Timeout              time.Duration
	AutoDisable          AutoDisableRule
	MaxPayloadBytes      int64
	MaxWebhooksPerTenant int
	// Jitter is the spread of retry delays; a profile's own jitter replaces it.
	Jitter float64
}

// AutoDisableRule is a compiled auto-disable rule; Failures == 0 turns the
// deliveries part off, Attempts == 0 the attempts part.
type AutoDisableRule struct {
	Failures int
	After    time.Duration
	Attempts int
}

// Policy is a profile's compiled delivery policy.
type Policy struct {
	RetrySchedule        []time.Duration
	RetryOn              StatusSet
	DisableOnGone        bool
	Timeout              time.Duration
	AutoDisable          AutoDisableRule
	MaxPayloadBytes      int64
	MaxBodyBytes         int64 // the body as rendered, on the wire; 0: no limit
	MaxWebhooksPerTenant int
	Jitter               float64
}

// Profile is a compiled profile, ready to render requests.
type Profile struct {
	Name       string
	Definition *Definition
	Policy     Policy
	// Source says where it comes from: "built-in", a file path, or "api".
	Source string

	envelope   *envelope
	ecmascript bool
	escape     bool
	headers    []headerTemplate
	scheme     *webhook.Scheme
	secret     *secretFormat // nil: the default kind of secret
	testData   json.RawMessage
	reserved   []string // Definition.Reserved and the names the envelope's spread reserves
}

// Reserves reports whether the profile reserves any data member name.
func (p *Profile) Reserves() bool { return len(p.reserved) > 0 }

// ReservedIn returns the first top-level member of data, a JSON object, whose
// name the profile reserves, and whether there is one.
func (p *Profile) ReservedIn(data json.RawMessage) (string, bool) {
	if len(p.reserved) == 0 || len(data) == 0 || data[0] != '{' {
		return "", false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) != nil {
		return "", false
	}
	for _, name := range p.reserved {
		if _, ok := members[name]; ok {
			return name, true
		}
	}
	return "", false
}

type headerTemplate struct {
	name  string
	value textTemplate
}

// Source values.
const (
	SourceBuiltIn = "built-in"
	SourceAPI     = "api"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidateName checks a profile name: lower-case letters, digits, '-' and '_'.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return hookline.Invalid("name", "must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	return nil
}

// defaultTestData is the data of webhook.test when a profile sets none.
var defaultTestData = json.RawMessage(`{"message":"This is a test webhook from Hookline"}`)

// headerNameRE is RFC 9110's token.
var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// headerAllowed: header values may use anything but the body.
func headerAllowed(name string) bool { return name != "body" }

// signatureAllowed: the signed payload is made of the body, the send time and the
// event id, which a receiver can all see.
func signatureAllowed(name string) bool {
	return name == "body" || name == "send.unix" || name == "event.id"
}

// Compile checks a definition and prepares it for rendering. Errors are
// *hookline.ValidationError naming the field.
func Compile(name string, d *Definition, def Defaults) (*Profile, error) {
	p := &Profile{Name: name, Definition: d, testData: defaultTestData}

	env := d.Envelope
	if len(bytes.TrimSpace(env)) == 0 {
		env = json.RawMessage(`"{data}"`)
	}
	e, err := parseEnvelope(env)
	if err != nil {
		return nil, hookline.Invalid("envelope", "%s", err)
	}
	p.envelope = e
	for _, name := range d.Reserved {
		if name == "" || name == spreadKey {
			return nil, hookline.Invalid("reserved", "%q is not a data member name", name)
		}
	}
	p.reserved = append(slices.Clone(d.Reserved), e.spreadNames()...)

	if err := checkPut(d.Put); err != nil {
		return nil, err
	}
	switch d.JSON {
	case "", "compact":
	case "ecmascript":
		p.ecmascript = true
	default:
		return nil, hookline.Invalid("json", "must be compact or ecmascript, not %q", d.JSON)
	}
	p.escape = d.EscapeSlashes

	for k, v := range d.Headers {
		if !headerNameRE.MatchString(k) {
			return nil, hookline.Invalid("headers", "%q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, hookline.Invalid("headers", "%s: a value must be one line", k)
		}
		t, err := parseText(v, headerAllowed)
		if err != nil {
			return nil, hookline.Invalid("headers", "%s: %s", k, err)
		}
		p.headers = append(p.headers, headerTemplate{name: k, value: t})
	}
	// Stable order, so requests are the same from one run to the next.
	sortHeaders(p.headers)

	if s := d.Signature; s != nil {
		scheme := &webhook.Scheme{
			Algorithm: s.Algorithm, Header: s.Header, Payload: s.Payload, Encoding: s.Encoding,
			Prefix: s.Prefix, Key: s.Key, Separator: s.Separator,
		}
		if s.Payload != "" {
			if _, err := parseText(s.Payload, signatureAllowed); err != nil {
				return nil, hookline.Invalid("signature.payload", "%s", err)
			}
		}
		if err := scheme.Validate(); err != nil {
			return nil, hookline.Invalid("signature", "%s", err)
		}
		p.scheme = scheme
	}
	if p.secret, err = compileSecret(d.Secret, p.SecretKind()); err != nil {
		return nil, err
	}

	if len(d.TestData) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, d.TestData); err != nil {
			return nil, hookline.Invalid("test_data", "is not valid JSON")
		}
		p.testData = b.Bytes()
	}

	if p.Policy, err = compilePolicy(d.Policy, def); err != nil {
		return nil, err
	}
	return p, nil
}

func compilePolicy(d PolicyDefinition, def Defaults) (Policy, error) {
	p := Policy{
		RetrySchedule: def.RetrySchedule, DisableOnGone: true, Timeout: def.Timeout, AutoDisable: def.AutoDisable,
		MaxPayloadBytes: def.MaxPayloadBytes, MaxWebhooksPerTenant: def.MaxWebhooksPerTenant, Jitter: def.Jitter,
	}
	if len(d.RetrySchedule) > 0 {
		p.RetrySchedule = nil
		for _, s := range d.RetrySchedule {
			dur, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil || dur < 0 {
				return p, hookline.Invalid("policy.retry_schedule", "%q is not a duration such as 0s, 5m or 24h", s)
			}
			p.RetrySchedule = append(p.RetrySchedule, dur)
		}
		if len(p.RetrySchedule) > 50 {
			return p, hookline.Invalid("policy.retry_schedule", "at most 50 attempts")
		}
	}
	retryOn := d.RetryOn
	if len(retryOn) == 0 {
		retryOn = []string{"3xx", "408", "429", "5xx"}
	}
	var err error
	if p.RetryOn, err = ParseStatusSet(retryOn); err != nil {
		return p, hookline.Invalid("policy.retry_on", "%s", err)
	}
	if d.DisableOnGone != nil {
		p.DisableOnGone = *d.DisableOnGone
	}
	if d.Timeout != "" {
		t, err := time.ParseDuration(d.Timeout)
		if err != nil || t < time.Millisecond || t > 5*time.Minute {
			return p, hookline.Invalid("policy.timeout", "must be a duration from 1ms to 5m, such as 30s")
		}
		p.Timeout = t
	}
	if a := d.AutoDisable; a != nil {
		if a.Failures < 0 {
			return p, hookline.Invalid("policy.auto_disable.failures", "must not be negative")
		}
		if a.Attempts < 0 {
			return p, hookline.Invalid("policy.auto_disable.attempts", "must not be negative")
		}
		after := time.Duration(0)
		if a.After != "" {
			if after, err = time.ParseDuration(a.After); err != nil || after < 0 {
				return p, hookline.Invalid("policy.auto_disable.after", "must be a duration such as 0s or 24h")
			}
		}
		p.AutoDisable = AutoDisableRule{Failures: a.Failures, After: after, Attempts: a.Attempts}
	}
	if d.MaxPayloadBytes < 0 {
		return p, hookline.Invalid("policy.max_payload_bytes", "must not be negative")
	}
	if d.MaxPayloadBytes > 0 {
		p.MaxPayloadBytes = d.MaxPayloadBytes
	}
	if d.MaxBodyBytes < 0 {
		return p, hookline.Invalid("policy.max_body_bytes", "must not be negative")
	}
	p.MaxBodyBytes = d.MaxBodyBytes
	if d.MaxWebhooksPerTenant < 0 {
		return p, hookline.Invalid("policy.max_webhooks_per_tenant", "must not be negative")
	}
	if d.MaxWebhooksPerTenant > 0 {
		p.MaxWebhooksPerTenant = d.MaxWebhooksPerTenant
	}
	if d.Jitter != nil {
		if *d.Jitter < 0 || *d.Jitter > 1 {
			return p, hookline.Invalid("policy.jitter", "must be between 0 and 1")
		}
		p.Jitter = *d.Jitter
	}
	return p, nil
}

// StatusSet is a set of HTTP status codes, by code or by class.
type StatusSet struct {
	classes [6]bool // 1xx … 5xx
	codes   map[int]bool
}

// ParseStatusSet reads codes ("429") and classes ("5xx").
func ParseStatusSet(items []string) (StatusSet, error) {
	s := StatusSet{codes: map[int]bool{}}
	for _, it := range items {
		it = strings.ToLower(strings.TrimSpace(it))
		if len(it) == 3 && strings.HasSuffix(it, "xx") && it[0] >= '1' && it[0] <= '5' {
			s.classes[it[0]-'0'] = true
			continue
		}
		n, err := strconv.Atoi(it)
		if err != nil || n < 100 || n > 599 {
			return s, fmt.Errorf("%q is neither a status code (429) nor a class (5xx)", it)
		}
		s.codes[n] = true
	}
	return s, nil
}

// Has reports whether code is in the set.
func (s StatusSet) Has(code int) bool {
	if code >= 100 && code < 600 && s.classes[code/100] {
		return true
	}
	return s.codes[code]
}

// Scheme is the profile's signing scheme; nil when requests are not signed.
func (p *Profile) Scheme() *webhook.Scheme { return p.scheme }

// TestData is the data of the profile's webhook.test event.
func (p *Profile) TestData() json.RawMessage { return p.testData }

// Message is one attempt to render.
type Message struct {
	Event      *hookline.Event
	Webhook    *hookline.Webhook
	DeliveryID string
	Attempt    int
	SentAt     time.Time
	// Secrets sign the request, newest first (several while a secret rotates).
	Secrets []string
}

// Request is what to send.
type Request struct {
	Body   []byte
	Header http.Header
}

// UserAgent is sent unless the profile or the webhook sets another.
const UserAgent = "Hookline-Webhooks/1.0"

// Render builds the request of one attempt.
func (p *Profile) Render(m Message) (Request, error) {
	v := &values{m: &m, sentAt: m.SentAt}
	body, err := p.body(v)
	if err != nil {
		return Request{}, err
	}
	v.body = body

	h := make(http.Header, len(p.headers)+len(m.Webhook.Headers)+3)
	set := func(name, value string) {
		for k := range h {
			if strings.EqualFold(k, name) {
				delete(h, k)
			}
		}
		h[name] = []string{value}
	}
	set("Content-Type", "application/json")
	set("User-Agent", UserAgent)
	for _, ht := range p.headers {
		val, err := ht.value.render(nil, v)
		if err != nil {
			return Request{}, fmt.Errorf("profile %s: header %s: %w", p.Name, ht.name, err)
		}
		set(ht.name, string(val))
	}
	for k, val := range m.Webhook.Headers {
		set(k, val)
	}
	if p.scheme != nil {
		sig, err := p.scheme.Sign(m.Secrets, m.Event.ID, m.SentAt, body)
		if err != nil {
			return Request{}, fmt.Errorf("profile %s: signature: %w", p.Name, err)
		}
		set(p.scheme.Header, sig)
	}
	return Request{Body: body, Header: h}, nil
}

// Body renders the body of one attempt alone, as Render does: what a log
// shows of the request sent (m.Secrets are not needed).
func (p *Profile) Body(m Message) ([]byte, error) {
	return p.body(&values{m: &m, sentAt: m.SentAt})
}

func (p *Profile) body(v *values) ([]byte, error) {
	body, err := p.envelope.render(make([]byte, 0, len(v.m.Event.Data)+256), v)
	if err != nil {
		return nil, fmt.Errorf("profile %s: envelope: %w", p.Name, err)
	}
	if p.ecmascript {
		if body, err = webhook.ECMAScriptJSON(body); err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.Name, err)
		}
	}
	if p.escape {
		body = webhook.EscapeSlashes(body)
	}
	return body, nil
}

// SecretKind says what secrets the profile's webhooks need: "whsec" (Standard
// Webhooks symmetric), "ed25519" (a whsk_ signing key), "raw" (any string) or ""
// (no signature).
func (p *Profile) SecretKind() string {
	switch {
	case p.scheme == nil:
		return ""
	case p.scheme.Algorithm == "ed25519":
		return "ed25519"
	case p.scheme.Key == "whsec":
		return "whsec"
	}
	return "raw"
}

// ValidateSecret checks a webhook secret for this profile.
func (p *Profile) ValidateSecret(secret string) error {
	switch p.SecretKind() {
	case "whsec":
		if _, err := webhook.DecodeSecret(secret); err != nil || !strings.HasPrefix(secret, webhook.SecretPrefix) {
			return hookline.Invalid("secret", "must be whsec_ followed by base64 of 16 to 64 random bytes (or leave it out to have one generated)")
		}
	case "ed25519":
		if _, err := webhook.PublicKey(secret); err != nil {
			return hookline.Invalid("secret", "must be a whsk_ ed25519 signing key (or leave it out to have one generated)")
		}
	default:
		if p.secret != nil && p.secret.strict {
			return p.secret.validate(secret)
		}
		if len(secret) < 8 || len(secret) > 512 {
			return hookline.Invalid("secret", "must be 8 to 512 characters (or leave it out to have one generated)")
		}
	}
	return nil
}

// NewSecret returns a fresh secret of the kind the profile needs, in its
// secret format when it sets one.
func (p *Profile) NewSecret() (string, error) {
	if p.SecretKind() == "ed25519" {
		return webhook.NewSigningKey()
	}
	if p.secret != nil {
		return p.secret.generate()
	}
	return webhook.NewSecret(), nil
}

// PublicKey returns the whpk_ key receivers verify with, for ed25519 profiles.
func (p *Profile) PublicKey(secret string) string {
	if p.SecretKind() != "ed25519" {
		return ""
	}
	pk, err := webhook.PublicKey(secret)
	if err != nil {
		return ""
	}
	return pk
}

func sortHeaders(hs []headerTemplate) {
	slices.SortFunc(hs, func(a, b headerTemplate) int { return strings.Compare(a.name, b.name) })
}

// VerifyScheme returns the scheme a receiver verifies this profile's requests
// with: the signing scheme, told which headers carry the send time and the event
// id (the headers whose whole template is {send.unix} and {event.id}). Nil when
// the profile does not sign.
func (p *Profile) VerifyScheme() *webhook.Scheme {
	if p.scheme == nil {
		return nil
	}
	s := *p.scheme
	for _, h := range p.headers {
		switch ph := h.value.single(); {
		case ph == nil:
		case ph.name == "send.unix" && s.TimestampHeader == "":
			s.TimestampHeader = h.name
		case ph.name == "event.id" && s.IDHeader == "":
			s.IDHeader = h.name
		}
	}
	return &s
}
