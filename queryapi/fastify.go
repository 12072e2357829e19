package queryapi

import (
	"net/http"
	"strconv"
)

// Framework replies, shaped as Fastify 4 prints them (its error serializer's key order:
// statusCode, code, error, message). They are not signed, as in the reference.

func fastifyError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, fastifyBody(status, code, message))
}

func fastifyBody(status int, code, message string) []byte {
	b := []byte(`{"statusCode":`)
	b = strconv.AppendInt(b, int64(status), 10)
	if code != "" {
		b = append(b, `,"code":`...)
		b = strconv.AppendQuote(b, code)
	}
	b = append(b, `,"error":`...)
	b = appendJSONString(b, statusText(status))
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	return append(b, '}')
}

// notFound is Fastify's default 404 (its own key order: message, error, statusCode).
func notFound(w http.ResponseWriter, r *http.Request) {
	b := []byte(`{"message":`)
	b = appendJSONString(b, "Route "+r.Method+":"+r.URL.RequestURI()+" not found")
	b = append(b, `,"error":"Not Found","statusCode":404}`...)
	writeJSON(w, http.StatusNotFound, b)
}

// appendJSONString quotes s as JSON.stringify does (no HTML escaping).
func appendJSONString(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// statusText is Node's http.STATUS_CODES wording, where it differs from Go's.
func statusText(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "Payload Too Large"
	}
	return http.StatusText(status)
}
