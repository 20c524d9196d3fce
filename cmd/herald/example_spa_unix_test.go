//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// spaProcAttr puts `go run` and the program it starts in a process group
// of their own, so that stopProcessGroup ends both.
func spaProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func stopProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
}
