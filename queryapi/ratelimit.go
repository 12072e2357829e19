package queryapi

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// limiter is the INTENDED @fastify/rate-limit setup: at most max requests per client IP in a fixed
// 1-second window that starts with the client's first request (the reference's window is 10 ms by
// mistake, rest-api.md §9.5). Loopback clients (127.0.0.0/8, ::1, and their IPv4-mapped forms) are
// exempt, as the reference exempts 127.0.0.1.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	clients   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	count int
	reset time.Time
}

func newLimiter(max int, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{max: max, window: time.Second, now: now, clients: map[netip.Addr]*bucket{}}
}

func clientAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// allow counts the request, sets the x-ratelimit headers and, over the limit, writes the 429.
func (l *limiter) allow(w http.ResponseWriter, r *http.Request) bool {
	if l == nil || l.max <= 0 {
		return true
	}
	ip, ok := clientAddr(r)
	if !ok || ip.IsLoopback() {
		return true
	}
	now := l.now()
	l.mu.Lock()
	if now.Sub(l.lastSweep) > l.window && len(l.clients) > 0 {
		for k, b := range l.clients {
			if !now.Before(b.reset) {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	b := l.clients[ip]
	if b == nil || !now.Before(b.reset) {
		b = &bucket{reset: now.Add(l.window)}
		l.clients[ip] = b
	}
	b.count++
	count, left := b.count, b.reset.Sub(now)
	l.mu.Unlock()

	secs := int((left + time.Second - 1) / time.Second) // seconds until the window resets, rounded up
	h := w.Header()
	h.Set("x-ratelimit-limit", strconv.Itoa(l.max))
	h.Set("x-ratelimit-remaining", strconv.Itoa(max(0, l.max-count)))
	h.Set("x-ratelimit-reset", strconv.Itoa(secs))
	if count <= l.max {
		return true
	}
	h.Set("retry-after", strconv.Itoa(secs))
	fastifyError(w, http.StatusTooManyRequests, "", "Rate limit exceeded, retry in 1 second")
	return false
}
