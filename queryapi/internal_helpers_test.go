package queryapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardeum/distributor/dbstore"
	"github.com/shardeum/distributor/dbstore/archivegen"
	"github.com/shardeum/distributor/protocol"
)

// ienv is an API on a copy of the bundled archive, served over real HTTP, for tests that look at
// the API's insides (the gate, the caches).
type ienv struct {
	t      *testing.T
	api    *API
	srv    *httptest.Server
	client protocol.Signer
	server protocol.Signer
}

func newIenv(t *testing.T, o Options) *ienv {
	t.Helper()
	dir := t.TempDir()
	copyBundledArchive(t, dir)
	return newIenvDir(t, dir, o)
}

func copyBundledArchive(t *testing.T, dir string) {
	t.Helper()
	for _, f := range archivegen.FileNames {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "archiver-db", f))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// newIenvDir serves the archive in dir (which other envs may share).
func newIenvDir(t *testing.T, dir string, o Options) *ienv {
	t.Helper()
	st, err := dbstore.Open(dir, dbstore.DefaultFiles())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hk, err := protocol.ParseHashKey("69fa4195670576c0160d660c3be36556ff8d504725be8a59b5a96509e0c994bc")
	if err != nil {
		t.Fatal(err)
	}
	e := &ienv{t: t}
	for _, s := range []*protocol.Signer{&e.client, &e.server} {
		kp, err := protocol.GenerateKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		*s = protocol.Signer{HashKey: hk, Keys: kp}
	}
	o.Store = st
	o.Signer = func() protocol.Signer { return e.server }
	o.Auth = func() protocol.Auth { return protocol.Auth{HashKey: hk} }
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e.api = New(o)
	return e
}

// start serves the API over HTTP; call it after setting any test hooks (the server's goroutines
// read them).
func (e *ienv) start() {
	e.srv = httptest.NewServer(e.api)
	e.t.Cleanup(e.srv.Close)
}

// body signs params (plus sender) with the client key.
func (e *ienv) body(params map[string]any) []byte {
	e.t.Helper()
	return SignedBody(e.t, e.client, params)
}

// SignedBody is a request body: params plus "sender" (client's public key), signed by client.
// Exported for the external tests (queryapi_test), which are built with this file.
func SignedBody(t testing.TB, client protocol.Signer, params map[string]any) []byte {
	t.Helper()
	obj := map[string]any{"sender": client.Keys.PublicHex}
	for k, v := range params {
		obj[k] = v
	}
	b, err := client.SignObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post posts a signed body and returns the status and the reply; err is a transport error.
func (e *ienv) post(ctx context.Context, path string, params map[string]any) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", e.srv.URL+path, bytes.NewReader(e.body(params)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	r, err := e.srv.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return r.StatusCode, b, err
}

// mustPost posts and expects a 200 whose signature verifies.
func (e *ienv) mustPost(path string, params map[string]any) []byte {
	e.t.Helper()
	status, b, err := e.post(context.Background(), path, params)
	if err != nil {
		e.t.Fatal(err)
	}
	if status != 200 || bytes.Contains(b, []byte(`"success":false`)) {
		e.t.Fatalf("%s %v: HTTP %d %.200s", path, params, status, b)
	}
	if err := protocol.VerifyJSON(e.server.HashKey, b); err != nil {
		e.t.Fatalf("%s %v: reply signature: %v", path, params, err)
	}
	return b
}
