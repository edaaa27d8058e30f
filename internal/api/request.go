package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// maxBodyBytes bounds request bodies other than event publishing.
const maxBodyBytes = 1 << 20

// decode reads a JSON object into v, refusing unknown fields, trailing data and
// text that decoding would silently change (checkText), with errors that name
// the field at fault.
func decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return readError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errStatus(http.StatusBadRequest, "bad-request", "request body is empty; send a JSON object")
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		// Decoding null into a struct changes nothing: a PUT would clear the object.
		return errStatus(http.StatusBadRequest, "bad-request", "request body must be a JSON object, not null")
	}
	if err := checkText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return errStatus(http.StatusBadRequest, "bad-request", "request body has data after the JSON object")
	}
	return nil
}

// readError says why a request body could not be read. All of it is the
// client's doing (a body shorter than its Content-Length, broken chunked
// encoding, a client gone, or one too slow for the read timeout), so none of it
// is a 500.
func readError(err error) error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return errStatus(http.StatusRequestTimeout, "request-timeout", "the request body did not arrive within the server's read timeout")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errStatus(http.StatusBadRequest, "bad-request", "the request body ended before its announced length (or its last chunk)")
	}
	return errStatus(http.StatusBadRequest, "bad-request", "the request body could not be read: "+err.Error())
}

func decodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errStatus(http.StatusBadRequest, "bad-request", fmt.Sprintf("request body is not valid JSON (at byte %d): %v", se.Offset, se))
	case errors.As(err, &te):
		field := te.Field
		switch {
		case field == "":
			return errStatus(http.StatusBadRequest, "bad-request", "request body must be a JSON object")
		case te.Type == reflect.TypeFor[timeInput]():
			return errField(http.StatusBadRequest, field, "must be a date-time in RFC 3339 format, such as 2024-05-01T12:00:00Z")
		}
		return errField(http.StatusBadRequest, field, fmt.Sprintf("must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errField(http.StatusBadRequest, name, "unknown field")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errStatus(http.StatusBadRequest, "bad-request", "request body is truncated JSON")
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return errStatus(http.StatusBadRequest, "bad-request", "request body: "+err.Error())
}

// decodeItem decodes raw, an element of an array of a request body that
// decode has read, into v as decode would, naming the field at fault from the
// element's place at (such as events[3].timestamp).
func decodeItem(raw json.RawMessage, v any, at string) error {
	err := strictUnmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return errField(http.StatusBadRequest, at, "must be an object, not "+te.Value)
	}
	err = decodeError(err)
	var he *httpError
	if errors.As(err, &he) && he.field != "" {
		return errField(he.status, at+"."+he.field, he.message)
	}
	return err
}

// timeInput is a date-time of a request body, in RFC 3339. One that is not is
// refused naming its field and that format (decodeError), where time.Time's
// own error would show Go's layout string.
type timeInput struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *timeInput) UnmarshalJSON(b []byte) error {
	if err := t.Time.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: "date-time", Type: reflect.TypeFor[timeInput]()}
	}
	return nil
}

// timePtr returns the time of t, nil if t is.
func (t *timeInput) timePtr() *time.Time {
	if t == nil {
		return nil
	}
	return &t.Time
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int64", "int32", "uint", "float64":
		return "a number"
	}
	return goKind
}

// listParams reads ?limit=, ?cursor= and ?ending_before=. validCursor says
// whether a cursor is the key of an item the list could hold (idCursor, for
// lists of IDs): a cursor that is not is refused, rather than read as a place
// past the end, which would end an iteration early without a word. The
// params ask the store for one item more than the page shows: writePage
// tells from it whether another page follows.
func listParams(r *http.Request, validCursor func(string) bool) (store.ListParams, error) {
	q := r.URL.Query()
	p := store.ListParams{Limit: 50, Cursor: q.Get("cursor"), Before: q.Get("ending_before")}
	if p.Cursor != "" && !validCursor(p.Cursor) {
		return p, errField(http.StatusBadRequest, "cursor", "is not a cursor of this list; pass the next_cursor of the page before, unchanged")
	}
	if p.Before != "" && !validCursor(p.Before) {
		return p, errField(http.StatusBadRequest, "ending_before", "is not a cursor of this list; pass the prev_cursor of the page after, unchanged")
	}
	if p.Cursor != "" && p.Before != "" {
		return p, errField(http.StatusBadRequest, "ending_before", "cannot be used with cursor: a page goes one way")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageItems {
			return p, errField(http.StatusBadRequest, "limit", "must be a whole number from 1 to 1000")
		}
		p.Limit = n
	}
	p.Limit++
	return p, nil
}

// maxPageItems is the largest limit a list takes.
const maxPageItems = store.MaxPageLimit - 1

// createdRange reads ?created_after= and ?created_before=, RFC 3339 times
// (zero when absent): a list keeps what was created at or after the one and
// before the other.
func createdRange(r *http.Request) (after, before time.Time, err error) {
	q := r.URL.Query()
	parse := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return t, errField(http.StatusBadRequest, name, "must be a date-time in RFC 3339 format, such as 2024-05-01T12:00:00Z")
		}
		return t, nil
	}
	if after, err = parse("created_after"); err != nil {
		return
	}
	if before, err = parse("created_before"); err != nil {
		return
	}
	if !after.IsZero() && !before.IsZero() && !after.Before(before) {
		err = errField(http.StatusBadRequest, "created_before", "must be after created_after")
	}
	return
}

// idCursor is the cursor check of a list of IDs made with prefix.
func idCursor(prefix string) func(string) bool {
	return func(c string) bool { return hookline.ValidID(prefix, c) }
}
