package objectd

import (
	"time"
)

// DiskStatus describes one disk.
type DiskStatus struct {
	Path  string `json:"path"`
	ID    string `json:"id,omitempty"`
	State string `json:"state"` // online, healing, failed or offline
}

// Status is what an operator asks of a store.
type Status struct {
	K             int          `json:"k"`
	M             int          `json:"m"`
	Disks         []DiskStatus `json:"disks"`
	Buckets       int          `json:"buckets"`
	RepairQueue   int64        `json:"repair_queue"`   // objects waiting for repair
	ShardsRebuilt int64        `json:"shards_rebuilt"` // since start
	BytesRebuilt  int64        `json:"bytes_rebuilt"`  // since start
	RepairRate    float64      `json:"repair_rate"`    // bytes per second over the last minute
	// RepairEstimate is how long the queue would take at the rate of the
	// last minute (0 when the queue is empty or nothing was repaired).
	RepairEstimate time.Duration `json:"repair_estimate"`
	DiskFailures   int64         `json:"disk_failures"`
	Scrub          ScrubStatus   `json:"scrub"`
	// Epoch is the ring epoch the store places by (0: local disks only).
	Epoch     uint64          `json:"epoch"`
	Rebalance RebalanceStatus `json:"rebalance"`
}

// ScrubStatus describes the background scrubber.
type ScrubStatus struct {
	Running  bool          `json:"running"`
	Rate     int64         `json:"rate"` // bytes per second
	Interval time.Duration `json:"interval"`
	LastPass time.Time     `json:"last_pass"` // start of the last complete pass
	Current  ScrubProgress `json:"current"`   // the pass running, or the last one
}

// Status reports the store's disks, repair queue, repair rate and scrubber.
func (s *Store) Status() Status {
	st := Status{
		K: s.cfg.DataShards, M: s.cfg.ParityShards,
		RepairQueue: s.queued.Load(), ShardsRebuilt: s.shardsRebuilt.Load(), BytesRebuilt: s.bytesRebuilt.Load(),
		DiskFailures: s.diskFailures.Load(),
	}
	for i, d := range s.disks {
		ds := DiskStatus{Path: s.cfg.Disks[i], State: "offline"}
		if d != nil {
			ds.ID = d.ID()
			switch {
			case d.Failed():
				ds.State = "failed"
			case d.Healing():
				ds.State = "healing"
			default:
				ds.State = "online"
			}
		}
		st.Disks = append(st.Disks, ds)
	}
	s.bucketMu.RLock()
	st.Buckets = len(s.buckets)
	s.bucketMu.RUnlock()
	st.RepairRate = s.repairRate()
	if st.RepairQueue > 0 && st.RepairRate > 0 && st.ShardsRebuilt > 0 {
		perObject := float64(st.BytesRebuilt) / float64(st.ShardsRebuilt)
		st.RepairEstimate = time.Duration(float64(st.RepairQueue) * perObject / st.RepairRate * float64(time.Second))
	}
	s.scrubMu.Lock()
	st.Scrub = ScrubStatus{Running: s.scrubRunning, Rate: s.cfg.ScrubRate, Interval: s.cfg.ScrubInterval, Current: s.scrubLast}
	s.scrubMu.Unlock()
	st.Scrub.LastPass = s.lastScrub()
	st.Epoch = s.Epoch()
	st.Rebalance = s.RebalanceStatus()
	return st
}

// repairRate is the bytes rebuilt per second over the last minute, from
// samples taken at each call.
func (s *Store) repairRate() float64 {
	now := s.cfg.Now()
	b := s.bytesRebuilt.Load()
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	s.rateSamples = append(s.rateSamples, rateSample{now, b})
	for len(s.rateSamples) > 1 && now.Sub(s.rateSamples[0].at) > time.Minute {
		s.rateSamples = s.rateSamples[1:]
	}
	first := s.rateSamples[0]
	if el := now.Sub(first.at).Seconds(); el > 0 {
		return float64(b-first.bytes) / el
	}
	return 0
}

type rateSample struct {
	at    time.Time
	bytes int64
}
