package parent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// /status is answered only to this host: loopback, or the address the client connected to.
func TestSameHost(t *testing.T) {
	cases := []struct {
		remote, local string
		want          bool
	}{
		{"127.0.0.1:5000", "127.0.0.1:6100", true},
		{"127.8.9.10:5000", "127.0.0.1:6100", true},
		{"[::1]:5000", "[::1]:6100", true},
		{"10.0.0.5:5000", "10.0.0.5:6100", true}, // same machine through its own address
		{"10.0.0.7:5000", "10.0.0.5:6100", false},
		{"203.0.113.9:5000", "0.0.0.0:6100", false},
		{"garbage", "10.0.0.5:6100", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/status", nil)
		r.RemoteAddr = c.remote
		la, _ := net.ResolveTCPAddr("tcp", c.local)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(la)))
		if got := sameHost(r); got != c.want {
			t.Errorf("remote %s local %s: sameHost = %v, want %v", c.remote, c.local, got, c.want)
		}
	}
}
