package protocol

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Handshake is the parsed WebSocket subscription request (the signed `data` object).
type Handshake struct {
	Sender           string
	SubscriptionType string  // collectorInfo.subscriptionType, "" if absent
	Timestamp        float64 // collectorInfo.timestamp (Unix ms), 0 if absent
	// Cursor maps a stream ("cycle", "receipt", "originalTx") to the "cursor" of the last frame
	// of that stream the client processed. A missing stream means live data only.
	Cursor map[string]string
}

// ParseHandshake extracts the handshake from a Parse result. Authenticate it first with
// Auth.Validate(body, HandshakeSchema); this only checks the shape of what it extracts, in
// particular the optional top-level "cursor" object, whose keys must be stream names and whose
// values must be non-empty strings.
func ParseHandshake(body any) (Handshake, error) {
	obj, ok := body.(map[string]any)
	if !ok {
		return Handshake{}, fmt.Errorf("protocol: handshake data must be a JSON object, got %s", typeOf(body))
	}
	var h Handshake
	sender, ok := obj["sender"].(string)
	if !ok || sender == "" {
		return Handshake{}, fmt.Errorf("protocol: handshake sender must be a non-empty string")
	}
	h.Sender = sender
	if ci, ok := obj["collectorInfo"].(map[string]any); ok {
		h.SubscriptionType, _ = ci["subscriptionType"].(string)
		h.Timestamp, _ = ci["timestamp"].(float64)
	}
	switch c := obj["cursor"].(type) {
	case nil:
	case map[string]any:
		if len(c) > 0 {
			h.Cursor = make(map[string]string, len(c))
		}
		for k, v := range c {
			if !Kind(k).Valid() {
				return Handshake{}, fmt.Errorf("protocol: handshake cursor: unknown stream %q (want cycle, receipt or originalTx)", k)
			}
			s, ok := v.(string)
			if !ok || s == "" {
				return Handshake{}, fmt.Errorf("protocol: handshake cursor.%s must be a non-empty string, got %s", k, typeOf(v))
			}
			h.Cursor[k] = s
		}
	default:
		return Handshake{}, fmt.Errorf("protocol: handshake cursor must be an object, got %s", typeOf(c))
	}
	return h, nil
}

// HandshakeData returns the JSON text of the `data` query parameter of a subscription URL's raw
// query, decoded as the reference does: once by the URL parser (form decoding, '+' is a space)
// and once more with decodeURIComponent.
func HandshakeData(rawQuery string) ([]byte, error) {
	var raw string
	found := false
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if formUnescape(k) == "data" {
			raw, found = v, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("protocol: subscription URL has no data parameter")
	}
	once := formUnescape(raw)
	twice, err := decodeURIComponent(once)
	if err != nil {
		return nil, err
	}
	return []byte(twice), nil
}

// formUnescape decodes like URLSearchParams: '+' is a space, valid %XX escapes are bytes,
// anything else is kept, and the bytes are read as UTF-8 with replacement.
func formUnescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && unhex(s[i+1]) >= 0 && unhex(s[i+2]) >= 0:
			b = append(b, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(appendUTF8Replacing(nil, b))
}

// decodeURIComponent fails, like JavaScript's (URIError), on a malformed escape or escapes that
// are not UTF-8.
func decodeURIComponent(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	u, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("protocol: data parameter: URI malformed: %v", err)
	}
	if !utf8.ValidString(u) {
		return "", fmt.Errorf("protocol: data parameter: URI malformed: escapes are not UTF-8")
	}
	return u, nil
}
