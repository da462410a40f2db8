// Package objectd is the data plane of Basalt's storage core: it splits
// objects into erasure-coded shards, writes them to a quorum of disks, and
// reads them back, reconstructing what is missing or corrupt.
package objectd
