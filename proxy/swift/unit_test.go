package swift

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewRequiresItsParts(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want error
	}{
		{Config{}, ErrNoStore},
	} {
		if _, err := New(c.cfg); !errors.Is(err, c.want) {
			t.Errorf("New(%+v) = %v, want %v", c.cfg, err, c.want)
		}
	}
	e := newEnv(t)
	if _, err := New(Config{Store: e.store}); !errors.Is(err, ErrNoCatalog) {
		t.Errorf("no catalog: %v", err)
	}
	if _, err := New(Config{Store: e.store, Catalog: e.cat}); !errors.Is(err, ErrNoTokens) {
		t.Errorf("no tokens: %v", err)
	}
}

func TestRanges(t *testing.T) {
	for _, c := range []struct {
		header string
		size   int64
		ok     bool
		want   []byteRange
	}{
		{"bytes=0-0", 10, true, []byteRange{{0, 0}}},
		{"bytes=2-", 10, true, []byteRange{{2, 9}}},
		{"bytes=-4", 10, true, []byteRange{{6, 9}}},
		{"bytes=-40", 10, true, []byteRange{{0, 9}}},
		{"bytes=5-50", 10, true, []byteRange{{5, 9}}},
		{"bytes=10-", 10, true, nil},
		{"bytes=-0", 10, true, nil},
		{"bytes=0-1, 3-4 ,-1", 10, true, []byteRange{{0, 1}, {3, 4}, {9, 9}}},
		{"bytes=0-1,20-30", 10, true, []byteRange{{0, 1}}},
		{"bytes=-1", 0, true, nil},
		{"bytes=4-3", 10, false, nil},
		{"bytes=", 10, false, nil},
		{"bytes=-", 10, false, nil},
		{"bytes=a-", 10, false, nil},
		{"bytes=1-2-3", 10, false, nil},
		{"bits=0-1", 10, false, nil},
		{"", 10, false, nil},
		{"bytes=" + strings.Repeat("0-0,", 50) + "0-0", 10, false, nil},
	} {
		specs, ok := parseRangeHeader(c.header)
		if ok != c.ok {
			t.Errorf("%q: ok %v", c.header, ok)
			continue
		}
		if ok {
			if got := forLength(specs, c.size); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%q of %d: %v, want %v", c.header, c.size, got, c.want)
			}
		}
	}
}

func TestConditions(t *testing.T) {
	mod := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return mod.Add(d).Format(http.TimeFormat) }
	for _, c := range []struct {
		method string
		h      map[string]string
		want   int
	}{
		{"GET", map[string]string{"If-Match": `"e1", "e2"`}, 0},
		{"GET", map[string]string{"If-Match": "W/\"e1\""}, 0},
		{"GET", map[string]string{"If-Match": "e3"}, 412},
		{"GET", map[string]string{"If-None-Match": "*"}, 304},
		{"HEAD", map[string]string{"If-None-Match": "e1"}, 304},
		{"PUT", map[string]string{"If-None-Match": "e1"}, 412},
		{"GET", map[string]string{"If-Modified-Since": at(0)}, 304},
		{"GET", map[string]string{"If-Modified-Since": at(-time.Second)}, 0},
		{"PUT", map[string]string{"If-Modified-Since": at(0)}, 0},
		{"GET", map[string]string{"If-Unmodified-Since": at(-time.Second)}, 412},
		{"GET", map[string]string{"If-Unmodified-Since": at(0)}, 0},
		{"GET", map[string]string{"If-Match": "e1", "If-Unmodified-Since": at(-time.Hour)}, 0},
		{"GET", map[string]string{"If-None-Match": "x", "If-Modified-Since": at(time.Hour)}, 0},
		{"GET", map[string]string{"If-Modified-Since": "not a date"}, 0},
	} {
		r, _ := http.NewRequest(c.method, "/", nil)
		for k, v := range c.h {
			r.Header.Set(k, v)
		}
		if got := checkConditions(r, "e1", mod); got != c.want {
			t.Errorf("%s %v: %d, want %d", c.method, c.h, got, c.want)
		}
	}
}

func TestACLParsing(t *testing.T) {
	for _, c := range []struct {
		write bool
		in    string
		want  string
		bad   bool
	}{
		{false, ".r:*", ".r:*", false},
		{false, ".ref:example.com, .referer:-bad.com", ".r:example.com,.r:-bad.com", false},
		{false, ".r:*.example.com", ".r:.example.com", false},
		{false, "p1:u1,,p2:*, .rlistings", "p1:u1,p2:*,.rlistings", false},
		{false, ".r:", "", true},
		{false, ".r:-", "", true},
		{false, ".bogus:x", "", true},
		{true, ".r:*", "", true},
		{true, "p1:u1,member", "p1:u1,member", false},
		{false, "", "", false},
	} {
		got, err := cleanACL(c.write, c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("cleanACL(%v, %q) = %q, %v", c.write, c.in, got, err)
		}
		if err != nil && !errors.Is(err, errBadRequest) {
			t.Errorf("cleanACL error %v is not a bad request", err)
		}
	}
	refs, groups := parseACL(".r:*, p:u ,.rlistings,.r:-x.com")
	if !reflect.DeepEqual(refs, []string{"*", "-x.com"}) || !reflect.DeepEqual(groups, []string{"p:u", ".rlistings"}) {
		t.Errorf("parseACL: %v %v", refs, groups)
	}
	for _, c := range []struct {
		referer string
		acl     []string
		want    bool
	}{
		{"", []string{"*"}, true},
		{"http://a.example.com/x", []string{".example.com"}, true},
		{"http://example.com/x", []string{".example.com"}, false},
		{"http://example.com/x", []string{"example.com"}, true},
		{"http://a.example.com/", []string{"*", "-a.example.com"}, false},
		{"http://b.example.com/", []string{"*", "-.example.com", "b.example.com"}, true},
		{"http://b.example.com/", nil, false},
		{"::not a url", []string{"unknown"}, true},
	} {
		if got := referrerAllowed(c.referer, c.acl); got != c.want {
			t.Errorf("referrerAllowed(%q, %v) = %v", c.referer, c.acl, got)
		}
	}
}

func TestBestMatch(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  "text/plain",
		"*/*":                               "text/plain",
		"application/json":                  "application/json",
		"application/*":                     "application/json",
		"text/xml":                          "text/xml",
		"application/json;q=0.5, text/xml":  "text/xml",
		"text/*;q=0.2, application/xml;q=1": "application/xml",
		"image/png":                         "",
		"application/json;q=0":              "",
		"*/*;q=0.1, text/plain;q=0":         "application/json",
	} {
		if got := bestMatch(accept, listFormats); got != want {
			t.Errorf("bestMatch(%q) = %q, want %q", accept, got, want)
		}
	}
}

func TestTempSigForms(t *testing.T) {
	for sig, size := range map[string]int{
		strings.Repeat("ab", 20):                        20,
		strings.Repeat("ab", 32):                        32,
		strings.Repeat("ab", 64):                        64,
		"sha1:" + strings.Repeat("A", 27):               20,
		"sha256:" + strings.Repeat("_", 43) + "=":       32,
		"sha512:" + strings.Repeat("-", 86) + "==":      64,
		"sha512:" + strings.Repeat("+", 85) + "/" + "=": 64,
	} {
		d, mac, ok := parseTempSig(sig)
		if !ok || len(mac) != size || d().Size() != size {
			t.Errorf("parseTempSig(%q) = %v, %d bytes", sig, ok, len(mac))
		}
	}
	for _, sig := range []string{"", "abc", strings.Repeat("ab", 21), strings.Repeat("zz", 20), "md5:AAAA", "sha1:" + strings.Repeat("A", 30), "sha256:!!!!"} {
		if _, _, ok := parseTempSig(sig); ok {
			t.Errorf("parseTempSig(%q) accepted", sig)
		}
	}
	if got := pyQuote("a b/ü~_.-+", " /"); got != "a b/%C3%BC~_.-%2B" {
		t.Errorf("pyQuote = %q", got)
	}
}

func TestTimesAndMetadata(t *testing.T) {
	tm := time.Unix(1700000000, 123456789)
	if got := swiftTimestamp(tm); got != "1700000000.12346" {
		t.Errorf("swiftTimestamp = %q", got)
	}
	if got := swiftTimestamp(time.Unix(99, 0)); got != "0000000099.00000" {
		t.Errorf("swiftTimestamp padding = %q", got)
	}
	if got := lastModified(tm); got.Unix() != 1700000001 {
		t.Errorf("lastModified rounds up: %v", got)
	}
	if got := lastModified(time.Unix(1700000000, 0)); got.Unix() != 1700000000 {
		t.Errorf("lastModified of a whole second: %v", got)
	}
	if got := listingTime(tm); got != "2023-11-14T22:13:20.123456" {
		t.Errorf("listingTime = %q", got)
	}
	now := time.Unix(1000, 500)
	for _, c := range []struct {
		h    map[string]string
		want int64
		bad  bool
	}{
		{map[string]string{"X-Delete-After": "10"}, 1010, false},
		{map[string]string{"X-Delete-At": "2000"}, 2000, false},
		{map[string]string{"X-Delete-At": "2000.7"}, 2000, false},
		{map[string]string{"X-Delete-At": "1000"}, 0, true},
		{map[string]string{"X-Delete-After": "0"}, 0, true},
		{map[string]string{"X-Delete-After": "x"}, 0, true},
		{map[string]string{"X-Delete-At": "NaN"}, 0, true},
		{map[string]string{}, 0, false},
	} {
		h := http.Header{}
		for k, v := range c.h {
			h.Set(k, v)
		}
		got, err := deleteAt(h, now)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("deleteAt(%v) = %d, %v", c.h, got, err)
		}
	}
	h := http.Header{}
	h.Set("X-Container-Meta-A", "1")
	h.Set("X-Container-Meta-B", "")
	h.Set("X-Remove-Container-Meta-C", "x")
	h.Set("X-Container-Read", ".r:*")
	h.Set("X-Remove-Container-Write", "x")
	h.Set("X-Account-Meta-Ignored", "y")
	set, remove, err := metaUpdate(h, "container", map[string]string{"x-container-meta-c": "old"})
	if err != nil || !reflect.DeepEqual(set, map[string]string{"x-container-meta-a": "1", "x-container-read": ".r:*"}) ||
		!reflect.DeepEqual(remove, []string{"x-container-meta-b", "x-container-meta-c", "x-container-write"}) {
		t.Errorf("metaUpdate = %v %v %v", set, remove, err)
	}
	current := map[string]string{}
	for i := 0; i < MaxMetaCount; i++ {
		current[fmt.Sprintf("x-account-meta-k%02d", i)] = "v"
	}
	h = http.Header{}
	h.Set("X-Account-Meta-One-More", "v")
	if _, _, err := metaUpdate(h, "account", current); !errors.Is(err, errBadRequest) || !strings.Contains(err.Error(), "Too many metadata items") {
		t.Errorf("count limit: %v", err)
	}
	h.Set("X-Remove-Account-Meta-K00", "x")
	if _, _, err := metaUpdate(h, "account", current); err != nil {
		t.Errorf("count limit after a removal: %v", err)
	}
}

func TestReportsAndETags(t *testing.T) {
	segs := []sloSegment{{Hash: "h1"}, {Hash: "h2", Range: "0-1"}}
	if got, want := sloETag(segs), md5str("h1h2:0-1;"); got != want {
		t.Errorf("sloETag = %s, want %s", got, want)
	}
	if s, n := (sloSegment{Bytes: 10, Range: "3-5"}).bounds(); s != 3 || n != 3 {
		t.Errorf("bounds = %d %d", s, n)
	}
	if s, n := (sloSegment{Bytes: 10}).bounds(); s != 0 || n != 10 {
		t.Errorf("bounds = %d %d", s, n)
	}
	fields := map[string]any{"Number Deleted": 1, "Response Status": "200 OK"}
	errs := [][2]string{{"/c/<o>", "409 Conflict"}}
	if got := string(bulkBody("text/plain", fields, errs, "delete")); got != "Number Deleted: 1\nResponse Status: 200 OK\nErrors:\n/c/<o>, 409 Conflict\n" {
		t.Errorf("text report %q", got)
	}
	if got := string(bulkBody("text/xml", fields, errs, "delete")); got != "<delete>\n<number_deleted>1</number_deleted>\n<response_status>200 OK</response_status>\n<errors>\n<object><name>/c/&lt;o&gt;</name><status>409 Conflict</status></object>\n</errors>\n</delete>\n" {
		t.Errorf("xml report %q", got)
	}
	if got := string(bulkBody("application/json", fields, nil, "delete")); got != `{"Errors":[],"Number Deleted":1,"Response Status":"200 OK"}` {
		t.Errorf("json report %q", got)
	}
	if statusFor(errors.New("x")) != 500 || statusFor(failf(errConflict, "x")) != 409 {
		t.Error("statusFor")
	}
	if got := standardPage(404); got != "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>" {
		t.Errorf("standardPage = %q", got)
	}
}

// FuzzParsers checks that the parsers of request input never panic.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"bytes=0-1,-5", ".r:*,p:u", `[{"path":"/a/b","range":"1-2","size_bytes":"3"}]`, "sha512:abc", "application/json;q=0.5,*/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if specs, ok := parseRangeHeader(s); ok {
			_ = forLength(specs, 100)
			_ = forLength(specs, 0)
		}
		_, _ = cleanACL(false, s)
		_, _ = cleanACL(true, s)
		_ = referrerAllowed(s, []string{s, "*"})
		_, _ = parseSLOInput([]byte(s), "/a/b")
		_, _, _ = parseTempSig(s)
		_ = bestMatch(s, listFormats)
		_, _, _ = splitCopyPath("X", s)
		_ = checkDLOManifest(s)
	})
}
