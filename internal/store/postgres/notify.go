package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookline/hookline/internal/store"
)

// channel is the one LISTEN/NOTIFY channel; a message is "topic" or
// "topic payload". NOTIFY is per database, so installations sharing a server do
// not hear each other.
const channel = "hookline"

// Tuning of Listen, variables so tests can shorten them.
var (
	// listenCheck is how long Listen waits for a message before checking that its
	// connection still answers: a connection silently dropped (by a NAT or a
	// failover) would otherwise wait forever.
	listenCheck = 30 * time.Second
	// listenBackoff bounds the pause between reconnection attempts.
	listenBackoffMin, listenBackoffMax = 50 * time.Millisecond, 5 * time.Second
)

// message encodes a notification, refusing what NOTIFY or the decoding cannot
// carry.
func message(topic, payload string) (string, error) {
	if topic == "" || strings.ContainsAny(topic, " \x00") {
		return "", fmt.Errorf("store: notify: invalid topic %q", topic)
	}
	msg := topic
	if payload != "" {
		msg += " " + payload
	}
	if len(msg) >= 8000 {
		return "", fmt.Errorf("store: notify: message of %d bytes; NOTIFY carries fewer than 8000", len(msg))
	}
	return msg, nil
}

// Notify implements store.Notifier. It runs in a transaction of its own, so the
// message is sent when Notify returns.
func (s *Store) Notify(ctx context.Context, topic, payload string) error {
	msg, err := message(topic, payload)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, msg); err != nil {
		return fmt.Errorf("store: notify: %w", interpretError(err))
	}
	return nil
}

// notifyTx queues a message that PostgreSQL sends when tx commits, and drops if
// it rolls back: the store's own news (deliveries due now) travels with the
// commit that makes it true.
func notifyTx(ctx context.Context, tx txConn, topic, payload string) error {
	msg, err := message(topic, payload)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", channel, msg)
	return err
}

// Listen implements store.Notifier on a connection of its own, outside the pool.
// It returns nil when ctx ends or the store is closed.
func (s *Store) Listen(ctx context.Context, fn func(topic, payload string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	lost := false
	backoff := listenBackoffMin
	for {
		conn, err := s.listenConnect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			lost = true
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, listenBackoffMax)
			continue
		}
		backoff = listenBackoffMin
		if lost {
			fn(store.TopicReconnected, "")
		}
		receive(ctx, conn, fn)
		closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Second)
		conn.Close(closeCtx)
		cancelClose()
		if ctx.Err() != nil {
			return nil
		}
		lost = true
	}
}

// listenConnect opens a connection and listens on the channel.
func (s *Store) listenConnect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.listen)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive passes conn's notifications to fn until ctx ends or the connection
// fails.
func receive(ctx context.Context, conn *pgx.Conn, fn func(topic, payload string)) {
	for {
		wait, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			topic, payload, _ := strings.Cut(n.Payload, " ")
			fn(topic, payload)
			continue
		case ctx.Err() != nil:
			return
		case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
			// Quiet for a while: make sure the connection still answers.
			ping, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = conn.Ping(ping)
			cancel()
			if err == nil {
				continue
			}
		}
		return
	}
}
