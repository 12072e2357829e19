//go:build !linux

package child

import "syscall"

// childSysProcAttr: without Pdeathsig the child relies on its stdin watch to notice the parent is gone.
func childSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
