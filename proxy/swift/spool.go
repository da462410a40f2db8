package swift

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// spooled is a chunked request body whose size is now known: in memory,
// or in a temporary file removed by Close.
type spooled struct {
	io.Reader
	size int64
	file *os.File
}

func (s *spooled) Close() error {
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}

// spoolBody reads a body of unknown length (chunked transfer encoding):
// the store needs an object's size before its first byte. Up to
// spoolMemory bytes stay in memory; the rest goes to a temporary file in
// the spool directory. A body larger than the object size limit is 413.
func (s *Server) spoolBody(body io.Reader) (*spooled, error) {
	buf := make([]byte, 0, min(s.lim.spoolMemory, 64<<10))
	b := bytes.NewBuffer(buf)
	n, err := io.Copy(b, io.LimitReader(body, s.lim.spoolMemory+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errClientDisconnect, err)
	}
	if n <= s.lim.spoolMemory {
		if n > s.lim.maxObjectSize {
			return nil, errTooLarge
		}
		return &spooled{Reader: bytes.NewReader(b.Bytes()), size: n}, nil
	}
	f, err := os.CreateTemp(s.spool, "basalt-swift-upload-*")
	if err != nil {
		return nil, fmt.Errorf("%w: spool: %v", errInternal, err)
	}
	sp := &spooled{file: f}
	fail := func(err error) (*spooled, error) {
		_ = sp.Close()
		return nil, err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		return fail(fmt.Errorf("%w: spool: %v", errInternal, err))
	}
	m, err := io.Copy(f, io.LimitReader(body, s.lim.maxObjectSize-n+1))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fail(fmt.Errorf("%w: spool: %v", errInternal, err))
		}
		return fail(fmt.Errorf("%w: %v", errClientDisconnect, err))
	}
	sp.size = n + m
	if sp.size > s.lim.maxObjectSize {
		return fail(errTooLarge)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("%w: spool: %v", errInternal, err))
	}
	sp.Reader = f
	return sp, nil
}
