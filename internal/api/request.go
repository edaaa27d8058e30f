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
	"strconv"
	"strings"

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
		if field == "" {
			return errStatus(http.StatusBadRequest, "bad-request", "request body must be a JSON object")
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

// listParams reads ?limit= and ?cursor=.
func listParams(r *http.Request) (store.ListParams, error) {
	p := store.ListParams{Limit: 50, Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return p, errField(http.StatusBadRequest, "limit", "must be a whole number from 1 to 1000")
		}
		p.Limit = n
	}
	return p, nil
}
