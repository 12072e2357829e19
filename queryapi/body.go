package queryapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/shardeum/distributor/protocol"
)

// MaxBody is Fastify's default bodyLimit.
const MaxBody = 1 << 20

// rawBody is a request body as read off the connection, before any parsing.
type rawBody struct {
	kind bodyKind
	buf  *[]byte // pooled; nil for bodyNone
}

type bodyKind uint8

const (
	bodyNone bodyKind = iota // no body and no Content-Type: undefined
	bodyJSON
	bodyText
)

func (b rawBody) release() {
	if b.buf != nil {
		putBuf(b.buf)
	}
}

// readRaw reads the body (the I/O part of readBody: done before the request queues for CPU, so a
// slow sender never holds a gate slot). ok is false when a framework error (400, 413, 415) was
// written instead.
func readRaw(w http.ResponseWriter, r *http.Request) (rawBody, bool) {
	if r.ContentLength > MaxBody {
		fastifyError(w, http.StatusRequestEntityTooLarge, "FST_ERR_CTP_BODY_TOO_LARGE", "Request body is too large")
		return rawBody{}, false
	}
	ct, hasCT := r.Header["Content-Type"]
	noBody := r.ContentLength == 0 || (r.ContentLength < 0 && len(r.TransferEncoding) == 0)
	if !hasCT || len(ct) == 0 {
		if noBody {
			return rawBody{kind: bodyNone}, true
		}
		fastifyError(w, http.StatusUnsupportedMediaType, "FST_ERR_CTP_INVALID_MEDIA_TYPE", "Unsupported Media Type: ")
		return rawBody{}, false
	}
	mt := strings.TrimSpace(ct[0])
	var kind bodyKind
	switch {
	case hasPrefixFold(mt, "application/json"):
		kind = bodyJSON
	case hasPrefixFold(mt, "text/plain"):
		kind = bodyText
	default:
		fastifyError(w, http.StatusUnsupportedMediaType, "FST_ERR_CTP_INVALID_MEDIA_TYPE", "Unsupported Media Type: "+ct[0])
		return rawBody{}, false
	}
	buf := getBuf()
	data, err := readAllInto((*buf)[:0], http.MaxBytesReader(w, r.Body, MaxBody), r.ContentLength)
	*buf = data
	if err != nil {
		putBuf(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fastifyError(w, http.StatusRequestEntityTooLarge, "FST_ERR_CTP_BODY_TOO_LARGE", "Request body is too large")
		} else {
			fastifyError(w, http.StatusBadRequest, "", "Could not read the request body: "+err.Error())
		}
		return rawBody{}, false
	}
	return rawBody{kind: kind, buf: buf}, true
}

// readAllInto is io.ReadAll into dst, sized at once when the length is known.
func readAllInto(dst []byte, r io.Reader, n int64) ([]byte, error) {
	if n > 0 && int64(cap(dst)) < n+1 { // +1: room to see EOF without growing
		dst = make([]byte, 0, n+1)
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+m]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// hasPrefixFold is strings.HasPrefix(strings.ToLower(s), prefix) for an ASCII lower-case prefix,
// without allocating.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// parse returns the body as the reference's handlers see it: the safeJsonParse'd value for
// application/json, a string for text/plain, undefined without a body. A non-empty errMsg is a
// Fastify 400 (code, message).
func (b rawBody) parse() (v any, code, errMsg string) {
	switch b.kind {
	case bodyNone:
		return protocol.Undefined, "", ""
	case bodyText:
		return string(*b.buf), "", ""
	}
	data := *b.buf
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "FST_ERR_CTP_EMPTY_JSON_BODY", "Body cannot be empty when content-type is set to 'application/json'"
	}
	v, err := protocol.Parse(data)
	if err != nil {
		return nil, "", "Invalid JSON body: " + err.Error()
	}
	return v, "", ""
}
