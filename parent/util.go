package parent

import (
	"strconv"
	"strings"
)

// goTracked runs f in a goroutine that Run waits for before returning; false (and f
// not run) once Run has stopped waiting.
func (p *parent) goTracked(f func()) bool {
	if !p.enter() {
		return false
	}
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}

// enter counts the caller in p.wg unless Run is past its final wait; the caller
// must call p.wg.Done when it returns true.
func (p *parent) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return false
	}
	p.wg.Add(1)
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }

// oneLine keeps a reason on one line (errors.Join uses newlines).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
