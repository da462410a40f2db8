package proxy

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	refused  prometheus.Counter
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "basalt", Subsystem: "s3", Name: "requests_total",
			Help: "S3 requests answered, by S3 API name and HTTP status code.",
		}, []string{"api", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "basalt", Subsystem: "s3", Name: "request_duration_seconds",
			Help:    "Time from the start of an S3 request to the end of its response, by S3 API name.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"api"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "basalt", Subsystem: "s3", Name: "requests_in_flight",
			Help: "S3 requests being answered now.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "basalt", Subsystem: "s3", Name: "requests_refused_total",
			Help: "S3 and Swift requests answered \"slow down\" after waiting for a slot (--max-requests).",
		}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "basalt", Subsystem: "s3", Name: "received_bytes_total",
			Help: "Request body bytes read, by S3 API name.",
		}, []string{"api"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "basalt", Subsystem: "s3", Name: "sent_bytes_total",
			Help: "Response body bytes written, by S3 API name.",
		}, []string{"api"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.refused, m.bytesIn, m.bytesOut} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("proxy: registering metrics: %w", err)
		}
	}
	return m, nil
}
