package api

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// checkRequest refuses, before its handler runs, a request whose form the
// route does not take: a query parameter not in allowed (or one given
// twice), or a body not declared as JSON.
func checkRequest(r *http.Request, allowed []string) error {
	if err := checkQuery(r, allowed); err != nil {
		return err
	}
	return checkContentType(r)
}

// checkQuery refuses a query string that does not parse, and a parameter
// that is not one of allowed or that is given more than once: as the body
// decoder refuses unknown fields, so a misspelt filter is not silently
// ignored.
func checkQuery(r *http.Request, allowed []string) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errStatus(http.StatusBadRequest, "bad-request", "the query string is malformed: "+err.Error())
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case name == "":
			return errStatus(http.StatusBadRequest, "bad-request", "the query string has a parameter without a name")
		case !slices.Contains(allowed, name):
			takes := "none"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			return errField(http.StatusBadRequest, name, "unknown query parameter; this route takes "+takes)
		case len(q[name]) > 1:
			return errField(http.StatusBadRequest, name, "is given more than once")
		}
	}
	return nil
}

// checkContentType answers 415 to a POST, PUT or PATCH whose body is not
// declared as JSON: application/json or any type ending in +json, with a
// charset, if any, of UTF-8. A request without a body needs no Content-Type.
func checkContentType(r *http.Request) error {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil
	}
	if has, err := hasBody(r); !has || err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return errUnsupportedMediaType("the request has a body but no Content-Type")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errUnsupportedMediaType(fmt.Sprintf("Content-Type %q is not a media type", ct))
	}
	_, sub, _ := strings.Cut(mt, "/")
	if mt != "application/json" && (!strings.HasSuffix(sub, "+json") || sub == "+json") {
		return errUnsupportedMediaType(fmt.Sprintf("the body is %s", mt))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errUnsupportedMediaType(fmt.Sprintf("the body is in charset %q; JSON is UTF-8", cs))
	}
	return nil
}

func errUnsupportedMediaType(why string) error {
	return errStatus(http.StatusUnsupportedMediaType, "unsupported-media-type",
		why+": send the body as JSON with Content-Type: application/json")
}

// hasBody reports whether r carries a body. A body of unknown length
// (chunked) is peeked at: an empty one makes r a request without a body,
// which the routes whose body is optional then see as such (ContentLength 0).
func hasBody(r *http.Request) (bool, error) {
	if r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody {
		return r.ContentLength > 0, nil
	}
	var b [1]byte
	n, err := r.Body.Read(b[:])
	switch {
	case n == 0 && err == io.EOF:
		r.Body, r.ContentLength = http.NoBody, 0
		return false, nil
	case n == 0 && err != nil:
		return false, readError(err)
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b[:n]), r.Body), r.Body}
	return true, nil
}
