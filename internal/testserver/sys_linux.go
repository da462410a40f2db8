package testserver

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in a process group of its own (so that a
// signal reaches any child it starts, and a terminal's Ctrl-C reaches only
// the test) and has the kernel kill it if the test process dies, so that no
// server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group that p leads.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		if err == syscall.ESRCH {
			return os.ErrProcessDone
		}
		return err
	}
	return nil
}
