package proxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// AdminPrefix is where the administration API lives. The bucket name
// "basalt" is reserved for it.
const AdminPrefix = "/basalt/admin/v1/"

// admin answers the administration API: requests signed (SigV4) with the
// root credential.
//
//	GET  /basalt/admin/v1/status                       store status (JSON)
//	POST /basalt/admin/v1/scrub?bucket=B&disk=D&rate=R  scrub now; streams
//	                                                   progress as JSON lines
func (p *Proxy) admin(w http.ResponseWriter, r *http.Request) {
	res, err := p.verifier.Verify(r)
	if err == nil && res.Anonymous {
		err = sigv4.ErrAccessDenied
	}
	if err == nil {
		if who, perr := p.keys.principal(res.AccessKey); perr != nil || !who.Root {
			err = sigv4.ErrAccessDenied
		}
	}
	if err != nil {
		var e *sigv4.Error
		status, code := http.StatusForbidden, "AccessDenied"
		if errors.As(err, &e) {
			status, code = e.Status, e.Code
		}
		writeJSON(w, status, map[string]string{"error": code, "message": err.Error()})
		return
	}
	switch op := strings.TrimPrefix(r.URL.Path, AdminPrefix); {
	case op == "status" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, p.store.Status())
	case op == "scrub" && r.Method == http.MethodPost:
		p.adminScrub(w, r)
	case op == "rebalance" && r.Method == http.MethodPost:
		if p.placement != nil {
			if err := p.placement(r.Context()); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "CatalogUnavailable", "message": err.Error()})
				return
			}
		}
		st, err := p.store.Rebalance(r.Context())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "RebalanceIncomplete", "message": err.Error(), "status": st})
			return
		}
		writeJSON(w, http.StatusOK, st)
	case op == "ring" || strings.HasPrefix(op, "ring/"):
		p.adminRing(w, r, op)
	case strings.HasPrefix(op, "identity/"):
		p.adminIdentity(w, r, strings.TrimPrefix(op, "identity/"))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "NoSuchOperation", "message": r.Method + " " + r.URL.Path})
	}
}

func (p *Proxy) adminScrub(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := objectd.ScrubOptions{Bucket: q.Get("bucket"), Disk: q.Get("disk")}
	if v := q.Get("rate"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidArgument", "message": "rate must be bytes per second, >= 0"})
			return
		}
		opts.Rate = n
	}
	if opts.Bucket != "" {
		if _, err := p.store.BucketInfo(r.Context(), opts.Bucket); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "NoSuchBucket", "message": opts.Bucket})
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	var mu sync.Mutex
	last := time.Time{}
	opts.Progress = func(pr objectd.ScrubProgress) {
		mu.Lock()
		defer mu.Unlock()
		if now := time.Now(); pr.Done || now.Sub(last) >= 250*time.Millisecond {
			last = now
			enc.Encode(pr)
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	if _, err := p.store.Scrub(r.Context(), opts); err != nil {
		enc.Encode(map[string]string{"error": "ScrubFailed", "message": err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// storeCollector exports the store's status as Prometheus metrics, read
// at each scrape.
type storeCollector struct {
	store                                 *objectd.Store
	disk, queue, rebuilt, bytes, failures *prometheus.Desc
	scrubObjects, scrubBad, scrubRunning  *prometheus.Desc
}

func newStoreCollector(s *objectd.Store) *storeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("basalt_"+name, help, labels, nil)
	}
	return &storeCollector{
		store:        s,
		disk:         d("disk_state", "1 for the state each disk is in (online, healing, failed, offline).", "disk", "state"),
		queue:        d("repair_queue_objects", "Objects waiting for repair."),
		rebuilt:      d("shards_rebuilt_total", "Shards rebuilt by repair, scrub and fill-back since start."),
		bytes:        d("bytes_rebuilt_total", "Bytes of shards rebuilt since start."),
		failures:     d("disk_failures_total", "Disks taken out of service after repeated I/O errors, since start."),
		scrubObjects: d("scrub_objects", "Objects checked by the current (or last) scrub pass."),
		scrubBad:     d("scrub_bad_shards", "Missing or corrupt shards found by the current (or last) scrub pass."),
		scrubRunning: d("scrub_running", "1 while a background scrub pass runs."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.disk, c.queue, c.rebuilt, c.bytes, c.failures, c.scrubObjects, c.scrubBad, c.scrubRunning} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.Status()
	for _, d := range st.Disks {
		for _, state := range []string{"online", "healing", "failed", "offline"} {
			v := 0.0
			if d.State == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.disk, prometheus.GaugeValue, v, d.Path, state)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(st.RepairQueue))
	ch <- prometheus.MustNewConstMetric(c.rebuilt, prometheus.CounterValue, float64(st.ShardsRebuilt))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.BytesRebuilt))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(st.DiskFailures))
	ch <- prometheus.MustNewConstMetric(c.scrubObjects, prometheus.GaugeValue, float64(st.Scrub.Current.Objects))
	ch <- prometheus.MustNewConstMetric(c.scrubBad, prometheus.GaugeValue, float64(st.Scrub.Current.Bad))
	running := 0.0
	if st.Scrub.Running {
		running = 1
	}
	ch <- prometheus.MustNewConstMetric(c.scrubRunning, prometheus.GaugeValue, running)
}
