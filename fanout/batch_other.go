//go:build !linux

package fanout

// setBatch: scheduling policies are Linux's; elsewhere the child keeps the default.
func setBatch(bool) error { return nil }
