package queryapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

func TestFrameworkErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, method, path, ctype string
		body                      io.Reader
		status                    int
		want                      string
	}{
		{"unknown route", "GET", "/nope?x=1", "", nil, 404, `{"message":"Route GET:/nope?x=1 not found","error":"Not Found","statusCode":404}`},
		{"GET on a POST route", "GET", "/receipt", "", nil, 404, `{"message":"Route GET:/receipt not found","error":"Not Found","statusCode":404}`},
		{"POST on a GET route", "POST", "/config", "application/json", strings.NewReader("{}"), 404, `{"message":"Route POST:/config not found","error":"Not Found","statusCode":404}`},
		{"case matters", "POST", "/cycleInfo", "application/json", strings.NewReader("{}"), 404, `{"message":"Route POST:/cycleInfo not found","error":"Not Found","statusCode":404}`},
		{"empty JSON body", "POST", "/receipt", "application/json", strings.NewReader(""), 400,
			`{"statusCode":400,"code":"FST_ERR_CTP_EMPTY_JSON_BODY","error":"Bad Request","message":"Body cannot be empty when content-type is set to 'application/json'"}`},
		{"media type", "POST", "/receipt", "application/xml", strings.NewReader("<a/>"), 415,
			`{"statusCode":415,"code":"FST_ERR_CTP_INVALID_MEDIA_TYPE","error":"Unsupported Media Type","message":"Unsupported Media Type: application/xml"}`},
		{"too large", "POST", "/receipt", "application/json", bytes.NewReader(make([]byte, queryapi.MaxBody+1)), 413,
			`{"statusCode":413,"code":"FST_ERR_CTP_BODY_TOO_LARGE","error":"Payload Too Large","message":"Request body is too large"}`},
		{"too large, chunked", "POST", "/receipt", "application/json", io.MultiReader(strings.NewReader(`{"a":"`), strings.NewReader(strings.Repeat("x", queryapi.MaxBody))), 413,
			`{"statusCode":413,"code":"FST_ERR_CTP_BODY_TOO_LARGE","error":"Payload Too Large","message":"Request body is too large"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.ctype, c.body)
			if r.status != c.status || string(r.body) != c.want {
				t.Errorf("%d %s\nwant %d %s", r.status, r.body, c.status, c.want)
			}
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("CORS header missing")
			}
		})
	}

	t.Run("exactly 1 MiB is accepted", func(t *testing.T) {
		pad := queryapi.MaxBody - len(`{"a":""}`)
		body := `{"a":"` + strings.Repeat("x", pad) + `"}`
		e.errorReply(e.do("POST", "/receipt", "application/json", strings.NewReader(body)), "Invalid request data sender is required")
	})
	t.Run("invalid JSON", func(t *testing.T) {
		r := e.do("POST", "/receipt", "application/json", strings.NewReader(`{"count": }`))
		if r.status != 400 || !strings.HasPrefix(string(r.body), `{"statusCode":400,"error":"Bad Request","message":"Invalid JSON body: `) {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("bodies that fail validation", func(t *testing.T) {
		e.errorReply(e.do("POST", "/receipt", "", nil), "Invalid request data input is undefined")
		e.errorReply(e.do("POST", "/receipt", "application/json", strings.NewReader("null")), "Invalid request data input is null")
		e.errorReply(e.do("POST", "/receipt", "text/plain", strings.NewReader(`{"count":1}`)), "Invalid request data input must be object, not string")
		e.errorReply(e.do("POST", "/receipt", "application/json; charset=utf-8", strings.NewReader(`[1]`)), "Invalid request data sender is required") // typeof [] is "object"
		e.errorReply(e.do("POST", "/receipt", "application/json", strings.NewReader(`"x"`)), "Invalid request data input must be object, not string")
		e.errorReply(e.do("POST", "/totalData", "application/json", strings.NewReader(`{}`)), "Invalid request data sender is required")
	})
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	signed := func(s protocol.Signer, obj map[string]any) []byte {
		b, err := s.SignObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	post := func(body []byte) resp { return e.do("POST", "/cycleinfo", "application/json", bytes.NewReader(body)) }
	me := e.client.Keys.PublicHex

	// schema order: start, end, count, sender, sign
	e.errorReply(post(signed(e.client, map[string]any{"sender": me, "count": "3", "start": true})), "Invalid request data start must be, number")
	e.errorReply(post(signed(e.client, map[string]any{"sender": me, "count": "3"})), "Invalid request data count must be, number")
	e.errorReply(post(signed(e.client, map[string]any{"sender": me, "count": nil})), "Invalid request data count must be, number")
	e.errorReply(post([]byte(`{"count":1,"sender":null}`)), "Invalid request data sender cannot be null")
	e.errorReply(post([]byte(`{"count":1,"sender":"`+me+`"}`)), "Invalid request data sign is required")
	e.errorReply(post([]byte(`{"count":1,"sender":"`+me+`","sign":{"owner":"`+me+`"}}`)), "Invalid request data signature sig is required")

	good := signed(e.client, map[string]any{"sender": me, "count": 1.0})
	if m := e.signedReply(post(good)); len(list(t, m, "cycleInfo")) != 1 {
		t.Error("good request failed")
	}
	// Whitespace and key order on the wire do not matter.
	v, _ := protocol.Parse(good)
	m := v.(map[string]any)
	spaced := []byte("{\n \"sign\": {\"sig\": \"" + m["sign"].(map[string]any)["sig"].(string) + "\", \"owner\": \"" + me + "\"},\n \"count\": 1, \"sender\": \"" + me + "\"}")
	e.signedReply(post(spaced))

	tampered := bytes.Replace(good, []byte(`"count":1`), []byte(`"count":2`), 1)
	e.errorReply(post(tampered), "Invalid signature")
	extra := bytes.Replace(good, []byte(`"count":1`), []byte(`"count":1,"more":true`), 1)
	e.errorReply(post(extra), "Invalid signature") // unknown fields are part of the signed hash

	stranger := signer(t, "stranger")
	e.errorReply(post(signed(stranger, map[string]any{"sender": me, "count": 1.0})), "Data sender publicKey and sign owner key does not match")
	forged := bytes.Replace(signed(stranger, map[string]any{"sender": stranger.Keys.PublicHex, "count": 1.0}),
		[]byte(stranger.Keys.PublicHex), []byte(me), -1)
	e.errorReply(post(forged), "Invalid signature")
	e.errorReply(post([]byte(`{"count":1,"sender":"`+me+`","sign":{"owner":"`+me+`","sig":"zz"}}`)), "Error validating request data")

	t.Run("subscribers only", func(t *testing.T) {
		now := time.Now()
		e.auth = protocol.Auth{HashKey: e.server.HashKey, LimitToSubscribersOnly: true, Now: func() time.Time { return now },
			Subscribers: protocol.SubscriberMap([]protocol.Subscriber{
				{PublicKey: me, ExpirationTimestamp: now.Add(time.Hour).UnixMilli(), SubscriptionType: "FIREHOSE"},
				{PublicKey: stranger.Keys.PublicHex, ExpirationTimestamp: now.Add(-time.Hour).UnixMilli(), SubscriptionType: "FIREHOSE"},
			})}
		defer func() { e.auth = protocol.Auth{HashKey: e.server.HashKey} }()
		e.signedReply(post(good)) // §9.1 fixed: a future expiry is valid
		e.errorReply(post(signed(stranger, map[string]any{"sender": stranger.Keys.PublicHex, "count": 1.0})), "Subscriber subscription expired")
		other := signer(t, "distributor")
		e.errorReply(post(signed(other, map[string]any{"sender": other.Keys.PublicHex, "count": 1.0})), "Data request sender is not a subscriber")
	})
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	r := e.do("OPTIONS", "/receipt", "", nil, "Origin", "https://x.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type,x-a")
	if r.status != 204 || len(r.body) != 0 || r.header.Get("Access-Control-Allow-Methods") != "GET,HEAD,PUT,PATCH,POST,DELETE" ||
		r.header.Get("Access-Control-Allow-Headers") != "content-type,x-a" || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("Vary") != "Origin, Access-Control-Request-Headers" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" || r.header.Get("Access-Control-Max-Age") != "" {
		t.Error("credentials or max-age set")
	}
	for _, h := range [][]string{{"Origin", "https://x.example"}, {"Access-Control-Request-Method", "POST"}, nil} {
		r := e.do("OPTIONS", "/anything", "", nil, h...)
		if r.status != 400 || string(r.body) != "Invalid Preflight Request" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("bad preflight %v: %d %q", h, r.status, r.body)
		}
	}
	// Any path, known or not.
	r = e.do("OPTIONS", "/no/such/route", "", nil, "Origin", "null", "Access-Control-Request-Method", "GET")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight on an unknown path: %d %v", r.status, r.header)
	}
	r = e.do("HEAD", "/metrics", "", nil)
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("HEAD /metrics: %d %v", r.status, r.header)
	}
	r = e.post("/totalData", nil)
	if r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Vary") != "Origin" {
		t.Errorf("simple request headers %v", r.header)
	}
}

// remoteAs makes the API see each request as coming from the X-Test-Remote address: the test
// server listens on loopback, which the rate limit exempts.
func remoteAs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("X-Test-Remote"); a != "" {
			r.RemoteAddr = a
		}
		h.ServeHTTP(w, r)
	})
}

func TestRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, func(o *queryapi.Options) { o.RateLimit = 3; o.Now = clock })
	e.api.Handle("GET /is-alive", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "OK") }))
	srv := httptest.NewServer(remoteAs(e.api))
	defer srv.Close()
	get := func(path, remote string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Test-Remote", remote)
		r, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 1; i <= 3; i++ {
		r := get("/config", "203.0.113.7:5000")
		r.Body.Close()
		if r.StatusCode != 200 || r.Header.Get("x-ratelimit-limit") != "3" || r.Header.Get("x-ratelimit-remaining") != string(rune('0'+3-i)) ||
			r.Header.Get("x-ratelimit-reset") != "1" {
			t.Fatalf("request %d: %d %v", i, r.StatusCode, r.Header)
		}
	}
	r := get("/is-alive", "203.0.113.7:5001") // the parent's routes share the limit
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 429 || r.Header.Get("retry-after") != "1" || r.Header.Get("x-ratelimit-remaining") != "0" ||
		string(b) != `{"statusCode":429,"error":"Too Many Requests","message":"Rate limit exceeded, retry in 1 second"}` ||
		r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("over the limit: %d %v %s", r.StatusCode, r.Header, b)
	}
	// Preflights of a limited client still answer.
	pre, _ := http.NewRequest("OPTIONS", srv.URL+"/config", nil)
	pre.Header.Set("X-Test-Remote", "203.0.113.7:5003")
	pre.Header.Set("Origin", "https://x.example")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	if r, err := srv.Client().Do(pre); err != nil || r.StatusCode != 204 {
		t.Errorf("preflight of a limited client: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	// Other clients and loopback are not limited.
	for _, remote := range []string{"203.0.113.8:1", "127.0.0.5:1", "[::1]:1", "[::ffff:127.0.0.1]:1"} {
		if r := get("/config", remote); r.StatusCode != 200 {
			t.Errorf("%s: %d", remote, r.StatusCode)
		} else {
			r.Body.Close()
		}
	}
	// A new window after one second.
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if r := get("/is-alive", "203.0.113.7:5002"); r.StatusCode != 200 || r.Header.Get("x-ratelimit-remaining") != "2" {
		t.Errorf("next window: %d %v", r.StatusCode, r.Header)
	} else {
		r.Body.Close()
	}
}

func TestHandlePanicAndExtraRoutes(t *testing.T) {
	e := newEnv(t)
	var logs syncBuffer
	e.api = queryapi.New(queryapi.Options{Store: e.store, Signer: func() protocol.Signer { return e.server },
		Auth: func() protocol.Auth { return e.auth }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e.srv.Config.Handler = e.api
	e.api.Handle("GET /boom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("kaboom") }))
	e.api.Handle("GET /is-healthy", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "OK")
	}))
	r := e.do("GET", "/boom", "", nil)
	if r.status != 500 || string(r.body) != `{"statusCode":500,"error":"Internal Server Error","message":"kaboom"}` {
		t.Errorf("%d %s", r.status, r.body)
	}
	r = e.do("GET", "/is-healthy", "", nil)
	if r.status != 200 || string(r.body) != "OK" || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%d %s", r.status, r.body)
	}
	if r := e.do("POST", "/is-healthy", "", nil); r.status != 404 {
		t.Errorf("POST /is-healthy: %d", r.status)
	}
	e.signedReply(e.post("/totalData", nil)) // still serving
	if n := strings.Count(logs.String(), "handler panic"); n != 1 {
		t.Errorf("panic logged %d times:\n%s", n, logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestConfigAndMetrics(t *testing.T) {
	e := newEnv(t, func(o *queryapi.Options) {
		o.PublicConfig = func() any {
			return map[string]any{
				"DISTRIBUTOR_IP": "0.0.0.0", "DISTRIBUTOR_PORT": 6100, "DISTRIBUTOR_PUBLIC_KEY": "758b",
				"DISTRIBUTOR_SECRET_KEY": "3be0", "DISTRIBUTOR_HASH_KEY": "69fa", "limitToSubscribersOnly": true,
				"subscribers": []protocol.Subscriber{{PublicKey: "a"}, {PublicKey: "b"}},
			}
		}
	})
	r := e.do("GET", "/config", "", nil)
	want := `{"config":{"DISTRIBUTOR_IP":"0.0.0.0","DISTRIBUTOR_PORT":6100,"DISTRIBUTOR_PUBLIC_KEY":"758b","limitToSubscribersOnly":true,"subscriberCount":2}}`
	if r.status != 200 || string(r.body) != want || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("%d %s", r.status, r.body)
	}
	h := e.do("HEAD", "/config", "", nil)
	if h.status != 200 || len(h.body) != 0 || h.header.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("HEAD: %d %q %v", h.status, h.body, h.header)
	}
	cfg := queryapi.PublicConfig("1.2.3.4", 6100, "ab", false, 3)
	if got, _ := protocol.Marshal(queryapi.SanitizeConfig(cfg)); string(got) != `{"DISTRIBUTOR_IP":"1.2.3.4","DISTRIBUTOR_PORT":6100,"DISTRIBUTOR_PUBLIC_KEY":"ab","limitToSubscribersOnly":false,"subscriberCount":3}` {
		t.Errorf("PublicConfig: %s", got)
	}

	r = e.do("GET", "/metrics", "", nil)
	v, err := protocol.Parse(r.body)
	if r.status != 200 || err != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, k := range []string{"cycle", "originalTx", "receipt"} {
		if field(t, v, k, "count") == nil || field(t, v, k, "lastUpdationTimestamp") == nil {
			t.Errorf("metrics %s", r.body)
		}
	}
	if field(t, v, "cycle", "count") != 50.0 {
		t.Errorf("cycle count %v", field(t, v, "cycle", "count"))
	}

	calls := 0
	e2 := newEnv(t, func(o *queryapi.Options) {
		o.Metrics = func() any {
			calls++
			if calls > 1 {
				panic("metrics broke")
			}
			return map[string]any{"cycle": map[string]any{"count": 7, "lastUpdationTimestamp": 1}}
		}
	})
	if r := e2.do("GET", "/metrics", "", nil); string(r.body) != `{"cycle":{"count":7,"lastUpdationTimestamp":1}}` {
		t.Errorf("supplied metrics: %d %s", r.status, r.body)
	}
	if r := e2.do("GET", "/metrics", "", nil); r.status != 500 || string(r.body) != `{"error":"Error getting metrics"}` {
		t.Errorf("metrics panic: %d %s", r.status, r.body)
	}
}
