package raftmap

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkFailover kills the leader of a three-node group (Shutdown) and
// measures the time until a survivor knows a new leader (ms/election) and
// until a write through a survivor is committed (ns/op), with the test
// timers (150 ms heartbeat and election timeouts) and with the defaults
// (1 s). The old leader is restarted, untimed, between rounds.
func BenchmarkFailover(b *testing.B) {
	b.Run("timeouts=150ms", func(b *testing.B) { benchFailover(b, nil) })
	b.Run("timeouts=default", func(b *testing.B) {
		benchFailover(b, func(c *Config) {
			c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout, c.CommitTimeout = 0, 0, 0, 0
		})
	})
}

func benchFailover(b *testing.B, tune func(*Config)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	nodes, cfgs := cluster(b, ctx, 3, tune)
	var elections time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		leader := leaderOf(b, ctx, nodes...)
		converge(b, ctx, nodes...)
		var survivors []*Node
		li := 0
		for j, n := range nodes {
			if n == leader {
				li = j
			} else {
				survivors = append(survivors, n)
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := leader.Shutdown(); err != nil {
			b.Fatal(err)
		}
		waitNewLeader(b, ctx, survivors[0], leader.ID())
		elections += time.Since(start)
		mustPropose(b, ctx, survivors[1], PutDomain{Domain{ID: fmt.Sprintf("d%d", i), Name: fmt.Sprintf("d%d", i), Created: t0}})
		b.StopTimer()
		nodes[li] = reopen(b, cfgs[li], leader)
		b.StartTimer()
	}
	b.ReportMetric(float64(elections.Milliseconds())/float64(b.N), "ms/election")
}
