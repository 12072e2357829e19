package parent

import (
	"log/slog"
	"sync"
	"time"
)

// refusalLog logs refused upgrades one line each, with the remote address and the
// reason, up to refusalBurst lines per second; beyond that a flood is summarised in
// one line per second (how many were not logged) so garbage cannot flood the log.
type refusalLog struct {
	log *slog.Logger

	mu         sync.Mutex
	window     time.Time
	logged     int
	suppressed int
}

const refusalBurst = 50

func (l *refusalLog) refuse(remote string, status int, reason string) {
	now := time.Now()
	l.mu.Lock()
	var summary int
	if now.Sub(l.window) >= time.Second {
		summary, l.suppressed = l.suppressed, 0
		l.window, l.logged = now, 0
	}
	ok := l.logged < refusalBurst
	if ok {
		l.logged++
	} else {
		l.suppressed++
	}
	l.mu.Unlock()
	if summary > 0 {
		l.log.Warn("websocket upgrade refusals not logged (over 50 a second)", "count", summary)
	}
	if ok {
		l.log.Warn("websocket upgrade refused", "remote", remote, "status", status, "reason", oneLine(reason))
	}
}

// flush logs what is still suppressed (at stop).
func (l *refusalLog) flush() {
	l.mu.Lock()
	n := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	if n > 0 {
		l.log.Warn("websocket upgrade refusals not logged (over 50 a second)", "count", n)
	}
}
