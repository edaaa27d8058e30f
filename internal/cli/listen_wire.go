package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
)

// listen reads requests itself, HTTP/1.1 over each accepted connection,
// because net/http gives a handler header names in canonical form
// (X-Formvox-Event) and a receiver's author needs to see them as they were
// sent (X-FormVox-Event). Go still parses and checks each request head
// (http.ReadRequest); what is read here is bounded in size.
const (
	maxWireHead    = 1 << 20  // request line and headers, as net/http's default
	maxWireTrailer = 64 << 10 // trailer fields after a chunked body
	maxWireBody    = 10 << 20
)

// errTooLarge is a request head or body beyond its bound: answered 413 or 431,
// then the connection is closed.
var errTooLarge = errors.New("too large")

// wireRequest is one request as read off the wire.
type wireRequest struct {
	req *http.Request // Go's parse of the head; its Body is not used
	// headers are the header fields in the order they came, with their names
	// spelled as sent.
	headers [][2]string
	body    []byte
}

// readWireHead reads one request head from br: the request line and header
// fields up to the empty line, within maxWireHead bytes. io.EOF means the
// client closed the connection between requests.
func readWireHead(br *bufio.Reader) (*wireRequest, error) {
	head, err := readLines(br, maxWireHead)
	if err != nil {
		return nil, err
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return nil, err
	}
	return &wireRequest{req: req, headers: wireHeaders(head)}, nil
}

// readLines reads lines up to and including the first empty one, within
// limit bytes.
func readLines(br *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	start := 0 // where the line being read starts in buf
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > limit {
			return nil, errTooLarge
		}
		buf = append(buf, frag...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue // a line longer than the buffer: read on
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return nil, io.ErrUnexpectedEOF
		case err != nil:
			return nil, err
		}
		if line := buf[start:]; len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
			return buf, nil
		}
		start = len(buf)
	}
}

// wireHeaders lists the header fields of a request head that http.ReadRequest
// accepted, names as spelled; an obsolete folded line continues the value
// before it.
func wireHeaders(head []byte) [][2]string {
	var hs [][2]string
	lines := strings.Split(string(head), "\n")
	for _, line := range lines[1:] { // after the request line
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
		case line[0] == ' ' || line[0] == '\t':
			if len(hs) > 0 {
				hs[len(hs)-1][1] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, _ := strings.Cut(line, ":")
			hs = append(hs, [2]string{name, strings.TrimSpace(value)})
		}
	}
	return hs
}

// readWireBody reads wr's body from br: Content-Length bytes or a chunked body
// and its trailer, within maxWireBody bytes. A client that waits for it (Expect:
// 100-continue) is told to send it on bw.
func readWireBody(br *bufio.Reader, bw *bufio.Writer, wr *wireRequest) error {
	chunked := len(wr.req.TransferEncoding) > 0 && wr.req.TransferEncoding[0] == "chunked"
	if !chunked && wr.req.ContentLength <= 0 {
		return nil
	}
	if wr.req.ContentLength > maxWireBody {
		return errTooLarge
	}
	if strings.EqualFold(wr.req.Header.Get("Expect"), "100-continue") {
		if _, err := bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if !chunked {
		wr.body = make([]byte, wr.req.ContentLength)
		_, err := io.ReadFull(br, wr.body)
		return err
	}
	// httputil's chunked reader reads from br itself (it is a *bufio.Reader),
	// so nothing of the next request is taken; it stops after the last chunk,
	// before the trailer.
	body, err := io.ReadAll(io.LimitReader(httputil.NewChunkedReader(br), maxWireBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxWireBody {
		return errTooLarge
	}
	wr.body = body
	_, err = readLines(br, maxWireTrailer)
	return err
}

// writeWireResponse answers a request with code and text as its body (none
// when empty), asking the client to close the connection when closing.
func writeWireResponse(bw *bufio.Writer, code int, text string, closing bool) error {
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	if text != "" {
		bw.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	}
	fmt.Fprintf(bw, "Content-Length: %d\r\n", len(text))
	if closing {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	bw.WriteString(text)
	return bw.Flush()
}
