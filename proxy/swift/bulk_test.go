package swift

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
)

func TestBulkDelete(t *testing.T) {
	e := newEnv(t)
	e.mkdir("bulk", nil)
	e.mkdir("gone", nil)
	e.mkdir("full", nil)
	e.put("bulk", "a", []byte("1"), nil)
	e.put("bulk", "b c", []byte("2"), nil)
	e.put("full", "x", []byte("3"), nil)
	e.must(e.do("PUT", b("/beta-c"), tokMemberB, nil, nil), http.StatusCreated, "beta container")
	e.must(e.do("PUT", b("/beta-c/o"), tokMemberB, nil, []byte("b")), http.StatusCreated, "beta object")

	body := "/bulk/a\n/bulk/b%20c\n/bulk/missing\n/gone\n/full\n/beta-c/o\n\n"
	r := e.must(e.do("POST", a("?bulk-delete"), tokMemberA, hdr{"Content-Type": "text/plain"}, []byte(body)), http.StatusOK, "bulk delete")
	// beta's container is invisible from alpha's account: not found.
	want := "Number Deleted: 3\nNumber Not Found: 2\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/full, 409 Conflict\n"
	if r.body != want || r.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("bulk report %q", r.body)
	}
	for _, p := range []string{"/bulk/a", "/bulk/b%20c", "/gone"} {
		e.must(e.do("HEAD", a(p), tokMemberA, nil, nil), http.StatusNotFound, "HEAD "+p)
	}
	e.must(e.do("HEAD", b("/beta-c/o"), tokMemberB, nil, nil), http.StatusOK, "beta object kept")

	// Another project's objects, by its account's container: 403 each.
	r = e.must(e.do("DELETE", b("?bulk-delete"), tokMemberA, hdr{"Accept": "application/json"}, []byte("/beta-c/o\n")), http.StatusOK, "bulk delete elsewhere")
	var rep struct {
		Deleted  int        `json:"Number Deleted"`
		NotFound int        `json:"Number Not Found"`
		Status   string     `json:"Response Status"`
		Errors   [][]string `json:"Errors"`
	}
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || rep.Status != "400 Bad Request" || len(rep.Errors) != 1 || rep.Errors[0][1] != "403 Forbidden" {
		t.Fatalf("json report %s", r.body)
	}
	r = e.must(e.do("POST", b("?bulk-delete"), "", hdr{"Accept": "application/xml"}, []byte("/beta-c/o\n")), http.StatusOK, "anonymous bulk delete")
	var xrep struct {
		XMLName xml.Name `xml:"delete"`
		Status  string   `xml:"response_status"`
		Objects []struct {
			Name   string `xml:"name"`
			Status string `xml:"status"`
		} `xml:"errors>object"`
	}
	if err := xml.Unmarshal([]byte(r.body), &xrep); err != nil || xrep.Status != "400 Bad Request" || len(xrep.Objects) != 1 || xrep.Objects[0].Status != "401 Unauthorized" {
		t.Fatalf("xml report %s", r.body)
	}
	r = e.must(e.do("POST", b("?bulk-delete"), tokMemberB, nil, []byte("/beta-c/o\n/beta-c\n")), http.StatusOK, "owner bulk delete")
	if !strings.HasPrefix(r.body, "Number Deleted: 2\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n") {
		t.Fatalf("owner report %q", r.body)
	}

	// Refusals inside the report.
	for _, c := range []struct {
		h      hdr
		body   string
		status string
		text   string
	}{
		{hdr{"Content-Type": "application/json"}, "/bulk/x\n", "406 Not Acceptable", ""},
		{nil, "\n\n", "400 Bad Request", "Invalid bulk delete."},
		{nil, "/bulk/" + strings.Repeat("x", 3000) + "\n", "400 Bad Request", "Invalid File Name"},
		{nil, "/a/1\n/a/2\n/a/3\n", "413 Request Entity Too Large", "Maximum Bulk Deletes: 2 per request"},
	} {
		e.s.lim.maxDeletes = 2
		r := e.must(e.do("POST", a("?bulk-delete"), tokMemberA, c.h, []byte(c.body)), http.StatusOK, "bulk refusal")
		if !contains(r.body, "Response Status: "+c.status+"\n") || !contains(r.body, "Response Body: "+c.text) {
			t.Errorf("bulk %q: %q", c.body, r.body)
		}
	}
	r = e.must(e.do("POST", a("?bulk-delete"), tokMemberA, hdr{"Accept": "image/png"}, []byte("/bulk/x\n")), http.StatusOK, "bulk with no acceptable format")
	if !contains(r.body, "Response Status: 406 Not Acceptable") {
		t.Fatalf("report %q", r.body)
	}
}
