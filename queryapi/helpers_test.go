package queryapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/dbstore/archivegen"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/queryapi"
)

type vectorKeys struct {
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

var vec struct {
	HashKey string                `json:"hashKey"`
	Keys    map[string]vectorKeys `json:"keys"`
	Sign    []struct {
		Name   string `json:"name"`
		Input  string `json:"input"`
		Signed string `json:"signed"`
	} `json:"sign"`
}

func init() {
	b, err := os.ReadFile("../../shared/protocol/vectors.json")
	if err != nil {
		b, err = os.ReadFile("/work/shared/protocol/vectors.json")
	}
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &vec); err != nil {
		panic(err)
	}
}

func signer(t testing.TB, who string) protocol.Signer {
	t.Helper()
	hk, err := protocol.ParseHashKey(vec.HashKey)
	if err != nil {
		t.Fatal(err)
	}
	k := vec.Keys[who]
	kp, err := protocol.ParseKeyPair(k.PublicKey, k.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.Signer{HashKey: hk, Keys: kp}
}

// copyArchive copies the repository's generated archive into a fresh directory.
func copyArchive(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range archivegen.FileNames {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "archiver-db", f))
		if err != nil {
			t.Fatalf("testdata missing (go run ./dbstore/gen): %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type env struct {
	t      testing.TB
	dir    string
	store  *dbstore.Store
	api    *queryapi.API
	srv    *httptest.Server
	server protocol.Signer // the distributor's key
	client protocol.Signer // the collector's key
	auth   protocol.Auth
}

type option func(*queryapi.Options)

// walArchive switches every file of dir to WAL, as the archiver runs them, and keeps a writer
// connection open on each (the archiver's) until the test ends.
func walArchive(t testing.TB, dir string) {
	t.Helper()
	for _, f := range archivegen.FileNames {
		w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, f)+"?_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		w.SetMaxOpenConns(1)
		if err := w.Ping(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
	}
}

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	return newEnvDir(t, copyArchive(t), opts...)
}

func newEnvDir(t testing.TB, dir string, opts ...option) *env {
	t.Helper()
	e := &env{t: t, dir: dir, server: signer(t, "distributor"), client: signer(t, "collector")}
	var err error
	e.store, err = dbstore.Open(e.dir, dbstore.DefaultFiles())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.auth = protocol.Auth{HashKey: e.server.HashKey}
	o := queryapi.Options{
		Store:     e.store,
		Signer:    func() protocol.Signer { return e.server },
		Auth:      func() protocol.Auth { return e.auth },
		RateLimit: 100,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	e.api = queryapi.New(o)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path, contentType string, body io.Reader, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

// post signs params (plus sender) with the collector key and posts them to path.
func (e *env) post(path string, params map[string]any) resp {
	e.t.Helper()
	return e.do("POST", path, "application/json", bytes.NewReader(queryapi.SignedBody(e.t, e.client, params)))
}

// signedReply checks a 200 signed reply (signature, owner, byte-identity with Signer.SignObject)
// and returns it parsed without "sign".
func (e *env) signedReply(r resp) map[string]any {
	e.t.Helper()
	if r.status != 200 {
		e.t.Fatalf("HTTP %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		e.t.Errorf("Content-Type %q", ct)
	}
	if err := protocol.VerifyJSON(e.server.HashKey, r.body); err != nil {
		e.t.Fatalf("reply signature: %v\n%.300s", err, r.body)
	}
	v, err := protocol.Parse(r.body)
	if err != nil {
		e.t.Fatal(err)
	}
	m := v.(map[string]any)
	sign := m["sign"].(map[string]any)
	if sign["owner"] != e.server.Keys.PublicHex {
		e.t.Errorf("owner %v", sign["owner"])
	}
	delete(m, "sign")
	again, err := e.server.SignObject(m)
	if err != nil {
		e.t.Fatal(err)
	}
	if !bytes.Equal(again, r.body) {
		e.t.Errorf("reply differs from Signer.SignObject of its payload:\n got %.300s\nwant %.300s", r.body, again)
	}
	return m
}

// errorReply expects the signed {error, success:false}.
func (e *env) errorReply(r resp, want string) {
	e.t.Helper()
	m := e.signedReply(r)
	if m["error"] != want || m["success"] != false || len(m) != 2 {
		e.t.Errorf("reply %v, want error %q", m, want)
	}
}

func list(t testing.TB, m map[string]any, key string) []any {
	t.Helper()
	l, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%s is %T (%v)", key, m[key], m)
	}
	return l
}

func field(t testing.TB, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %s: %T", p, v)
		}
		v = m[p]
	}
	return v
}

func ids(t testing.TB, rows []any, key string) string {
	t.Helper()
	var out []string
	for _, r := range rows {
		out = append(out, field(t, r, key).(string)[:6])
	}
	return strings.Join(out, ",")
}

func short(ids ...string) string {
	var out []string
	for _, s := range ids {
		out = append(out, s[:6])
	}
	return strings.Join(out, ",")
}
