package delivery

import "sync"

// testSlots bound the test sends in flight (Engine.Test), per webhook and in
// the process. Test sends go around the worker pool and the webhooks' gates, so
// without them every API call would open a connection to the endpoint.
type testSlots struct {
	mu        sync.Mutex
	total     int
	byWebhook map[string]int
}

// take takes a slot for a test send to webhookID and reports whether one was
// free; a taken slot is given back with give.
func (s *testSlots) take(webhookID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= maxTestSends || s.byWebhook[webhookID] >= maxTestSendsPerWebhook {
		return false
	}
	if s.byWebhook == nil {
		s.byWebhook = map[string]int{}
	}
	s.total++
	s.byWebhook[webhookID]++
	return true
}

// give gives back a slot taken for webhookID.
func (s *testSlots) give(webhookID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.byWebhook[webhookID]--; s.byWebhook[webhookID] <= 0 {
		delete(s.byWebhook, webhookID) // the map holds only webhooks being tested
	}
}
