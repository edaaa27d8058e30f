package hookline

import (
	"encoding/json"
	"time"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryCancelled = "cancelled"
)

// ValidDeliveryStatus reports whether s is one of the delivery statuses.
func ValidDeliveryStatus(s string) bool {
	switch s {
	case DeliveryPending, DeliverySucceeded, DeliveryFailed, DeliveryCancelled:
		return true
	}
	return false
}

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID        string `json:"id"`
	EventID   string `json:"event_id"`
	WebhookID string `json:"webhook_id"`
	Tenant    string `json:"tenant"`
	EventType string `json:"event_type"`
	Status    string `json:"status"`
	// Attempts is how many attempts were made (attempt_count: one name for
	// one thing, the attempts themselves being AttemptList).
	Attempts int `json:"attempt_count"`
	// NextAttemptAt is when the next attempt is due; nil once the delivery ended.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus    int        `json:"last_http_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// AttemptList is filled by the single-delivery read.
	AttemptList []Attempt `json:"attempts,omitempty"`
}

// Attempt is one HTTP request made for a delivery (or for a webhook test).
type Attempt struct {
	ID              string            `json:"id"`
	DeliveryID      string            `json:"delivery_id,omitempty"`
	WebhookID       string            `json:"webhook_id"`
	EventID         string            `json:"event_id"`
	EventType       string            `json:"event_type"`
	Tenant          string            `json:"tenant"`
	Number          int               `json:"attempt"`
	StartedAt       time.Time         `json:"timestamp"`
	DurationMS      int64             `json:"response_time_ms"`
	StatusCode      int               `json:"http_status"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
	Error           string            `json:"error,omitempty"`
}

// HTTPStatus is the status the endpoint answered, nil when there was no
// answer (a timeout, a refused connection: Error says which).
func (a *Attempt) HTTPStatus() *int {
	if a.StatusCode == 0 {
		return nil
	}
	code := a.StatusCode
	return &code
}

// MarshalJSON writes the attempt with http_status null when there was no
// answer, rather than a status 0 no server sends.
func (a Attempt) MarshalJSON() ([]byte, error) {
	type plain Attempt // without this method
	return json.Marshal(struct {
		plain
		HTTPStatus *int `json:"http_status"`
	}{plain(a), a.HTTPStatus()})
}

// Succeeded reports whether the endpoint accepted the attempt: an answer
// with a 2xx status and no error.
func (a *Attempt) Succeeded() bool {
	return a.Error == "" && a.StatusCode >= 200 && a.StatusCode <= 299
}

// RetryCount is how many attempts came before this one (the delivery-log field).
func (a *Attempt) RetryCount() int {
	if a.Number <= 1 {
		return 0
	}
	return a.Number - 1
}
