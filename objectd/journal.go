package objectd

import (
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/basaltstore/basalt/objectd/disk"
)

// openJournals gives the local disks their metadata journals. The disks
// on the device of Config.JournalDir share the journal there, and so one
// sync per batch of updates across all of them: they are on one device,
// so they fail together anyway. Every other disk keeps a journal of its
// own inside it, which fails with it and with nothing else. Both places
// are replayed for every disk (the grouping can change between starts).
func (s *Store) openJournals(local []*disk.Disk) error {
	var replay []string
	if s.cfg.JournalDir != "" {
		replay = append(replay, s.cfg.JournalDir)
	}
	for _, d := range local {
		if d != nil {
			replay = append(replay, ownJournal(d))
		}
	}
	var shared []*disk.Disk
	var alone []*disk.Disk
	if s.cfg.JournalDir != "" {
		if err := s.cfg.FS.MkdirAll(s.cfg.JournalDir, 0o755); err != nil {
			return fmt.Errorf("objectd: create journal directory: %w", err)
		}
		jdev, jok := s.device(s.cfg.JournalDir)
		for _, d := range local {
			if d == nil {
				continue
			}
			if dev, ok := s.device(d.Root()); ok && jok && dev == jdev {
				shared = append(shared, d)
			} else {
				alone = append(alone, d)
			}
		}
	} else {
		for _, d := range local {
			if d != nil {
				alone = append(alone, d)
			}
		}
	}
	var all []*disk.Disk
	for _, d := range local {
		if d != nil {
			all = append(all, d)
		}
	}
	if err := disk.ReplayJournals(s.cfg.FS, replay, all, s.log); err != nil {
		return err
	}
	open := func(dir string, members []*disk.Disk) error {
		j, err := disk.OpenJournal(dir, s.cfg.FS, members, disk.JournalOptions{Logger: s.log})
		if err != nil {
			return err
		}
		s.journals = append(s.journals, j)
		return nil
	}
	if len(shared) > 0 {
		if err := open(s.cfg.JournalDir, shared); err != nil {
			return err
		}
	}
	for _, d := range alone {
		if err := open(ownJournal(d), []*disk.Disk{d}); err != nil {
			return err
		}
	}
	return nil
}

func ownJournal(d *disk.Disk) string { return filepath.Join(d.Root(), "journal") }

// device identifies the device holding path, when the file system says.
func (s *Store) device(path string) (uint64, bool) {
	fi, err := s.cfg.FS.Stat(path)
	if err != nil {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Dev), true
}
