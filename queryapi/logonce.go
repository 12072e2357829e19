package queryapi

import (
	"sync"
	"time"
)

// logLimiter lets a recurring failure (a table gone, say, failing on every request) be logged once
// per interval per key instead of once per request; the next message carries how many were
// suppressed.
type logLimiter struct {
	mu      sync.Mutex
	every   time.Duration
	last    map[string]time.Time
	dropped map[string]int
	maxKeys int
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, last: map[string]time.Time{}, dropped: map[string]int{}, maxKeys: 1024}
}

// allow reports whether to log key now, and how many were suppressed since the last time.
func (l *logLimiter) allow(key string) (bool, int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		l.dropped[key]++
		return false, 0
	}
	if len(l.last) >= l.maxKeys {
		clear(l.last)
		clear(l.dropped)
	}
	n := l.dropped[key]
	l.last[key] = now
	delete(l.dropped, key)
	return true, n
}
