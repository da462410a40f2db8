package swift

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInfoPublishesTheLimits(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do("GET", "/info", "", nil, nil), http.StatusOK, "GET /info")
	var doc map[string]map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	sw := doc["swift"]
	checks := map[string]float64{
		"max_file_size": 5 << 40, "max_object_name_length": 1024, "container_listing_limit": 10000,
		"account_listing_limit": 10000, "max_container_name_length": 63, "max_meta_overall_size": 2048,
		"max_meta_name_length": 128, "max_meta_value_length": 256, "max_meta_count": 90,
	}
	for k, want := range checks {
		if got, _ := sw[k].(float64); got != want {
			t.Errorf("swift.%s = %v, want %v", k, sw[k], want)
		}
	}
	if sw["version"] == "" {
		t.Error("no version")
	}
	if got := doc["slo"]["max_manifest_segments"]; got != float64(1000) {
		t.Errorf("slo.max_manifest_segments = %v", got)
	}
	if got := doc["bulk_delete"]["max_deletes_per_request"]; got != float64(10000) {
		t.Errorf("bulk_delete.max_deletes_per_request = %v", got)
	}
	methods, _ := json.Marshal(doc["tempurl"]["methods"])
	digests, _ := json.Marshal(doc["tempurl"]["allowed_digests"])
	if string(methods) != `["GET","HEAD","PUT"]` || string(digests) != `["sha1","sha256","sha512"]` {
		t.Errorf("tempurl = %s %s", methods, digests)
	}
	e.must(e.do("POST", "/info", "", nil, nil), http.StatusMethodNotAllowed, "POST /info")
}

func TestContainerLifecycle(t *testing.T) {
	e := newEnv(t)
	e.must(e.do("PUT", a("/docs"), tokMemberA, hdr{"X-Container-Meta-Color": "blue"}, nil), http.StatusCreated, "create")
	e.must(e.do("PUT", a("/docs"), tokMemberA, hdr{"X-Container-Meta-Size": "big"}, nil), http.StatusAccepted, "create again")
	r := e.must(e.do("HEAD", a("/docs"), tokReaderA, nil, nil), http.StatusNoContent, "HEAD container")
	if r.header.Get("X-Container-Meta-Color") != "blue" || r.header.Get("X-Container-Meta-Size") != "big" {
		t.Fatalf("container meta: %v", r.header)
	}
	if r.header.Get("X-Container-Object-Count") != "0" || r.header.Get("X-Container-Bytes-Used") != "0" || r.header.Get("X-Timestamp") == "" {
		t.Fatalf("container counts: %v", r.header)
	}

	// The name is global: another project cannot have it.
	r = e.must(e.do("PUT", b("/docs"), tokMemberB, nil, nil), http.StatusConflict, "create another project's name")
	if !contains(r.body, "taken") {
		t.Fatalf("409 body %q does not say the name is taken", r.body)
	}
	// Another project's container is invisible from its own account.
	e.must(e.do("HEAD", b("/docs"), tokMemberB, nil, nil), http.StatusNotFound, "HEAD another project's container")
	e.must(e.do("GET", b("/docs"), tokMemberB, nil, nil), http.StatusNotFound, "GET another project's container")

	// Swift's naming rule: what S3 refuses (upper case, '_', two
	// characters) is a fine container name; 257 bytes or a control
	// character is not.
	e.must(e.do("PUT", a("/My_Photos_segments"), tokMemberA, nil, nil), http.StatusCreated, "Swift-only name")
	e.must(e.do("PUT", a("/ab"), tokMemberA, nil, nil), http.StatusCreated, "short name")
	r = e.must(e.do("PUT", a("/"+strings.Repeat("n", 257)), tokMemberA, nil, nil), http.StatusBadRequest, "long name")
	if !contains(r.body, "256") {
		t.Fatalf("400 body %q gives no reason", r.body)
	}
	e.must(e.do("PUT", a("/bad%01name"), tokMemberA, nil, nil), http.StatusBadRequest, "control character")

	// Rights.
	e.must(e.do("PUT", a("/readers"), tokReaderA, nil, nil), http.StatusForbidden, "reader creates")
	e.must(e.do("PUT", a("/anon"), "", nil, nil), http.StatusUnauthorized, "anonymous creates")
	e.must(e.do("PUT", a("/bobs"), tokMemberB, nil, nil), http.StatusForbidden, "other project creates")
	e.must(e.do("PUT", a("/beas"), tokAdminB, nil, nil), http.StatusForbidden, "other project's admin creates")
	e.must(e.do("PUT", a("/roots"), tokRoot, nil, nil), http.StatusCreated, "root creates in alpha")
	if bk, ok := e.cat.View().Bucket("roots"); !ok || bk.Owner != projA {
		t.Fatalf("root's container record %+v", bk)
	}

	// POST metadata and removal.
	e.must(e.do("POST", a("/docs"), tokMemberA, hdr{"X-Remove-Container-Meta-Color": "x", "X-Container-Meta-Size": ""}, nil), http.StatusNoContent, "POST container")
	r = e.must(e.do("HEAD", a("/docs"), tokMemberA, nil, nil), http.StatusNoContent, "HEAD container")
	if r.header.Get("X-Container-Meta-Color") != "" || r.header.Get("X-Container-Meta-Size") != "" {
		t.Fatalf("meta not removed: %v", r.header)
	}
	e.must(e.do("POST", a("/docs"), tokReaderA, hdr{"X-Container-Meta-A": "b"}, nil), http.StatusForbidden, "reader POSTs")
	e.must(e.do("POST", a("/nothere"), tokMemberA, hdr{"X-Container-Meta-A": "b"}, nil), http.StatusNotFound, "POST missing")
	big := strings.Repeat("v", 257)
	r = e.must(e.do("POST", a("/docs"), tokMemberA, hdr{"X-Container-Meta-A": big}, nil), http.StatusBadRequest, "meta too long")
	if !contains(r.body, "Metadata value longer than 256") {
		t.Fatalf("body %q", r.body)
	}

	// Delete: not while it holds objects.
	e.put("docs", "a", []byte("x"), nil)
	e.must(e.do("DELETE", a("/docs"), tokMemberA, nil, nil), http.StatusConflict, "delete non-empty")
	e.must(e.do("DELETE", a("/docs/a"), tokMemberA, nil, nil), http.StatusNoContent, "delete object")
	e.must(e.do("DELETE", a("/docs"), tokReaderA, nil, nil), http.StatusForbidden, "reader deletes")
	e.must(e.do("DELETE", a("/docs"), tokMemberA, nil, nil), http.StatusNoContent, "delete")
	e.must(e.do("DELETE", a("/docs"), tokMemberA, nil, nil), http.StatusNotFound, "delete again")
	e.must(e.do("GET", a("/docs"), tokMemberA, nil, nil), http.StatusNotFound, "GET deleted")
	if _, ok := e.cat.View().Bucket("docs"); ok {
		t.Fatal("catalog record left behind")
	}
	// Now beta may take the name.
	e.must(e.do("PUT", b("/docs"), tokMemberB, nil, nil), http.StatusCreated, "beta takes the free name")
}

func TestAccountMetadataAndListing(t *testing.T) {
	e := newEnv(t)
	for _, c := range []string{"apple", "banana", "cherry", "dir.one", "dir.two"} {
		e.mkdir(c, nil)
	}
	e.put("apple", "o1", []byte("12345"), nil)
	e.put("apple", "o2", []byte("123"), nil)
	e.put("banana", "o", []byte("1"), nil)
	e.must(e.do("PUT", b("/zeta"), tokMemberB, nil, nil), http.StatusCreated, "beta container")

	r := e.must(e.do("HEAD", a(""), tokReaderA, nil, nil), http.StatusNoContent, "HEAD account")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("HEAD account Content-Type %q", r.header.Get("Content-Type"))
	}
	if r.header.Get("X-Account-Container-Count") != "5" || r.header.Get("X-Account-Object-Count") != "3" || r.header.Get("X-Account-Bytes-Used") != "9" {
		t.Fatalf("account counts: %v", r.header)
	}
	r = e.must(e.do("GET", a(""), tokReaderA, nil, nil), http.StatusOK, "GET account")
	if r.body != "apple\nbanana\ncherry\ndir.one\ndir.two\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("text listing %q (%s)", r.body, r.header.Get("Content-Type"))
	}
	r = e.must(e.do("GET", a("?format=json&limit=2"), tokReaderA, nil, nil), http.StatusOK, "json listing")
	var items []accountItem
	if err := json.Unmarshal([]byte(r.body), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Name != "apple" || items[0].Count != 2 || items[0].Bytes != 8 || items[1].Name != "banana" || items[0].LastModified == "" {
		t.Fatalf("json listing %+v", items)
	}
	r = e.must(e.do("GET", a(""), tokReaderA, hdr{"Accept": "application/xml"}, nil), http.StatusOK, "xml listing")
	var doc struct {
		XMLName    xml.Name `xml:"account"`
		Name       string   `xml:"name,attr"`
		Containers []struct {
			Name  string `xml:"name"`
			Count int    `xml:"count"`
			Bytes int    `xml:"bytes"`
		} `xml:"container"`
	}
	if err := xml.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if doc.Name != "AUTH_pa" || len(doc.Containers) != 5 || doc.Containers[1].Name != "banana" || doc.Containers[1].Bytes != 1 {
		t.Fatalf("xml listing %+v", doc)
	}
	for q, want := range map[string]string{
		"?marker=banana":                 "cherry\ndir.one\ndir.two\n",
		"?end_marker=cherry":             "apple\nbanana\n",
		"?prefix=dir.":                   "dir.one\ndir.two\n",
		"?delimiter=.":                   "apple\nbanana\ncherry\ndir.\n",
		"?reverse=true&limit=2":          "dir.two\ndir.one\n",
		"?reverse=on&marker=cherry":      "banana\napple\n",
		"?marker=banana&end_marker=dir.": "cherry\n",
	} {
		r := e.must(e.do("GET", a(q), tokReaderA, nil, nil), http.StatusOK, "GET account"+q)
		if r.body != want {
			t.Errorf("account listing %s = %q, want %q", q, r.body, want)
		}
	}
	e.must(e.do("GET", a("?prefix=nothing"), tokReaderA, nil, nil), http.StatusNoContent, "empty text listing")
	r = e.must(e.do("GET", a("?prefix=nothing&format=json"), tokReaderA, nil, nil), http.StatusOK, "empty json listing")
	if r.body != "[]" {
		t.Fatalf("empty json listing %q", r.body)
	}
	e.must(e.do("GET", a("?limit=10001"), tokReaderA, nil, nil), http.StatusPreconditionFailed, "limit too large")
	e.must(e.do("GET", a(""), tokReaderA, hdr{"Accept": "image/png"}, nil), http.StatusNotAcceptable, "no acceptable format")

	// Metadata.
	e.must(e.do("POST", a(""), tokMemberA, hdr{"X-Account-Meta-Color": "blue", "X-Account-Meta-Shape": "round"}, nil), http.StatusNoContent, "POST account")
	r = e.must(e.do("HEAD", a(""), tokMemberA, nil, nil), http.StatusNoContent, "HEAD account")
	if r.header.Get("X-Account-Meta-Color") != "blue" || r.header.Get("X-Account-Meta-Shape") != "round" {
		t.Fatalf("account meta %v", r.header)
	}
	if p, _ := e.cat.View().Project(projA); p.Meta["x-account-meta-color"] != "blue" {
		t.Fatalf("project meta %v", p.Meta)
	}
	e.must(e.do("POST", a(""), tokMemberA, hdr{"X-Remove-Account-Meta-Color": "1"}, nil), http.StatusNoContent, "remove account meta")
	r = e.must(e.do("HEAD", a(""), tokMemberA, nil, nil), http.StatusNoContent, "HEAD account")
	if r.header.Get("X-Account-Meta-Color") != "" || r.header.Get("X-Account-Meta-Shape") != "round" {
		t.Fatalf("account meta after removal %v", r.header)
	}
	e.must(e.do("POST", a(""), tokReaderA, hdr{"X-Account-Meta-Color": "red"}, nil), http.StatusForbidden, "reader POSTs account")
	e.must(e.do("POST", a(""), tokMemberB, hdr{"X-Account-Meta-Color": "red"}, nil), http.StatusForbidden, "other project POSTs account")
	e.must(e.do("GET", a(""), "", nil, nil), http.StatusUnauthorized, "anonymous account listing")
	e.must(e.do("GET", a(""), "bogus", nil, nil), http.StatusUnauthorized, "bad token")
	e.must(e.do("GET", a(""), tokNoScope, nil, nil), http.StatusForbidden, "unscoped token")
	e.must(e.do("GET", a(""), tokRoot, nil, nil), http.StatusOK, "root lists alpha")
	e.must(e.do("GET", "/v1/AUTH_nosuch", tokRoot, nil, nil), http.StatusNotFound, "root lists a missing account")
	e.must(e.do("DELETE", a(""), tokAdminA, nil, nil), http.StatusMethodNotAllowed, "DELETE account")
	e.must(e.do("GET", "/v2/AUTH_pa", tokAdminA, nil, nil), http.StatusNotFound, "unknown version")
	e.must(e.do("GET", "/v1/pa", tokAdminA, nil, nil), http.StatusNotFound, "account without prefix")
	items = nil
	r = e.must(e.do("GET", b("?format=json"), tokMemberB, nil, nil), http.StatusOK, "beta listing")
	if err := json.Unmarshal([]byte(r.body), &items); err != nil || len(items) != 1 || items[0].Name != "zeta" {
		t.Fatalf("beta listing %q", r.body)
	}
}

// A request refused for load gets Swift's 503 page, a transaction id and
// Retry-After, and is not served.
func TestSlowDownRefusesWithA503(t *testing.T) {
	e := newEnv(t)
	w := httptest.NewRecorder()
	e.s.SlowDown(w, httptest.NewRequest("PUT", a("/c"), nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" ||
		!strings.HasPrefix(w.Header().Get("X-Trans-Id"), "tx") || !strings.Contains(w.Body.String(), "Service Unavailable") {
		t.Fatalf("slow down: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	if r := e.do("GET", a("/c"), tokMemberA, nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("the refused PUT created the container: %d", r.status)
	}
}
