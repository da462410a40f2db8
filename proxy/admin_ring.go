package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/basaltstore/basalt/ring"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// The cluster-map part of the administration API:
//
//	GET    ring                 the map (nodes, disks, policies, epoch), the balance
//	                            of each policy's ring, and the Raft group's members
//	POST   ring  <command>      apply a ring command (ring.EncodeCommand's JSON:
//	                            {"op":"drain-disk","args":{"disk":"n1:d3"}}); refused
//	                            changes (an unplaceable policy, an unknown disk, ...)
//	                            answer 409 with the reason and change nothing
//	DELETE ring/member?id=N     remove node N from the Raft group (never the last voter)

// RingInfo is what GET ring answers.
type RingInfo struct {
	Map     *ring.Map
	Balance []ring.Balance `json:",omitempty"`
	// BuildError says why no ring can be built from the map (for instance
	// a policy left unplaceable by failed disks).
	BuildError string           `json:",omitempty"`
	Members    []raftmap.Member `json:",omitempty"`
	Leader     string           `json:",omitempty"`
}

func (p *Proxy) adminRing(w http.ResponseWriter, r *http.Request, op string) {
	cat := p.keys.cat
	if cat == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "NoCatalog", "message": "this server keeps no catalog"})
		return
	}
	node := cat.Node()
	ctx, cancel := context.WithTimeout(r.Context(), catalogWriteTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	fail := func(status int, code string, err error) {
		writeJSON(w, status, map[string]string{"error": code, "message": err.Error()})
	}
	switch {
	case op == "ring" && r.Method == http.MethodGet:
		if err := cat.Sync(r.Context()); err != nil {
			fail(http.StatusServiceUnavailable, "CatalogUnavailable", err)
			return
		}
		info := RingInfo{Map: node.Map()}
		info.Leader, _ = node.Leader()
		info.Members, _ = node.Members()
		if rg, err := ring.Build(nil, info.Map); err != nil {
			info.BuildError = err.Error()
		} else {
			for _, pol := range rg.Policies() {
				if b, err := rg.Balance(pol.Name); err == nil {
					info.Balance = append(info.Balance, b)
				}
			}
		}
		writeJSON(w, http.StatusOK, info)
	case op == "ring" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			fail(http.StatusBadRequest, "IncompleteBody", err)
			return
		}
		c, err := ring.DecodeCommand(body)
		if err != nil {
			fail(http.StatusBadRequest, "MalformedCommand", err)
			return
		}
		// A drained disk is marked out only once the rebalancer has moved
		// everything off it.
		if out, ok := c.(ring.MarkOut); ok {
			n, err := p.store.DiskRecords(out.Disk, 1)
			if err != nil {
				fail(http.StatusServiceUnavailable, "DiskUnreachable", fmt.Errorf("cannot tell whether %s is empty: %w", out.Disk, err))
				return
			}
			if n > 0 {
				fail(http.StatusConflict, "DiskNotEmpty", fmt.Errorf("disk %s still holds objects: the rebalancer is moving them (basalt admin status); try again when it is done", out.Disk))
				return
			}
		}
		if err := cat.Propose(r.Context(), raftmap.MapChange{Change: c}); err != nil {
			if errors.Is(err, raftmap.ErrMapRefused) {
				fail(http.StatusConflict, "Refused", err)
			} else {
				fail(http.StatusServiceUnavailable, "CatalogUnavailable", err)
			}
			return
		}
		writeJSON(w, http.StatusOK, map[string]uint64{"Epoch": node.Map().Epoch})
	case op == "ring/member" && r.Method == http.MethodDelete:
		if err := node.Remove(r.Context(), r.URL.Query().Get("id")); err != nil {
			status, code := http.StatusServiceUnavailable, "CatalogUnavailable"
			if errors.Is(err, raftmap.ErrLastVoter) || errors.Is(err, raftmap.ErrUnknownNode) {
				status, code = http.StatusConflict, "Refused"
			}
			fail(status, code, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"Removed": r.URL.Query().Get("id")})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "NoSuchOperation", "message": r.Method + " " + r.URL.Path})
	}
}
