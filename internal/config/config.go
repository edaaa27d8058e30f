// Package config is Hookline's one table of settings. Every setting has a flag,
// an environment variable (HOOKLINE_ + the flag's name in upper case, '-' → '_')
// and a default; a flag beats the environment, which beats the default. A Config
// is a value passed down, never a global.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting of the server.
type Config struct {
	Addr                 string
	DB                   string
	AdminKey             string
	PprofAddr            string
	SecretKey            string
	AllowPrivateTargets  bool
	RetrySchedule        []time.Duration
	Timeout              time.Duration
	Lease                time.Duration
	Workers              int
	WebhookConcurrency   int
	MaxPayloadBytes      int64
	MaxWebhooksPerTenant int
	TenantKeyRateLimit   int
	AutoDisableFailures  int
	AutoDisableAfter     time.Duration
	Profiles             string
	// DefaultProfile is the profile of a webhook created without one, in a
	// tenant that has no default of its own.
	DefaultProfile string
	Keyspaces      string
	// PortalFrameAncestors are the origins allowed to embed the tenant
	// portal in a frame; none when empty.
	PortalFrameAncestors []string
	// PublicURL is the server's URL as browsers reach it (behind a proxy),
	// for the links it hands out; empty to use the request's.
	PublicURL         string
	ResponseBodyLimit int
	Retention         time.Duration
	ShutdownTimeout   time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	SQLiteSynchronous string
	PGMaxConns        int
	LogLevel          string
	LogFormat         string
}

// DefaultRetrySchedule is SPEC §3's schedule: immediately, then 5 s, 1 min, 5 min,
// 30 min, 2 h, 6 h, 12 h and 24 h.
const DefaultRetrySchedule = "0s,5s,1m,5m,30m,2h,6h,12h,24h"

type option struct {
	name   string
	def    string
	usage  string
	secret bool
	set    func(c *Config, v string) error
}

var options = []option{
	{"addr", "127.0.0.1:8080", "address the API listens on (host:port)", false, func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return errors.New("must be host:port, e.g. 127.0.0.1:8080")
		}
		c.Addr = v
		return nil
	}},
	{"db", "hookline.db", "database: a SQLite file path or sqlite: URL, or a postgres:// URL to run several nodes on one PostgreSQL database", false, func(c *Config, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		c.DB = v
		return nil
	}},
	{"admin-key", "", "an admin API key that works while it is set, stored at every start (when unset, one is generated and printed on the first start)", true, func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return errors.New("must be at least 16 characters")
		}
		c.AdminKey = v
		return nil
	}},
	{"secret-key", "", "key that encrypts webhook secrets at rest (base64 of 32 bytes); generated and kept beside the database when empty", true, func(c *Config, v string) error {
		c.SecretKey = v
		return nil
	}},
	{"allow-private-targets", "false", "let deliveries reach loopback, private and link-local addresses (local development)", false, func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.AllowPrivateTargets = b
		return nil
	}},
	{"retry-schedule", DefaultRetrySchedule, "comma-separated delays: the first is the delay before the first attempt, each next one the delay before the next retry", false, func(c *Config, v string) error {
		s, err := ParseSchedule(v)
		c.RetrySchedule = s
		return err
	}},
	{"profiles", "", "a YAML profile file, or a directory of *.yaml profiles, loaded at start; each is named after its file (docs/profiles.md)", false, func(c *Config, v string) error {
		c.Profiles = v
		return nil
	}},
	{"default-profile", "standard", "the profile of a webhook created without \"profile\" in a tenant that has no default of its own (PUT /v1/tenants/{tenant}/defaults); checked at start against the loaded profiles", false, func(c *Config, v string) error {
		if v == "" {
			return errors.New("must name a profile, such as standard or formvox")
		}
		c.DefaultProfile = v
		return nil
	}},
	{"keyspaces", "", "a YAML key space file, or a directory of *.yaml key spaces, loaded at start; each is named after its file (docs/keys.md)", false, func(c *Config, v string) error {
		c.Keyspaces = v
		return nil
	}},
	{"portal-frame-ancestors", "", "comma-separated origins allowed to show the tenant portal in a frame, such as https://app.example.com (docs/portal.md); none by default", false, func(c *Config, v string) error {
		c.PortalFrameAncestors = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || strings.ContainsAny(o, " ;'") {
				return fmt.Errorf("%q is not an origin such as https://app.example.com", o)
			}
			c.PortalFrameAncestors = append(c.PortalFrameAncestors, u.Scheme+"://"+u.Host)
		}
		return nil
	}},
	{"public-url", "", "the server's URL as browsers reach it, such as https://hooks.example.com, for the portal links it hands out; when empty, the URL the API request came to", false, func(c *Config, v string) error {
		if v == "" {
			c.PublicURL = ""
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%q is not a URL such as https://hooks.example.com", v)
		}
		c.PublicURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{"timeout", "30s", "time limit of one delivery attempt", false, durationSetter(func(c *Config) *time.Duration { return &c.Timeout }, time.Millisecond)},
	{"lease", "0s", "how long a claimed delivery stays reserved for the node working on it; 0 means timeout + 30s", false, durationSetter(func(c *Config) *time.Duration { return &c.Lease }, 0)},
	{"workers", "128", "concurrent delivery attempts", false, intSetter(func(c *Config) *int { return &c.Workers }, 1)},
	{"webhook-concurrency", "64", "most delivery attempts in flight to one webhook; each webhook's limit adapts below it (docs/delivery.md)", false, intSetter(func(c *Config) *int { return &c.WebhookConcurrency }, 1)},
	{"max-payload-bytes", "1048576", "largest event data accepted, in bytes (larger is 413); a profile's max_payload_bytes and max_body_bytes may limit its webhooks' events further", false, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errors.New("must be a positive number of bytes")
		}
		c.MaxPayloadBytes = n
		return nil
	}},
	{"max-webhooks-per-tenant", "50", "webhooks one tenant may have", false, intSetter(func(c *Config) *int { return &c.MaxWebhooksPerTenant }, 1)},
	{"tenant-key-rate-limit", "1000", "requests per hour allowed to a tenant-limited API key that has no limit of its own", false, intSetter(func(c *Config) *int { return &c.TenantKeyRateLimit }, 1)},
	{"auto-disable-failures", "5", "disable a webhook after this many deliveries in a row ended failed (and no success for auto-disable-after); 0 turns the rule off", false, intSetter(func(c *Config) *int { return &c.AutoDisableFailures }, 0)},
	{"auto-disable-after", "24h", "how long a webhook must have gone without a success before the auto-disable rule applies", false, durationSetter(func(c *Config) *time.Duration { return &c.AutoDisableAfter }, 0)},
	{"response-body-limit", "4096", "bytes of a receiver's response body kept in the logs", false, intSetter(func(c *Config) *int { return &c.ResponseBodyLimit }, 0)},
	{"retention", "720h", "events and attempts older than this are purged in the background; 0 keeps everything", false, durationSetter(func(c *Config) *time.Duration { return &c.Retention }, 0)},
	{"read-timeout", "60s", "time limit for a client to send a whole request, body included (slower gets 408)", false, durationSetter(func(c *Config) *time.Duration { return &c.ReadTimeout }, time.Second)},
	{"write-timeout", "30s", "time limit for writing one answer, from the start of the request (a test send's own time is not counted); a client that does not read is cut off", false, durationSetter(func(c *Config) *time.Duration { return &c.WriteTimeout }, time.Second)},
	{"shutdown-timeout", "35s", "on SIGINT/SIGTERM, how long to wait for attempts in flight before giving up on them", false, durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 0)},
	{"sqlite-synchronous", "FULL", "SQLite durability: FULL (an acknowledged event survives power loss; attempt outcomes, claims and renewals do not wait for the disk even so) or NORMAL (every commit survives a crash of the process, not of the machine; faster)", false, func(c *Config, v string) error {
		v = strings.ToUpper(v)
		if v != "FULL" && v != "NORMAL" {
			return errors.New("must be FULL or NORMAL")
		}
		c.SQLiteSynchronous = v
		return nil
	}},
	{"pg-max-conns", "16", "PostgreSQL: the most connections this node opens (docs/scaling.md)", false, intSetter(func(c *Config) *int { return &c.PGMaxConns }, 2)},
	{"pprof-addr", "", "serve Go's pprof profiles on this host:port (e.g. 127.0.0.1:6060) for performance work; off when empty, never expose it publicly", false, func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return errors.New("must be host:port, e.g. 127.0.0.1:6060")
		}
		c.PprofAddr = v
		return nil
	}},
	{"log-level", "info", "debug, info, warn or error", false, func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return errors.New("must be debug, info, warn or error")
	}},
	{"log-format", "text", "text or json", false, func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
}

func durationSetter(field func(*Config) *time.Duration, min time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("must be a duration such as 30s, 5m or 24h")
		}
		if d < min {
			return fmt.Errorf("must be at least %s", min)
		}
		*field(c) = d
		return nil
	}
}

func intSetter(field func(*Config) *int, min int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("must be a whole number")
		}
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		*field(c) = n
		return nil
	}
}

// EnvName returns the environment variable of an option.
func EnvName(name string) string {
	return "HOOKLINE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Register declares every option on fs, with usage text that names its
// environment variable and default.
func Register(fs *flag.FlagSet) {
	for _, o := range options {
		usage := fmt.Sprintf("%s (env %s", o.usage, EnvName(o.name))
		if o.def != "" && !o.secret {
			usage += ", default " + o.def
		}
		if o.def == "false" || o.def == "true" {
			fs.Bool(o.name, o.def == "true", usage+")")
			continue
		}
		fs.String(o.name, "", usage+")")
	}
}

// Load resolves every option from the parsed fs, then getenv, then its default,
// and validates the result. Errors name the flag and the environment variable.
func Load(fs *flag.FlagSet, getenv func(string) string) (Config, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var c Config
	for _, o := range options {
		v, from := o.def, "default"
		if f := fs.Lookup(o.name); f != nil && set[o.name] {
			v, from = f.Value.String(), "--"+o.name
		} else if e := getenv(EnvName(o.name)); e != "" {
			v, from = e, EnvName(o.name)
		}
		if err := o.set(&c, strings.TrimSpace(v)); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", from, err)
		}
	}
	if c.Lease == 0 {
		c.Lease = c.Timeout + 30*time.Second
	}
	if c.Lease <= c.Timeout {
		return Config{}, fmt.Errorf("config: --lease (%s) must be longer than --timeout (%s)", c.Lease, c.Timeout)
	}
	return c, nil
}

// ParseSchedule parses a comma-separated list of Go durations.
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration (use e.g. 0s,5s,1m)", part)
		}
		if d < 0 {
			return nil, fmt.Errorf("%q is negative", part)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("needs at least one delay (the first is before the first attempt)")
	}
	if len(out) > 50 {
		return nil, errors.New("at most 50 attempts")
	}
	return out, nil
}

// PrintDefaults writes the option table, for --help.
func PrintDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// YAMLFiles lists what --profiles or --keyspaces names: the file itself, or
// the *.yaml and *.yml files of a directory, sorted by path; each is one
// object named after its file without the extension (FileName).
func YAMLFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	files, _ := filepath.Glob(filepath.Join(path, "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(path, "*.yml"))
	files = append(files, more...)
	sort.Strings(files)
	return files, nil
}

// FileName is the name a YAML file gives the object it holds: its base name
// without the extension.
func FileName(path string) string {
	return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".yaml"), ".yml")
}
