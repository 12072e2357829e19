package config

import (
	"strconv"
	"strings"
)

// Error is every configuration problem Load and FromJSON report. Error() is a single line that
// names the key (when there is one) and where the offending value came from.
type Error struct {
	Key    string // e.g. "DISTRIBUTOR_PORT", "subscribers[1].publicKey"; "" for file-level problems
	Source Source // where the offending value came from
	Msg    string // the whole message after "config: "
	Err    error  // underlying cause, if any
}

func (e *Error) Error() string { return "config: " + oneLine(e.Msg) }

func (e *Error) Unwrap() error { return e.Err }

// keyError builds "KEY: VALUE from SOURCE PROBLEM", or "KEY from SOURCE PROBLEM" when shown is "".
func keyError(key string, src Source, shown, problem string) *Error {
	var b strings.Builder
	b.WriteString(key)
	if shown != "" {
		b.WriteString(": ")
		b.WriteString(shown)
	}
	b.WriteString(" from ")
	b.WriteString(src.String())
	b.WriteString(" ")
	b.WriteString(problem)
	return &Error{Key: key, Source: src, Msg: b.String()}
}

// quote shows a user-supplied value in an error: quoted, escaped to one line, and cut short.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}
