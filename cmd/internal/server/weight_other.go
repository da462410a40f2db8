//go:build !linux

package server

// diskWeight is the ring weight of a disk directory; without a portable
// capacity query every disk weighs the same.
func diskWeight(string) uint32 { return defaultWeight }
