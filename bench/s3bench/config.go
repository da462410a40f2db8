package s3bench

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/basaltstore/basalt/bench/units"
)

// Errors of a run. Each is wrapped with the details of what went wrong.
var (
	ErrConfig      = errors.New("s3bench: bad configuration")
	ErrUnreachable = errors.New("s3bench: endpoint unreachable")
	ErrCredentials = errors.New("s3bench: credentials refused")
	ErrNoBucket    = errors.New("s3bench: bucket does not exist")
	ErrPreflight   = errors.New("s3bench: preflight check failed")
	ErrPrepare     = errors.New("s3bench: preparing objects failed")
	ErrInterrupted = errors.New("s3bench: interrupted")
)

// Workload is what a run does.
type Workload string

// Workloads.
const (
	Put       Workload = "put"
	Get       Workload = "get"
	Delete    Workload = "delete"
	List      Workload = "list"
	Stat      Workload = "stat"
	Multipart Workload = "multipart"
	Mixed     Workload = "mixed"
)

// Workloads lists every workload, in the order they are documented.
func Workloads() []Workload { return []Workload{Put, Get, Delete, List, Stat, Multipart, Mixed} }

// Limits of the S3 protocol that the configuration is checked against.
const (
	maxPutSize  = 5 << 30 // largest single PUT
	minPartSize = 5 << 20 // smallest part but the last
	maxPartSize = 5 << 30
	maxParts    = 10000
	maxListPage = 1000
)

// Config is everything a run needs. Start from DefaultConfig.
type Config struct {
	Workload Workload

	// Endpoint is "host:port" or a URL "http://host:port" or
	// "https://host:port"; an https URL implies TLS.
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	// Lookup is the bucket addressing style: "path", "virtual" (bucket in
	// the host name) or "auto" (virtual for known cloud endpoints).
	Lookup string
	// TLS speaks HTTPS; Insecure skips verification of its certificate.
	TLS      bool
	Insecure bool

	Bucket string
	// Prefix is put before the run's own unique prefix in every key.
	Prefix string
	// NoCreate refuses to run when the bucket does not exist, instead of
	// creating it.
	NoCreate bool
	// Cleanup removes the run's objects afterwards (and the bucket, if the
	// run created it), also after an interruption.
	Cleanup bool

	Concurrency int
	// Size is the size of each object written or prepared: fixed, or drawn
	// log-uniformly between the bounds, so that small and large sizes are
	// equally represented per order of magnitude.
	Size units.Range
	// PartSize is the part size of multipart uploads.
	PartSize int64

	// Duration is the measured time, after the warm-up. Ops, when above
	// zero, runs that many measured operations instead.
	Duration time.Duration
	Ops      int64
	// Objects is the number of objects prepared for get, stat, list, mixed
	// and delete; 0 chooses a default for the workload.
	Objects int
	Warmup  Warmup
	// Mix gives the share of each operation in a mixed workload.
	Mix Mix
	// ListPage is the number of keys asked for per list request.
	ListPage int

	// DisableSHA256 sends payloads unsigned (UNSIGNED-PAYLOAD) instead of
	// signing them in chunks, which costs the client CPU over plain HTTP.
	DisableSHA256 bool
	// OpTimeout bounds one operation; a slower one counts as a "timeout"
	// error.
	OpTimeout time.Duration
	// PreflightTimeout bounds the checks made before the run.
	PreflightTimeout time.Duration

	// Label names the run in reports and comparisons; it defaults to the
	// endpoint.
	Label string
	// Seed makes the choice of operations, objects and sizes repeatable.
	Seed uint64
}

// DefaultConfig returns the defaults for a workload.
func DefaultConfig(w Workload) Config {
	c := Config{
		Workload:         w,
		Endpoint:         "127.0.0.1:8080",
		Region:           "us-east-1",
		Lookup:           "auto",
		Bucket:           "basalt-bench",
		Concurrency:      8,
		Size:             units.Range{Min: 1 << 20, Max: 1 << 20},
		PartSize:         8 << 20,
		Duration:         30 * time.Second,
		Warmup:           Warmup{Auto: true},
		ListPage:         maxListPage,
		OpTimeout:        2 * time.Minute,
		PreflightTimeout: 5 * time.Second,
		Seed:             1,
	}
	switch w {
	case List, Delete:
		c.Size = units.Range{Min: 4 << 10, Max: 4 << 10}
	case Multipart:
		c.Size = units.Range{Min: 64 << 20, Max: 64 << 20}
	case Mixed:
		c.Mix = Mix{{Get, 45}, {Stat, 30}, {Put, 15}, {Delete, 10}}
	}
	return c
}

// objects is the number of objects to prepare.
func (c Config) objects() int {
	if c.Objects > 0 {
		return c.Objects
	}
	switch c.Workload {
	case Get, Stat, Mixed:
		return 200
	case List:
		return 2000
	case Delete:
		if c.Ops > 0 {
			return int(c.Ops + c.warmupOps())
		}
		return 10000
	}
	return 0
}

func (c Config) needsObjects() bool {
	switch c.Workload {
	case Get, Stat, List, Delete, Mixed:
		return true
	}
	return false
}

// warmupTime is the warm-up of a run by duration.
func (c Config) warmupTime() time.Duration {
	switch {
	case c.Ops > 0:
		return 0
	case c.Warmup.Auto:
		return 2 * time.Second
	case c.Warmup.Percent > 0:
		return time.Duration(float64(c.Duration) * c.Warmup.Percent / 100)
	}
	return c.Warmup.Duration
}

// warmupOps is the warm-up of a run by operation count.
func (c Config) warmupOps() int64 {
	switch {
	case c.Ops == 0:
		return 0
	case c.Warmup.Auto:
		return (c.Ops*5 + 99) / 100
	case c.Warmup.Percent > 0:
		return int64(float64(c.Ops)*c.Warmup.Percent/100 + 0.5)
	}
	return c.Warmup.Ops
}

// endpoint splits Endpoint into a host:port and whether TLS is used.
func (c Config) endpoint() (host string, secure bool, err error) {
	e := strings.TrimSpace(c.Endpoint)
	if e == "" {
		return "", false, fmt.Errorf("%w: no endpoint (give --endpoint host:port)", ErrConfig)
	}
	secure = c.TLS
	if strings.Contains(e, "://") {
		u, perr := url.Parse(e)
		if perr != nil {
			return "", false, fmt.Errorf("%w: endpoint %q: %v", ErrConfig, c.Endpoint, perr)
		}
		switch u.Scheme {
		case "http":
		case "https":
			secure = true
		default:
			return "", false, fmt.Errorf("%w: endpoint %q: scheme must be http or https", ErrConfig, c.Endpoint)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return "", false, fmt.Errorf("%w: endpoint %q: give only scheme, host and port", ErrConfig, c.Endpoint)
		}
		e = u.Host
	}
	h, port, splitErr := net.SplitHostPort(e)
	if splitErr != nil {
		h, port = e, ""
	}
	if h == "" || strings.ContainsAny(h, "/ ") {
		return "", false, fmt.Errorf("%w: endpoint %q has no valid host", ErrConfig, c.Endpoint)
	}
	if port != "" {
		if p, perr := strconv.Atoi(port); perr != nil || p < 1 || p > 65535 {
			return "", false, fmt.Errorf("%w: endpoint %q has a bad port", ErrConfig, c.Endpoint)
		}
	}
	return e, secure, nil
}

// Validate checks every setting and says what is wrong with the first bad
// one, wrapping ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	known := false
	for _, w := range Workloads() {
		known = known || c.Workload == w
	}
	if !known {
		return bad("unknown workload %q (want one of put, get, delete, list, stat, multipart, mixed)", c.Workload)
	}
	if _, _, err := c.endpoint(); err != nil {
		return err
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return bad("no credentials: give --access-key and --secret-key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or BASALT_ROOT_USER and BASALT_ROOT_PASSWORD)")
	}
	switch c.Lookup {
	case "auto", "path", "virtual", "dns":
	default:
		return bad("lookup %q: want path, virtual or auto", c.Lookup)
	}
	if c.Insecure && !c.TLS && !strings.HasPrefix(c.Endpoint, "https://") {
		return bad("--insecure only makes sense with TLS (--tls or an https:// endpoint)")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return bad("bucket %q: %v", c.Bucket, err)
	}
	if strings.HasPrefix(c.Prefix, "/") || len(c.Prefix) > 512 {
		return bad("prefix %q: must not start with / and must be at most 512 bytes", c.Prefix)
	}
	if c.Concurrency < 1 || c.Concurrency > 10000 {
		return bad("concurrency %d: want 1 to 10000", c.Concurrency)
	}
	if c.Size.Min < 0 || c.Size.Max < c.Size.Min {
		return bad("size %s: want a size or a range low-high", c.Size)
	}
	switch c.Workload {
	case Multipart:
		if c.PartSize < minPartSize || c.PartSize > maxPartSize {
			return bad("part size %s: S3 wants 5MiB to 5GiB", units.FormatSize(c.PartSize))
		}
		if c.Size.Min < 1 {
			return bad("size %s: a multipart upload needs at least 1 byte", c.Size)
		}
		if (c.Size.Max+c.PartSize-1)/c.PartSize > maxParts {
			return bad("size %s with part size %s needs more than %d parts", c.Size, units.FormatSize(c.PartSize), maxParts)
		}
	default:
		if c.Size.Max > maxPutSize {
			return bad("size %s: a single PUT holds at most 5GiB (use the multipart workload)", c.Size)
		}
	}
	if c.Ops < 0 {
		return bad("operation count %d is negative", c.Ops)
	}
	if c.Ops == 0 && c.Duration <= 0 {
		return bad("give a positive duration or an operation count")
	}
	if c.Objects < 0 {
		return bad("objects %d is negative", c.Objects)
	}
	if c.Workload == Delete && c.Ops > 0 && c.Objects > 0 && int64(c.Objects) < c.Ops+c.warmupOps() {
		return bad("delete of %d operations (and %d warm-up) needs at least that many objects, not %d", c.Ops, c.warmupOps(), c.Objects)
	}
	if err := c.Warmup.validate(); err != nil {
		return bad("%v", err)
	}
	if c.Ops == 0 && c.Warmup.Ops > 0 {
		return bad("a warm-up counted in operations needs an operation count (--ops); give a duration instead")
	}
	if c.Ops > 0 && c.Warmup.Duration > 0 {
		return bad("a warm-up given as a duration needs a run by duration; with --ops give a count or a percentage")
	}
	if c.Workload == Mixed {
		if err := c.Mix.validate(); err != nil {
			return bad("%v", err)
		}
	} else if len(c.Mix) > 0 {
		return bad("a mix is only for the mixed workload")
	}
	if c.ListPage < 1 || c.ListPage > maxListPage {
		return bad("list page %d: want 1 to %d", c.ListPage, maxListPage)
	}
	if c.OpTimeout <= 0 || c.PreflightTimeout <= 0 {
		return bad("timeouts must be positive")
	}
	return nil
}

// Warmup is the part of a run left out of the figures. With Auto it is 2s
// for a run by duration and 5% of the operations for a run by count.
type Warmup struct {
	Auto     bool
	Duration time.Duration
	Ops      int64
	Percent  float64
}

// ParseWarmup reads "auto", a duration ("2s"), a count of operations
// ("50") or a percentage of the run ("5%"); "0" turns the warm-up off.
func ParseWarmup(s string) (Warmup, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "auto" || s == "":
		return Warmup{Auto: true}, nil
	case strings.HasSuffix(s, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil {
			return Warmup{}, fmt.Errorf("%w: warm-up %q is not a percentage", ErrConfig, s)
		}
		w := Warmup{Percent: p}
		if err := w.validate(); err != nil {
			return Warmup{}, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		return w, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		w := Warmup{Ops: n}
		if err := w.validate(); err != nil {
			return Warmup{}, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		return w, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return Warmup{}, fmt.Errorf("%w: warm-up %q: want auto, a duration (2s), a count (50) or a percentage (5%%)", ErrConfig, s)
	}
	w := Warmup{Duration: d}
	if err := w.validate(); err != nil {
		return Warmup{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return w, nil
}

func (w Warmup) validate() error {
	set := 0
	for _, b := range []bool{w.Duration != 0, w.Ops != 0, w.Percent != 0} {
		if b {
			set++
		}
	}
	switch {
	case w.Auto && set > 0 || set > 1:
		return errors.New("warm-up: give one of a duration, a count or a percentage")
	case w.Duration < 0 || w.Ops < 0:
		return errors.New("warm-up must not be negative")
	case w.Percent < 0 || w.Percent >= 100:
		return fmt.Errorf("warm-up %g%%: want at least 0 and less than 100", w.Percent)
	}
	return nil
}

func (w Warmup) String() string {
	switch {
	case w.Auto:
		return "auto"
	case w.Percent > 0:
		return strconv.FormatFloat(w.Percent, 'g', -1, 64) + "%"
	case w.Ops > 0:
		return strconv.FormatInt(w.Ops, 10)
	case w.Duration > 0:
		return w.Duration.String()
	}
	return "0"
}

// MixEntry is the share of one operation in a mixed workload.
type MixEntry struct {
	Op      Workload
	Percent int
}

// Mix is the make-up of a mixed workload; its percentages sum to 100.
type Mix []MixEntry

// mixable are the operations a mix may hold.
var mixable = []Workload{Get, Stat, Put, Delete, List}

// ParseMix reads "get=45,stat=30,put=15,delete=10": operations among get,
// stat, put, delete and list, each at most once, with whole percentages
// that sum to 100.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%w: mix %q: %q is not op=percent", ErrConfig, s, part)
		}
		p, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%w: mix %q: %q is not a whole percentage", ErrConfig, s, val)
		}
		m = append(m, MixEntry{Workload(strings.ToLower(strings.TrimSpace(name))), p})
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return m, nil
}

func (m Mix) validate() error {
	if len(m) == 0 {
		return errors.New("mixed workload needs a mix, such as get=45,stat=30,put=15,delete=10")
	}
	sum := 0
	seen := map[Workload]bool{}
	for _, e := range m {
		ok := false
		for _, w := range mixable {
			ok = ok || e.Op == w
		}
		if !ok {
			return fmt.Errorf("mix: %q is not an operation of a mix (get, stat, put, delete, list)", e.Op)
		}
		if seen[e.Op] {
			return fmt.Errorf("mix: %s given twice", e.Op)
		}
		seen[e.Op] = true
		if e.Percent < 0 || e.Percent > 100 {
			return fmt.Errorf("mix: %s=%d is not a percentage", e.Op, e.Percent)
		}
		sum += e.Percent
	}
	if sum != 100 {
		return fmt.Errorf("mix %s sums to %d%%, not 100%%", m, sum)
	}
	return nil
}

func (m Mix) String() string {
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = fmt.Sprintf("%s=%d", e.Op, e.Percent)
	}
	return strings.Join(parts, ",")
}
