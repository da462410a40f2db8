package server

import "syscall"

// diskWeight is the ring weight of a disk directory: the capacity of its
// file system in GiB (at least 1).
func diskWeight(path string) uint32 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return defaultWeight
	}
	gib := uint64(st.Blocks) * uint64(st.Bsize) >> 30
	if gib < 1 {
		return 1
	}
	if gib > 1<<31 {
		return 1 << 31
	}
	return uint32(gib)
}
