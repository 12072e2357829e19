package child

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger silences go-plugin's own logger: what it would say (start failures, exits, kills) this
// package returns as errors or logs itself, with the child's pid; the child's stderr is forwarded by
// stderrForwarder.
func newHCLogger(log *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   "go-plugin",
		Level:  hclog.Off,
		Output: &lineLogger{log: log},
	})
}

type lineLogger struct {
	log *slog.Logger
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

// stderrForwarder re-emits a child's stderr in the parent's log. The child logs JSON (slog's
// JSONHandler), so its level, message and attributes survive; other lines (a panic's stack) are
// logged as they are, at error level.
type stderrForwarder struct {
	log *slog.Logger
	pid atomic.Int64
	mu  sync.Mutex
	buf []byte
}

func (f *stderrForwarder) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			break
		}
		f.line(f.buf[:i])
		f.buf = f.buf[i+1:]
	}
	if len(f.buf) > 64<<10 { // a line that never ends: log what we have
		f.line(f.buf)
		f.buf = nil
	}
	return len(p), nil
}

func (f *stderrForwarder) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	pid := f.pid.Load()
	var m map[string]any
	if b[0] != '{' || json.Unmarshal(b, &m) != nil {
		f.log.Error("child stderr", "child", pid, "line", string(b))
		return
	}
	// slog's JSONHandler writes level/msg/time; hclog's (go-plugin in the child) @level/@message/@timestamp.
	level := slog.LevelInfo
	for _, k := range []string{"level", "@level"} {
		if s, ok := m[k].(string); ok {
			_ = level.UnmarshalText([]byte(s))
		}
	}
	msg, _ := m["msg"].(string)
	if hm, ok := m["@message"].(string); ok {
		msg = hm
	}
	for _, k := range []string{"level", "msg", "time", "@level", "@message", "@timestamp"} {
		delete(m, k)
	}
	attrs := make([]any, 0, 2+2*len(m))
	attrs = append(attrs, "child", pid)
	for k, v := range m {
		attrs = append(attrs, k, v)
	}
	f.log.Log(context.Background(), level, msg, attrs...)
}
