package profile

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

const formvoxLike = `
signature: {header: X-Sig, payload: "{send.unix}.{body}", prefix: "v1=", key: raw}
secret: {prefix: whsec_, alphabet: alphanumeric, length: 32, strict: true}
`

// TestSecretFormatGenerates: generated secrets have the profile's prefix,
// alphabet and length, for every alphabet.
func TestSecretFormatGenerates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format string
		want   *regexp.Regexp
	}{
		{"{prefix: whsec_, alphabet: alphanumeric, length: 32}", regexp.MustCompile(`^whsec_[A-Za-z0-9]{32}$`)},
		{"{alphabet: base64, length: 40}", regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)},
		{"{prefix: sk_, alphabet: base64url, length: 22}", regexp.MustCompile(`^sk_[A-Za-z0-9_-]{22}$`)},
		{"{alphabet: hex, length: 64}", regexp.MustCompile(`^[0-9a-f]{64}$`)},
		{"{}", regexp.MustCompile(`^[A-Za-z0-9]{32}$`)}, // the defaults
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			p := compileYAML(t, "signature: {header: X-Sig}\nsecret: "+tt.format+"\n")
			seen := map[string]bool{}
			for range 50 {
				s, err := p.NewSecret()
				if err != nil {
					t.Fatal(err)
				}
				if !tt.want.MatchString(s) {
					t.Fatalf("generated %q, want it to match %s", s, tt.want)
				}
				if err := p.ValidateSecret(s); err != nil {
					t.Fatalf("a generated secret is refused: %v", err)
				}
				seen[s] = true
			}
			if len(seen) != 50 {
				t.Errorf("50 secrets generated, %d different", len(seen))
			}
		})
	}
}

// TestSecretFormatNoModuloBias: with 62 characters, a byte taken modulo 62
// would make the first 8 characters 5/4 as frequent as the others; rejection
// sampling keeps them level.
func TestSecretFormatNoModuloBias(t *testing.T) {
	t.Parallel()
	p := compileYAML(t, formvoxLike)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	counts := map[byte]int{}
	for range 8000 {
		s, err := p.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		for i := len("whsec_"); i < len(s); i++ {
			counts[s[i]]++
		}
	}
	first, rest := 0, 0
	for i := range len(alphabet) {
		if i < 8 {
			first += counts[alphabet[i]]
		} else {
			rest += counts[alphabet[i]]
		}
	}
	// Per character, the first 8 against the other 54: 1 ± 0.02 when uniform.
	if ratio := (float64(first) / 8) / (float64(rest) / 54); ratio > 1.08 || ratio < 0.92 {
		t.Errorf("the first 8 characters come %.3f times as often as the others, want 1", ratio)
	}
}

// TestSecretFormatStrict: a strict format refuses given secrets of another
// format, naming secret and the format; a format that is not strict keeps
// the usual 8 to 512 characters.
func TestSecretFormatStrict(t *testing.T) {
	t.Parallel()
	strict := compileYAML(t, formvoxLike)
	loose := compileYAML(t, strings.Replace(formvoxLike, "strict: true", "strict: false", 1))
	tests := []struct {
		secret          string
		strictOK, loose bool
	}{
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true, true},
		{"whsec_0123456789abcdefghijklmnopqrstuv", true, true},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", false, true},   // 31
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwx", false, true}, // 33
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La+/Sw", false, true},  // base64
		{"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false, true},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r", false, true},
		{"short", false, false},
	}
	for _, tt := range tests {
		err := strict.ValidateSecret(tt.secret)
		if (err == nil) != tt.strictOK {
			t.Errorf("strict, %q: got %v, want ok %v", tt.secret, err, tt.strictOK)
		}
		var ve *hookline.ValidationError
		if err != nil && (!errors.As(err, &ve) || ve.Field != "secret" ||
			!strings.Contains(ve.Message, `must be "whsec_" followed by 32 letters and digits (A-Z, a-z, 0-9)`)) {
			t.Errorf("strict, %q: got %v, want a secret error giving the format", tt.secret, err)
		}
		if err := loose.ValidateSecret(tt.secret); (err == nil) != tt.loose {
			t.Errorf("not strict, %q: got %v, want ok %v", tt.secret, err, tt.loose)
		}
	}
}

// TestSecretFormatRefused: formats that cannot be generated, or do not apply.
func TestSecretFormatRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, field, message string
	}{
		{"signature: {header: X, key: whsec}\nsecret: {length: 32}", "secret", "does not apply with signature.key whsec"},
		{"signature: {header: X, algorithm: ed25519}\nsecret: {length: 32}", "secret", "does not apply to ed25519"},
		{"signature: {header: X}\nsecret: {alphabet: base32}", "secret.alphabet", `not "base32"`},
		{"signature: {header: X}\nsecret: {alphabet: hex, length: 31}", "secret.length", "must be 32 to 512"},
		{"signature: {header: X}\nsecret: {alphabet: alphanumeric, length: 21}", "secret.length", "must be 22 to 512"},
		{"signature: {header: X}\nsecret: {prefix: whsec_, length: 507}", "secret.length", "must be 22 to 506"},
		{"signature: {header: X}\nsecret: {prefix: 'a b'}", "secret.prefix", "printable ASCII"},
	}
	for _, tt := range tests {
		d, err := ParseYAML([]byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Compile("t", d, testDefaults)
		var ve *hookline.ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field || !strings.Contains(ve.Message, tt.message) {
			t.Errorf("%s: got %v, want %s: …%s…", tt.src, err, tt.field, tt.message)
		}
	}
}
