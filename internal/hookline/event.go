package hookline

import (
	"encoding/json"
	"time"
)

// Event is something that happened in the product, for one tenant.
type Event struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Type   string `json:"type"`
	// Data is the publisher's JSON, compacted, key order kept.
	Data json.RawMessage `json:"data"`
	// IdempotencyKey is the caller's id (the request's "id" or Idempotency-Key);
	// re-publishing it for the same tenant returns this event.
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Timestamp      time.Time `json:"timestamp"`
	CreatedAt      time.Time `json:"created_at"`
}

// EventType is an entry of the event catalogue.
type EventType struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}
