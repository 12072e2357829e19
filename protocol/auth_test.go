package protocol

import (
	"strings"
	"testing"
	"time"
)

var authNow = time.UnixMilli(1_700_000_000_000)

// signedBody signs obj with the collector key (sender set to the collector unless given) and
// returns it parsed, as the REST layer would hand it to Validate.
func signedBody(t *testing.T, obj map[string]any, who string) any {
	t.Helper()
	s := testSigner(t, who)
	if _, ok := obj["sender"]; !ok {
		obj["sender"] = s.Keys.PublicHex
	}
	out, err := s.SignObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func handshake(t *testing.T, subType string, ts float64) any {
	return signedBody(t, map[string]any{
		"collectorInfo": map[string]any{"subscriptionType": subType, "timestamp": ts},
	}, "collector")
}

func testAuth(t *testing.T, limit bool, subs ...Subscriber) Auth {
	return Auth{
		HashKey:                vectorHashKey(t, loadVectors(t)),
		LimitToSubscribersOnly: limit,
		Subscribers:            SubscriberMap(subs),
		Now:                    func() time.Time { return authNow },
	}
}

func collectorSub(t *testing.T, exp int64) Subscriber {
	return Subscriber{PublicKey: testSigner(t, "collector").Keys.PublicHex, ExpirationTimestamp: exp, SubscriptionType: "FIREHOSE"}
}

var countSchema = Schema{{Name: "count", Type: "n"}, {Name: "sender", Type: "s"}, {Name: "sign", Type: "o"}}

func mutate(t *testing.T, body any, f func(m map[string]any)) any {
	t.Helper()
	m := body.(map[string]any)
	f(m)
	return m
}

func TestAuthErrorTexts(t *testing.T) {
	now := float64(authNow.UnixMilli())
	open := testAuth(t, false)
	limited := testAuth(t, true, collectorSub(t, 0))
	good := func() any { return signedBody(t, map[string]any{"count": 10.0}, "collector") }
	for _, c := range []struct {
		name   string
		auth   Auth
		body   any
		schema Schema
		want   string
	}{
		{"valid", open, good(), countSchema, ""},
		{"undefined", open, Undefined, countSchema, "Invalid request data input is undefined"},
		{"null", open, nil, countSchema, "Invalid request data input is null"},
		{"string", open, "x", countSchema, "Invalid request data input must be object, not string"},
		{"number", open, 5.0, countSchema, "Invalid request data input must be object, not number"},
		{"boolean", open, true, countSchema, "Invalid request data input must be object, not boolean"},
		{"bigint", open, BigInt{Hex: "1"}, countSchema, "Invalid request data input must be object, not bigint"},
		{"array body", open, []any{}, countSchema, "Invalid request data count is required"},
		{"missing", open, mutate(t, good(), func(m map[string]any) { delete(m, "count") }), countSchema, "Invalid request data count is required"},
		{"null field", open, mutate(t, good(), func(m map[string]any) { m["count"] = nil }), countSchema, "Invalid request data count cannot be null"},
		{"wrong type", open, mutate(t, good(), func(m map[string]any) { m["count"] = "10" }), countSchema, "Invalid request data count must be, number"},
		{"array is not object", open, mutate(t, good(), func(m map[string]any) { m["count"] = []any{} }),
			Schema{{Name: "count", Type: "o"}}, "Invalid request data count must be, object"},
		{"object is not array", open, good(), Schema{{Name: "sign", Type: "a"}}, "Invalid request data sign must be, array"},
		{"boolean type word", open, good(), Schema{{Name: "count", Type: "b"}}, "Invalid request data count must be, boolean"},
		{"bigint type word", open, good(), Schema{{Name: "count", Type: "B"}}, "Invalid request data count must be, bigint"},
		{"last type word wins", open, mutate(t, good(), func(m map[string]any) { m["count"] = true }),
			Schema{{Name: "count", Type: "sn"}}, "Invalid request data count must be, number"},
		{"optional null is a type error", open, mutate(t, good(), func(m map[string]any) { m["start"] = nil }),
			Schema{{Name: "start", Type: "n", Optional: true}}, "Invalid request data start must be, number"},
		{"optional via ?", open, mutate(t, good(), func(m map[string]any) { m["start"] = "1" }),
			Schema{{Name: "start", Type: "n?"}}, "Invalid request data start must be, number"},
		{"optional null object passes typeof", open, mutate(t, good(), func(m map[string]any) { m["o"] = nil }),
			Schema{{Name: "o", Type: "o?"}}, "Invalid signature"}, // null passes "o?" (typeof null is "object"); the signature does not cover o
		{"no sign", open, mutate(t, good(), func(m map[string]any) { delete(m, "sign") }),
			Schema{{Name: "count", Type: "n"}}, "Invalid request data signature input is undefined"},
		{"sign null", open, mutate(t, good(), func(m map[string]any) { m["sign"] = nil }),
			Schema{{Name: "count", Type: "n"}}, "Invalid request data signature input is null"},
		{"sign string", open, mutate(t, good(), func(m map[string]any) { m["sign"] = "s" }),
			Schema{{Name: "count", Type: "n"}}, "Invalid request data signature input must be object, not string"},
		{"owner missing", open, mutate(t, good(), func(m map[string]any) { delete(m["sign"].(map[string]any), "owner") }),
			countSchema, "Invalid request data signature owner is required"},
		{"sig not string", open, mutate(t, good(), func(m map[string]any) { m["sign"].(map[string]any)["sig"] = 5.0 }),
			countSchema, "Invalid request data signature sig must be, string"},
		{"owner mismatch", open, signedBody(t, map[string]any{"count": 1.0, "sender": testSigner(t, "stranger").Keys.PublicHex}, "collector"),
			countSchema, "Data sender publicKey and sign owner key does not match"},
		{"tampered", open, mutate(t, good(), func(m map[string]any) { m["count"] = 11.0 }), countSchema, "Invalid signature"},
		{"unknown field tampered in", open, mutate(t, good(), func(m map[string]any) { m["extra"] = 1.0 }), countSchema, "Invalid signature"},
		{"short sig", open, mutate(t, good(), func(m map[string]any) { m["sign"].(map[string]any)["sig"] = "abcd" }), countSchema, "Error validating request data"},
		{"empty owner and sender", open, mutate(t, good(), func(m map[string]any) { m["sender"] = ""; m["sign"].(map[string]any)["owner"] = "" }),
			countSchema, "Error validating request data"},
		{"not a subscriber", limited, signedBody(t, map[string]any{"count": 1.0}, "stranger"), countSchema, "Data request sender is not a subscriber"},
		{"subscriber valid", limited, good(), countSchema, ""},
		{"expired (intended direction)", testAuth(t, true, collectorSub(t, authNow.UnixMilli()-1)), good(), countSchema, "Subscriber subscription expired"},
		{"expires in the future", testAuth(t, true, collectorSub(t, authNow.UnixMilli()+1)), good(), countSchema, ""},
		{"HTTP routes skip collectorInfo", limited, good(), countSchema, ""},
		{"handshake valid", limited, handshake(t, "FIREHOSE", now), HandshakeSchema, ""},
		{"handshake 29s old", limited, handshake(t, "FIREHOSE", now-29_000), HandshakeSchema, ""},
		{"handshake exactly 30s", limited, handshake(t, "FIREHOSE", now+30_000), HandshakeSchema, ""},
		{"handshake 31s old", limited, handshake(t, "FIREHOSE", now-31_000), HandshakeSchema, "Invalid timestamp"},
		{"handshake 31s ahead", limited, handshake(t, "FIREHOSE", now+31_000), HandshakeSchema, "Invalid timestamp"},
		{"handshake timestamp 0", limited, handshake(t, "FIREHOSE", 0), HandshakeSchema, "Invalid timestamp"},
		{"handshake wrong type", limited, handshake(t, "OTHER", now), HandshakeSchema, "Invalid subscriptionType"},
		{"handshake collectorInfo incomplete", limited, signedBody(t, map[string]any{"collectorInfo": map[string]any{"subscriptionType": "FIREHOSE"}}, "collector"),
			HandshakeSchema, "Invalid collectorInfo timestamp is required"},
		{"handshake collectorInfo bad type", limited, signedBody(t, map[string]any{"collectorInfo": map[string]any{"subscriptionType": 1.0, "timestamp": now}}, "collector"),
			HandshakeSchema, "Invalid collectorInfo subscriptionType must be, string"},
		{"handshake without limit ignores collectorInfo", open, signedBody(t, map[string]any{"collectorInfo": map[string]any{}}, "collector"), HandshakeSchema, ""},
		{"handshake missing collectorInfo", open, signedBody(t, map[string]any{}, "collector"), HandshakeSchema, "Invalid request data collectorInfo is required"},
		{"handshake collectorInfo array", open, signedBody(t, map[string]any{"collectorInfo": []any{}}, "collector"), HandshakeSchema, "Invalid request data collectorInfo must be, object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.auth.Validate(c.body, c.schema); got != c.want {
				t.Fatalf("Validate = %q, want %q", got, c.want)
			}
		})
	}
}

func TestAuthAcceptsReferenceSignedBodies(t *testing.T) {
	v := loadVectors(t)
	a := testAuth(t, false)
	for _, c := range v.Verify {
		body, err := Parse([]byte(c.Signed))
		if err != nil {
			t.Fatal(err)
		}
		got := a.Validate(body, Schema{{Name: "sender", Type: "s"}, {Name: "sign", Type: "o"}})
		if c.Valid && got != "" {
			t.Errorf("%s: %q", c.Name, got)
		}
		if !c.Valid && got != "Invalid signature" && got != "Data sender publicKey and sign owner key does not match" {
			t.Errorf("%s: accepted or wrong error %q", c.Name, got)
		}
	}
}

func TestParseHandshake(t *testing.T) {
	body := signedBody(t, map[string]any{
		"collectorInfo": map[string]any{"subscriptionType": "FIREHOSE", "timestamp": 1700000000000.0},
		"cursor":        map[string]any{"receipt": "r:1", "cycle": "c:2"},
	}, "collector")
	h, err := ParseHandshake(body)
	if err != nil {
		t.Fatal(err)
	}
	if h.Sender != testSigner(t, "collector").Keys.PublicHex || h.SubscriptionType != "FIREHOSE" || h.Timestamp != 1700000000000 ||
		len(h.Cursor) != 2 || h.Cursor["receipt"] != "r:1" || h.Cursor["cycle"] != "c:2" {
		t.Fatalf("%+v", h)
	}
	for name, bad := range map[string]map[string]any{
		"unknown stream": {"sender": "a", "cursor": map[string]any{"account": "x"}},
		"not a string":   {"sender": "a", "cursor": map[string]any{"receipt": 5.0}},
		"empty":          {"sender": "a", "cursor": map[string]any{"receipt": ""}},
		"cursor array":   {"sender": "a", "cursor": []any{}},
		"no sender":      {"cursor": map[string]any{}},
	} {
		if _, err := ParseHandshake(bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := ParseHandshake("x"); err == nil {
		t.Error("string accepted")
	}
	h, err = ParseHandshake(map[string]any{"sender": "a", "cursor": nil})
	if err != nil || h.Cursor != nil {
		t.Fatalf("null cursor: %+v %v", h, err)
	}
}

func TestHandshakeData(t *testing.T) {
	for raw, want := range map[string]string{
		"data=%7B%22a%22%3A1%7D":            `{"a":1}`,
		"x=1&data=%257B%2522a%2522%257D":    `{"a"}`,  // encoded twice
		"data=a+b%2Bc":                      "a b+c",  // '+' is a space once, "%2B" a plus
		"data=%25E2%2582%25AC":              "\u20ac", // UTF-8 escapes decoded on the second pass
		"data=%7B%22k%22%3A%22%C3%A9%22%7D": `{"k":"é"}`,
	} {
		got, err := HandshakeData(raw)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q %v, want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "x=1", "data=%25E2%2582", "data=%25zz"} {
		if got, err := HandshakeData(raw); err == nil {
			t.Errorf("%q accepted: %q", raw, got)
		}
	}
}

func TestValidateTypesBuffersAreObjects(t *testing.T) {
	if got := ValidateTypes(map[string]any{"b": Bytes{Data: []byte{1}}}, Schema{{Name: "b", Type: "o"}}); got != "" {
		t.Fatal(got)
	}
	if got := ValidateTypes(map[string]any{"b": BigInt{Hex: "1"}}, Schema{{Name: "b", Type: "B"}}); got != "" {
		t.Fatal(got)
	}
	if !strings.Contains(ValidateTypes(map[string]any{}, Schema{{Name: "b", Type: "B"}}), "is required") {
		t.Fatal("missing bigint not reported")
	}
}
