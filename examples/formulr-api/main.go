// Command formulr-api is a tiny Formulr-like API whose keys Hookline issues
// and verifies (package apikeys): campaigns and responses of a tenant, each
// route guarded by the permission it needs.
//
//	HOOKLINE_URL=http://127.0.0.1:8080 HOOKLINE_VERIFY_KEY=hl_… go run ./examples/formulr-api
//
// HOOKLINE_VERIFY_KEY is a Hookline API key with the keys:verify scope; it is
// read from the environment only, so that it does not show in the process
// list. README.md walks through it with curl.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hookline/hookline/apikeys"
)

func main() {
	cfg, err := loadConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "formulr-api:", err)
		os.Exit(2)
	}
	client, err := apikeys.NewClient(cfg.hooklineURL, cfg.verifyKey, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "formulr-api:", err)
		os.Exit(2)
	}
	mw := &apikeys.Middleware{
		Client:   client,
		Keyspace: cfg.keyspace,
		OnError: func(r *http.Request, err error) {
			log.Printf("%s %s: answered 503, keys cannot be verified: %v", r.Method, r.URL.Path, err)
		},
	}
	srv := &http.Server{Addr: cfg.addr, Handler: newRouter(mw), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("formulr-api on http://%s, keys of %q verified by %s", cfg.addr, cfg.keyspace, cfg.hooklineURL)
	log.Fatal(srv.ListenAndServe())
}

// config is what the command is told by flags and environment.
type config struct {
	hooklineURL string
	verifyKey   string
	addr        string
	keyspace    string
}

// loadConfig reads the flags in args, whose defaults come from the
// environment (getenv).
func loadConfig(args []string, getenv func(string) string) (config, error) {
	or := func(env, def string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	var cfg config
	fs := flag.NewFlagSet("formulr-api", flag.ContinueOnError)
	fs.StringVar(&cfg.hooklineURL, "hookline", or("HOOKLINE_URL", "http://127.0.0.1:8080"), "Hookline's base URL ($HOOKLINE_URL)")
	fs.StringVar(&cfg.addr, "addr", or("LISTEN_ADDR", "127.0.0.1:8090"), "address to listen on ($LISTEN_ADDR)")
	fs.StringVar(&cfg.keyspace, "keyspace", "formulr", "the key space of this API's keys")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if cfg.verifyKey = getenv("HOOKLINE_VERIFY_KEY"); cfg.verifyKey == "" {
		return config{}, errors.New("set HOOKLINE_VERIFY_KEY to a Hookline API key with the keys:verify scope")
	}
	return cfg, nil
}

// campaign is a tenant's campaign.
type campaign struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// CreatedBy is the id of the key that created it: what to log and
	// store of a key, never the key itself.
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// store is the API's state: each tenant's campaigns, in memory.
type store struct {
	mu        sync.Mutex
	campaigns map[string][]campaign // by tenant
	next      int
}

// newRouter returns the API's routes, each guarded by mw with the permission
// it needs.
func newRouter(mw *apikeys.Middleware) http.Handler {
	s := &store{campaigns: map[string][]campaign{}}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/campaigns", mw.Require("campaigns:read")(http.HandlerFunc(s.listCampaigns)))
	mux.Handle("POST /v1/campaigns", mw.Require("campaigns:write")(http.HandlerFunc(s.createCampaign)))
	mux.Handle("GET /v1/responses", mw.Require("responses:read")(http.HandlerFunc(s.listResponses)))
	return mux
}

// The handlers run only for a valid key holding the route's permission; the
// Verification says whose it is. Everything is the key's tenant's.

func (s *store) listCampaigns(w http.ResponseWriter, r *http.Request) {
	tenant := apikeys.FromContext(r.Context()).Tenant
	s.mu.Lock()
	items := append([]campaign{}, s.campaigns[tenant]...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *store) createCampaign(w http.ResponseWriter, r *http.Request) {
	v := apikeys.FromContext(r.Context())
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || in.Name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `send {"name": "..."}`})
		return
	}
	s.mu.Lock()
	s.next++
	c := campaign{ID: "cmp_" + strconv.Itoa(s.next), Name: in.Name, CreatedBy: v.KeyID, CreatedAt: time.Now().UTC()}
	s.campaigns[v.Tenant] = append(s.campaigns[v.Tenant], c)
	s.mu.Unlock()
	log.Printf("tenant %s: campaign %s created with key %s", v.Tenant, c.ID, v.KeyID)
	writeJSON(w, http.StatusCreated, c)
}

func (s *store) listResponses(w http.ResponseWriter, r *http.Request) {
	tenant := apikeys.FromContext(r.Context()).Tenant
	writeJSON(w, http.StatusOK, map[string]any{"tenant": tenant, "items": []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
