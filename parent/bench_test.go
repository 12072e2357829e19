package parent_test

import (
	"net/url"
	"testing"
	"time"
)

// BenchmarkSubscribe measures one subscription end to end through real processes:
// handshake authenticated by the parent, socket handed to a running child, 101 from
// the child, then close. An anchor client keeps the child alive between operations.
//
//	go test -run '^$' -bench Subscribe -benchtime 500x ./parent
func BenchmarkSubscribe(b *testing.B) {
	e := newEnv(b, 100000, false)
	r := startParent(b, e, runOpts{})
	anchor := r.dial(newCollector(b))
	defer anchor.close()
	c := newCollector(b)
	data := c.handshake(b, e.hashKey, time.Now())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := dialWS(r.addr, data, "")
		if err != nil {
			b.Fatal(err)
		}
		w.close()
	}
}

// BenchmarkRefuse measures a refused (forged) handshake: parse, verify, 401, close.
func BenchmarkRefuse(b *testing.B) {
	e := newEnv(b, 5, false)
	r := startParent(b, e, runOpts{})
	c := newCollector(b)
	forged := []byte(string(c.handshake(b, e.hashKey, time.Now())))
	forged[len(forged)-10] ^= 1 // break the signature
	req := upgradeRequest("/?data=" + url.QueryEscape(string(forged)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code, _ := rawRequest(b, r.addr, req); code != 401 {
			b.Fatalf("status %d", code)
		}
	}
}
