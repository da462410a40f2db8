package swift

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func md5str(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

type segIn struct {
	Path  string `json:"path"`
	Etag  string `json:"etag,omitempty"`
	Size  *int64 `json:"size_bytes,omitempty"`
	Range string `json:"range,omitempty"`
}

func manifest(segs ...segIn) []byte {
	b, _ := json.Marshal(segs)
	return b
}

func size(n int64) *int64 { return &n }

func TestStaticLargeObjects(t *testing.T) {
	e := newEnv(t)
	e.mkdir("segs", nil)
	e.mkdir("big", nil)
	parts := []string{"alpha-", "bravo-", "charlie"}
	for i, p := range parts {
		e.put("segs", fmt.Sprintf("s%d", i), []byte(p), nil)
	}
	whole := strings.Join(parts, "")
	m := manifest(
		segIn{Path: "/segs/s0", Etag: md5str(parts[0]), Size: size(6)},
		segIn{Path: "segs/s1", Etag: `"` + md5str(parts[1]) + `"`},
		segIn{Path: "/segs/s2"},
	)
	sloEtag := md5str(md5str(parts[0]) + md5str(parts[1]) + md5str(parts[2]))
	r := e.must(e.do("PUT", a("/big/file.bin?multipart-manifest=put"), tokMemberA, hdr{"X-Object-Meta-Kind": "slo"}, m), http.StatusCreated, "manifest PUT")
	if r.header.Get("Etag") != `"`+sloEtag+`"` {
		t.Fatalf("manifest PUT ETag %q, want %q", r.header.Get("Etag"), sloEtag)
	}
	r = e.must(e.get("big", "file.bin", nil), http.StatusOK, "SLO GET")
	if r.body != whole || r.header.Get("Etag") != `"`+sloEtag+`"` || r.header.Get("X-Static-Large-Object") != "True" ||
		r.header.Get("X-Object-Meta-Kind") != "slo" || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("SLO GET %q %v", r.body, r.header)
	}
	r = e.must(e.do("HEAD", a("/big/file.bin"), tokReaderA, nil, nil), http.StatusOK, "SLO HEAD")
	if r.header.Get("Content-Length") != fmt.Sprint(len(whole)) || r.header.Get("Etag") != `"`+sloEtag+`"` {
		t.Fatalf("SLO HEAD %v", r.header)
	}
	for rng, want := range map[string]string{"bytes=4-8": "a-bra", "bytes=-9": "-charlie"[0:0] + whole[len(whole)-9:], "bytes=6-11": "bravo-", "bytes=0-0": "a"} {
		r := e.must(e.get("big", "file.bin", hdr{"Range": rng}), http.StatusPartialContent, "SLO range "+rng)
		if r.body != want {
			t.Errorf("SLO range %s = %q, want %q", rng, r.body, want)
		}
	}
	e.must(e.get("big", "file.bin", hdr{"Range": "bytes=100-"}), http.StatusRequestedRangeNotSatisfiable, "SLO range past the end")
	e.must(e.get("big", "file.bin", hdr{"If-None-Match": `"` + sloEtag + `"`}), http.StatusNotModified, "SLO If-None-Match")
	e.must(e.get("big", "file.bin", hdr{"If-Match": md5str(whole)}), http.StatusPreconditionFailed, "SLO If-Match on the content MD5")

	// The manifest itself.
	r = e.must(e.get("big", "file.bin?multipart-manifest=get", nil), http.StatusOK, "manifest GET")
	var stored []map[string]any
	if err := json.Unmarshal([]byte(r.body), &stored); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if len(stored) != 3 || stored[1]["name"] != "/segs/s1" || stored[1]["hash"] != md5str(parts[1]) || stored[2]["bytes"] != float64(7) || stored[0]["content_type"] == nil || stored[0]["last_modified"] == nil {
		t.Fatalf("stored manifest %s", r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.header.Get("Etag") != md5str(r.body) {
		t.Fatalf("manifest GET headers %v", r.header)
	}
	r = e.must(e.get("big", "file.bin?multipart-manifest=get&format=raw", nil), http.StatusOK, "raw manifest GET")
	var raw []segIn
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil || len(raw) != 3 || raw[2].Path != "/segs/s2" || *raw[2].Size != 7 || raw[2].Etag != md5str(parts[2]) {
		t.Fatalf("raw manifest %s", r.body)
	}

	// Listing: the large object's size and ETag.
	r = e.must(e.do("GET", a("/big?format=json"), tokReaderA, nil, nil), http.StatusOK, "listing")
	var items []containerItem
	if err := json.Unmarshal([]byte(r.body), &items); err != nil || len(items) != 1 || items[0].Bytes != int64(len(whole)) || items[0].SLOEtag != `"`+sloEtag+`"` {
		t.Fatalf("listing %s", r.body)
	}

	// Ranged segments, and their place in the ETag.
	m = manifest(segIn{Path: "/segs/s2", Range: "1-3"}, segIn{Path: "/segs/s0", Range: "-2"}, segIn{Path: "/segs/s1", Range: "0-"})
	r = e.must(e.do("PUT", a("/big/ranged?multipart-manifest=put"), tokMemberA, nil, m), http.StatusCreated, "ranged manifest")
	want := md5str(md5str(parts[2]) + ":1-3;" + md5str(parts[0]) + ":4-5;" + md5str(parts[1]))
	if r.header.Get("Etag") != `"`+want+`"` {
		t.Fatalf("ranged ETag %q, want %q", r.header.Get("Etag"), want)
	}
	if r := e.get("big", "ranged", nil); r.body != "har"+"a-"+"bravo-" {
		t.Fatalf("ranged SLO %q", r.body)
	}
	if r := e.get("big", "ranged", hdr{"Range": "bytes=2-5"}); r.body != "ra-b" {
		t.Fatalf("range of a ranged SLO %q", r.body)
	}

	// Nested manifests.
	m = manifest(segIn{Path: "/big/file.bin"}, segIn{Path: "/segs/s0"})
	e.must(e.do("PUT", a("/big/nested?multipart-manifest=put"), tokMemberA, nil, m), http.StatusCreated, "nested manifest")
	if r := e.get("big", "nested", nil); r.body != whole+parts[0] {
		t.Fatalf("nested SLO %q", r.body)
	}
	if r := e.get("big", "nested", hdr{"Range": "bytes=17-21"}); r.body != "iealp" {
		t.Fatalf("range across nested SLOs %q", r.body)
	}

	// Copy of an SLO: its content, as a plain object.
	r = e.must(e.do("PUT", a("/big/flat"), tokMemberA, hdr{"X-Copy-From": "big/file.bin"}, nil), http.StatusCreated, "copy of an SLO")
	if r.header.Get("Etag") != md5str(whole) {
		t.Fatalf("copy ETag %q", r.header.Get("Etag"))
	}
	if r := e.get("big", "flat", nil); r.body != whole || r.header.Get("X-Static-Large-Object") != "" {
		t.Fatalf("flat copy %q %v", r.body, r.header)
	}
	e.must(e.do("PUT", a("/big/mcopy?multipart-manifest=get"), tokMemberA, hdr{"X-Copy-From": "big/file.bin"}, nil), http.StatusCreated, "copy of the manifest")
	if r := e.get("big", "mcopy", nil); r.body != whole || r.header.Get("X-Static-Large-Object") != "True" {
		t.Fatalf("manifest copy %q %v", r.body, r.header)
	}

	// A changed first segment: 409 before anything is sent.
	e.put("segs", "s0", []byte("ALPHA-"), nil)
	r = e.must(e.get("big", "file.bin", nil), http.StatusConflict, "changed segment")
	if !contains(r.body, "changed") {
		t.Fatalf("409 body %q", r.body)
	}
	e.put("segs", "s0", []byte(parts[0]), nil)
	e.must(e.get("big", "file.bin", nil), http.StatusOK, "segment restored")
	e.must(e.do("DELETE", a("/segs/s0"), tokMemberA, nil, nil), http.StatusNoContent, "delete segment")
	r = e.must(e.get("big", "file.bin", nil), http.StatusConflict, "missing segment")
	if !contains(r.body, "missing") {
		t.Fatalf("409 body %q", r.body)
	}
	e.put("segs", "s0", []byte(parts[0]), nil)

	// Delete with its segments.
	r = e.must(e.do("DELETE", a("/big/file.bin?multipart-manifest=delete"), tokMemberA, hdr{"Accept": "application/json"}, nil), http.StatusOK, "manifest delete")
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || rep["Number Deleted"] != float64(4) || rep["Response Status"] != "200 OK" || rep["Number Not Found"] != float64(0) {
		t.Fatalf("delete report %s", r.body)
	}
	for _, p := range []string{"/segs/s0", "/segs/s1", "/segs/s2", "/big/file.bin"} {
		e.must(e.do("HEAD", a(p), tokMemberA, nil, nil), http.StatusNotFound, "HEAD deleted "+p)
	}
	r = e.must(e.do("DELETE", a("/big/flat?multipart-manifest=delete"), tokMemberA, nil, nil), http.StatusOK, "manifest delete of a plain object")
	if !contains(r.body, "Response Status: 400 Bad Request") || !contains(r.body, "/big/flat, Not an SLO manifest") {
		t.Fatalf("report %q", r.body)
	}
	e.must(e.do("HEAD", a("/big/flat"), tokMemberA, nil, nil), http.StatusOK, "plain object kept")
}

func TestStaticLargeObjectRefusals(t *testing.T) {
	e := newEnv(t)
	e.mkdir("segs", nil)
	e.mkdir("big", nil)
	e.put("segs", "one", []byte("1"), nil)
	e.put("segs", "two", []byte("22"), nil)
	e.put("segs", "empty", []byte{}, nil)
	put := func(name string, body []byte, h hdr) resp {
		t.Helper()
		return e.do("PUT", a("/big/"+name+"?multipart-manifest=put"), tokMemberA, h, body)
	}
	for _, c := range []struct {
		name   string
		body   string
		status int
		text   string
	}{
		{"not JSON", "{nope", 400, "Manifest must be valid JSON."},
		{"not a list", `{"path": "/segs/one"}`, 400, "Manifest must be a list."},
		{"empty", `[]`, 400, "at least one segment"},
		{"not an object", `[1]`, 400, "Index 0: not a JSON object"},
		{"no path", `[{"etag": "x"}]`, 400, "Index 0: expected keys to include one of 'path'"},
		{"extra key", `[{"path": "/segs/one", "color": "red"}]`, 400, `Index 0: extraneous keys "color"`},
		{"not an object path", `[{"path": "/segs"}]`, 400, "Index 0: path does not refer to an object"},
		{"bad size", `[{"path": "/segs/one", "size_bytes": "big"}]`, 400, "Index 0: invalid size_bytes"},
		{"zero size first", `[{"path": "/segs/one", "size_bytes": 0}, {"path": "/segs/two"}]`, 400, "Index 0: too small"},
		{"bad range", `[{"path": "/segs/one", "range": "x-y"}]`, 400, "Index 0: invalid range"},
		{"two ranges", `[{"path": "/segs/two", "range": "0-0,1-1"}]`, 400, "Index 0: multiple ranges"},
		{"self", `[{"path": "/segs/one"}, {"path": "/big/self"}]`, 400, "Index 1: manifest must not include itself as a segment"},
		{"missing segment", `[{"path": "/segs/one"}, {"path": "/segs/nope"}]`, 400, "/segs/nope, 404 Not Found"},
		{"missing container", `[{"path": "/nocont/x"}]`, 400, "/nocont/x, 404 Not Found"},
		{"etag mismatch", `[{"path": "/segs/one", "etag": "0123"}]`, 400, "/segs/one, Etag Mismatch"},
		{"size mismatch", `[{"path": "/segs/one", "size_bytes": 5}]`, 400, "/segs/one, Size Mismatch"},
		{"empty segment first", `[{"path": "/segs/empty"}, {"path": "/segs/one"}]`, 400, "/segs/empty, Too small; each segment must be at least 1 byte."},
		{"unsatisfiable range", `[{"path": "/segs/two", "range": "5-"}]`, 400, "/segs/two, Unsatisfiable Range"},
	} {
		name := "self"
		if c.name != "self" {
			name = "m"
		}
		r := put(name, []byte(c.body), nil)
		if r.status != c.status || !contains(r.body, c.text) {
			t.Errorf("%s: %d %q, want %d with %q", c.name, r.status, r.body, c.status, c.text)
		}
	}
	e.must(put("m", []byte(`[{"path": "/segs/one"}, {"path": "/segs/empty"}]`), nil), http.StatusCreated, "empty last segment")
	r := e.must(put("m", []byte(`[{"path": "/segs/nope"}]`), hdr{"Accept": "application/json"}), http.StatusBadRequest, "JSON problems")
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || fmt.Sprint(rep["Errors"]) != "[[/segs/nope 404 Not Found]]" {
		t.Fatalf("JSON problems %s", r.body)
	}
	e.must(put("m", []byte(`[{"path": "/segs/one"}]`), hdr{"Etag": md5str("nope")}), http.StatusUnprocessableEntity, "manifest ETag mismatch")
	e.must(put("m", []byte(`[{"path": "/segs/one"}]`), hdr{"Etag": md5str(md5str("1"))}), http.StatusCreated, "manifest ETag match")
	e.must(put("m", []byte(`[{"path": "/segs/one"}]`), hdr{"X-Copy-From": "segs/one"}), http.StatusMethodNotAllowed, "manifest PUT with X-Copy-From")
	e.must(e.do("PUT", a("/big/m?multipart-manifest=put"), tokReaderA, nil, []byte(`[{"path": "/segs/one"}]`)), http.StatusForbidden, "reader puts a manifest")

	// Limits.
	e.s.lim.maxSegments = 2
	r = e.must(put("m", manifest(segIn{Path: "/segs/one"}, segIn{Path: "/segs/one"}, segIn{Path: "/segs/one"}), nil), http.StatusRequestEntityTooLarge, "too many segments")
	if !contains(r.body, "<= 2") {
		t.Fatalf("413 body %q", r.body)
	}
	e.s.lim.maxSegments = MaxManifestSegments
	e.s.lim.maxManifestSize = 20
	r = e.must(put("m", manifest(segIn{Path: "/segs/one"}, segIn{Path: "/segs/two"}), nil), http.StatusRequestEntityTooLarge, "manifest too large")
	if !contains(r.body, "Manifest File > 20 bytes") {
		t.Fatalf("413 body %q", r.body)
	}
	e.s.lim.maxManifestSize = MaxManifestSize
	host := strings.TrimPrefix(e.url, "http://")
	if st := e.raw("PUT " + a("/big/m?multipart-manifest=put") + " HTTP/1.1\r\nHost: " + host + "\r\nX-Auth-Token: " + tokMemberA + "\r\nConnection: close\r\n\r\n"); st != http.StatusLengthRequired {
		t.Fatalf("manifest without length: %d", st)
	}

	// Loops: a manifest cannot name itself, but can come to include
	// itself through another; reading it stops at the depth limit.
	e.must(put("loop1", manifest(segIn{Path: "/segs/one"}), nil), http.StatusCreated, "loop1")
	e.must(put("loop2", manifest(segIn{Path: "/big/loop1"}), nil), http.StatusCreated, "loop2")
	e.must(put("loop1", manifest(segIn{Path: "/big/loop2"}), nil), http.StatusCreated, "loop1 again")
	r = e.must(e.get("big", "loop1", nil), http.StatusConflict, "loop GET")
	if !contains(r.body, "Max recursion depth exceeded") {
		t.Fatalf("loop body %q", r.body)
	}
	// Ten levels are fine, eleven are not.
	prev := "/segs/one"
	for i := 1; i <= 11; i++ {
		name := fmt.Sprintf("deep%02d", i)
		e.must(put(name, manifest(segIn{Path: prev}), nil), http.StatusCreated, name)
		prev = "/big/" + name
	}
	e.must(e.get("big", "deep10", nil), http.StatusOK, "ten levels")
	e.must(e.get("big", "deep11", nil), http.StatusConflict, "eleven levels")
}

func TestLargeObjectSegmentsAcrossProjects(t *testing.T) {
	e := newEnv(t)
	e.mkdir("mine", nil)
	e.must(e.do("PUT", b("/theirs"), tokMemberB, nil, nil), http.StatusCreated, "beta container")
	e.must(e.do("PUT", b("/theirs/seg"), tokMemberB, nil, []byte("beta-data")), http.StatusCreated, "beta segment")
	e.put("mine", "seg", []byte("alpha-data"), nil)
	m := manifest(segIn{Path: "/mine/seg"}, segIn{Path: "/theirs/seg"})
	r := e.must(e.do("PUT", a("/mine/slo?multipart-manifest=put"), tokMemberA, nil, m), http.StatusForbidden, "segment of another project")
	if !contains(r.body, "theirs") {
		t.Fatalf("403 body %q", r.body)
	}
	e.must(e.do("POST", b("/theirs"), tokMemberB, hdr{"X-Container-Read": projA + ":*"}, nil), http.StatusNoContent, "beta shares")
	e.must(e.do("PUT", a("/mine/slo?multipart-manifest=put"), tokMemberA, nil, m), http.StatusCreated, "shared segment")
	if r := e.get("mine", "slo", nil); r.status != 200 || r.body != "alpha-databeta-data" {
		t.Fatalf("cross-project SLO %d %q", r.status, r.body)
	}
	// A DLO over the shared container needs a listing right there too.
	e.must(e.do("PUT", a("/mine/dlo"), tokMemberA, hdr{"X-Object-Manifest": "theirs/"}, []byte{}), http.StatusCreated, "DLO over theirs")
	if r := e.get("mine", "dlo", nil); r.status != 200 || r.body != "beta-data" {
		t.Fatalf("cross-project DLO %d %q", r.status, r.body)
	}
	// Reading needs the right at read time: another alpha user without it,
	// or after the share is withdrawn, is refused.
	e.must(e.do("POST", b("/theirs"), tokMemberB, hdr{"X-Container-Read": projA + ":ua"}, nil), http.StatusNoContent, "beta narrows")
	e.must(e.do("GET", a("/mine/slo"), tokMemberA, nil, nil), http.StatusForbidden, "SLO read by a user the share does not name")
	e.must(e.do("GET", a("/mine/slo"), tokAdminA, nil, nil), http.StatusOK, "SLO read by the named user")
	e.must(e.do("POST", b("/theirs"), tokMemberB, hdr{"X-Remove-Container-Read": "x"}, nil), http.StatusNoContent, "beta withdraws")
	e.must(e.do("GET", a("/mine/slo"), tokAdminA, nil, nil), http.StatusForbidden, "SLO after the share is withdrawn")
	e.must(e.do("GET", a("/mine/slo?multipart-manifest=get"), tokAdminA, nil, nil), http.StatusOK, "the manifest itself stays readable")
	e.must(e.do("GET", a("/mine/dlo"), tokAdminA, nil, nil), http.StatusForbidden, "DLO after the share is withdrawn")
	// Deleting with segments: those of the other project are refused.
	r = e.must(e.do("DELETE", a("/mine/slo?multipart-manifest=delete"), tokAdminA, nil, nil), http.StatusOK, "delete with segments")
	if !contains(r.body, "Response Status: 400 Bad Request") || !contains(r.body, "/theirs/seg, 403 Forbidden") {
		t.Fatalf("report %q", r.body)
	}
}

func TestDynamicLargeObjects(t *testing.T) {
	e := newEnv(t)
	e.mkdir("segs", nil)
	e.mkdir("dyn", nil)
	parts := []string{"one-", "two-", "three"}
	for i, p := range parts {
		e.put("segs", fmt.Sprintf("video/%03d", i), []byte(p), nil)
	}
	e.put("segs", "videos-not", []byte("NOT"), nil)
	r := e.put("dyn", "video.mp4", []byte{}, hdr{"X-Object-Manifest": "segs/video/", "Content-Type": "video/mp4"})
	if r.header.Get("Etag") != md5str("") {
		t.Fatalf("DLO PUT ETag %q", r.header.Get("Etag"))
	}
	whole := strings.Join(parts, "")
	etag := `"` + md5str(md5str(parts[0])+md5str(parts[1])+md5str(parts[2])) + `"`
	r = e.must(e.get("dyn", "video.mp4", nil), http.StatusOK, "DLO GET")
	if r.body != whole || r.header.Get("Etag") != etag || r.header.Get("X-Object-Manifest") != "segs/video/" || r.header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("DLO GET %q %v", r.body, r.header)
	}
	r = e.must(e.do("HEAD", a("/dyn/video.mp4"), tokReaderA, nil, nil), http.StatusOK, "DLO HEAD")
	if r.header.Get("Content-Length") != fmt.Sprint(len(whole)) || r.header.Get("Etag") != etag {
		t.Fatalf("DLO HEAD %v", r.header)
	}
	if r := e.get("dyn", "video.mp4", hdr{"Range": "bytes=2-9"}); r.status != 206 || r.body != "e-two-th" {
		t.Fatalf("DLO range %d %q", r.status, r.body)
	}
	// New segments join at once.
	e.put("segs", "video/003", []byte("-four"), nil)
	if r := e.get("dyn", "video.mp4", nil); r.body != whole+"-four" {
		t.Fatalf("DLO after a new segment %q", r.body)
	}
	if r := e.get("dyn", "video.mp4?multipart-manifest=get", nil); r.status != 200 || r.body != "" || r.header.Get("Etag") != md5str("") {
		t.Fatalf("DLO manifest GET %d %q %v", r.status, r.body, r.header)
	}
	e.must(e.do("PUT", a("/dyn/bad"), tokMemberA, hdr{"X-Object-Manifest": "nocontainerprefix"}, []byte{}), http.StatusBadRequest, "bad X-Object-Manifest")
	// A manifest over a missing container is empty.
	e.put("dyn", "empty", []byte{}, hdr{"X-Object-Manifest": "nosuch/x"})
	if r := e.get("dyn", "empty", nil); r.status != 200 || r.body != "" || r.header.Get("Etag") != `"`+md5str("")+`"` {
		t.Fatalf("empty DLO %d %q %v", r.status, r.body, r.header)
	}
	// POST without X-Object-Manifest makes it a plain object (as Swift).
	e.must(e.do("POST", a("/dyn/video.mp4"), tokMemberA, hdr{"X-Object-Meta-A": "b"}, nil), http.StatusAccepted, "POST")
	if r := e.get("dyn", "video.mp4", nil); r.body != "" || r.header.Get("X-Object-Manifest") != "" {
		t.Fatalf("after POST %q %v", r.body, r.header)
	}
}

func TestLargeObjectCutShortWhenALaterSegmentChanged(t *testing.T) {
	e := newEnv(t)
	e.mkdir("segs", nil)
	e.put("segs", "s0", []byte("first-"), nil)
	e.put("segs", "s1", []byte("second"), nil)
	e.must(e.do("PUT", a("/segs/slo?multipart-manifest=put"), tokMemberA, nil, manifest(segIn{Path: "/segs/s0"}, segIn{Path: "/segs/s1"})), http.StatusCreated, "manifest")
	e.put("segs", "s1", []byte("SECOND"), nil)
	req, _ := http.NewRequest("GET", e.url+a("/segs/slo"), nil)
	req.Header.Set("X-Auth-Token", tokMemberA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.ContentLength != 12 {
		t.Fatalf("status %d, length %d", res.StatusCode, res.ContentLength)
	}
	if err == nil || string(body) != "first-" {
		t.Fatalf("a changed later segment must cut the response short: %q, %v", body, err)
	}
}
