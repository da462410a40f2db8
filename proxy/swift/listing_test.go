package swift

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestContainerListing(t *testing.T) {
	e := newEnv(t)
	e.mkdir("files", nil)
	names := []string{"a/1", "a/2", "a/b/3", "b", "c.txt", "d/e/f"}
	for i, n := range names {
		e.put("files", n, []byte(strings.Repeat("x", i+1)), hdr{"Content-Type": fmt.Sprintf("type/%d", i)})
	}
	list := func(q string, h hdr) resp {
		t.Helper()
		return e.must(e.do("GET", a("/files"+q), tokReaderA, h, nil), http.StatusOK, "list "+q)
	}
	r := list("", nil)
	if r.body != strings.Join(names, "\n")+"\n" {
		t.Fatalf("text listing %q", r.body)
	}
	if r.header.Get("X-Container-Object-Count") != "6" || r.header.Get("X-Container-Bytes-Used") != "21" {
		t.Fatalf("counts %v", r.header)
	}
	for q, want := range map[string]string{
		"?limit=2":                           "a/1\na/2\n",
		"?marker=a/2":                        "a/b/3\nb\nc.txt\nd/e/f\n",
		"?end_marker=b":                      "a/1\na/2\na/b/3\n",
		"?prefix=a/":                         "a/1\na/2\na/b/3\n",
		"?delimiter=/":                       "a/\nb\nc.txt\nd/\n",
		"?prefix=a/&delimiter=/":             "a/1\na/2\na/b/\n",
		"?reverse=true":                      "d/e/f\nc.txt\nb\na/b/3\na/2\na/1\n",
		"?reverse=true&limit=2":              "d/e/f\nc.txt\n",
		"?reverse=true&marker=b":             "a/b/3\na/2\na/1\n",
		"?reverse=true&marker=c.txt&limit=2": "b\na/b/3\n",
		"?reverse=true&end_marker=b":         "d/e/f\nc.txt\n",
		"?path=a":                            "a/1\na/2\n",
		"?path=":                             "b\nc.txt\n",
		"?marker=a/1&end_marker=c.txt":       "a/2\na/b/3\nb\n",
		"?limit=0":                           "",
		"?limit=abc":                         strings.Join(names, "\n") + "\n",
	} {
		r := e.do("GET", a("/files"+q), tokReaderA, nil, nil)
		if r.body != want {
			t.Errorf("listing %s = %q, want %q", q, r.body, want)
		}
		if want == "" && r.status != http.StatusNoContent {
			t.Errorf("empty listing %s: status %d", q, r.status)
		}
	}
	e.must(e.do("GET", a("/files?limit=10001"), tokReaderA, nil, nil), http.StatusPreconditionFailed, "limit too large")
	e.must(e.do("GET", a("/files?delimiter=ab"), tokReaderA, nil, nil), http.StatusPreconditionFailed, "long delimiter")

	r = list("?format=json&prefix=a/&delimiter=/", nil)
	var items []map[string]any
	if err := json.Unmarshal([]byte(r.body), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[2]["subdir"] != "a/b/" {
		t.Fatalf("json listing %s", r.body)
	}
	it := items[0]
	if it["name"] != "a/1" || it["hash"] != "9dd4e461268c8034f5c8564e155c67a6" || it["bytes"] != float64(1) || it["content_type"] != "type/0" {
		t.Fatalf("json item %v", it)
	}
	if lm, _ := it["last_modified"].(string); len(lm) != len("2006-01-02T15:04:05.000000") {
		t.Fatalf("last_modified %q", it["last_modified"])
	}
	for _, h := range []hdr{{"Accept": "application/json"}, {"Accept": "text/plain;q=0.5, application/json"}} {
		if r := list("", h); !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("Accept %v gave %s", h, r.header.Get("Content-Type"))
		}
	}
	r = list("?format=xml&delimiter=/", hdr{"Accept": "application/json"})
	var doc struct {
		Name    string `xml:"name,attr"`
		Objects []struct {
			Name        string `xml:"name"`
			Hash        string `xml:"hash"`
			Bytes       int    `xml:"bytes"`
			ContentType string `xml:"content_type"`
		} `xml:"object"`
		Subdirs []struct {
			Name string `xml:"name,attr"`
		} `xml:"subdir"`
	}
	if err := xml.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if doc.Name != "files" || len(doc.Objects) != 2 || doc.Objects[1].Name != "c.txt" || doc.Objects[1].Bytes != 5 || doc.Objects[1].ContentType != "type/4" || len(doc.Subdirs) != 2 || doc.Subdirs[1].Name != "d/" {
		t.Fatalf("xml listing %+v from %s", doc, r.body)
	}
	e.must(e.do("GET", a("/files"), tokReaderA, hdr{"Accept": "image/png"}, nil), http.StatusNotAcceptable, "no acceptable format")
	r = e.must(e.do("GET", a("/files?prefix=zzz&format=json"), tokReaderA, nil, nil), http.StatusOK, "empty json")
	if r.body != "[]" {
		t.Fatalf("empty json %q", r.body)
	}

	// A listing longer than a store page (1000) is read page by page.
	e.mkdir("many", nil)
	for i := 0; i < 1005; i++ {
		if _, err := e.store.PutObject(t.Context(), "many", fmt.Sprintf("k%04d", i), strings.NewReader(""), 0, objStoreOpts()); err != nil {
			t.Fatal(err)
		}
	}
	r = e.must(e.do("GET", a("/many?marker=k0990&limit=12"), tokReaderA, nil, nil), http.StatusOK, "paged listing")
	if got := strings.Count(r.body, "\n"); got != 12 || !strings.HasPrefix(r.body, "k0991\n") || !strings.HasSuffix(r.body, "k1002\n") {
		t.Fatalf("paged listing %q", r.body)
	}
	r = e.must(e.do("HEAD", a("/many"), tokReaderA, nil, nil), http.StatusNoContent, "HEAD many")
	if r.header.Get("X-Container-Object-Count") != "1005" {
		t.Fatalf("count %s", r.header.Get("X-Container-Object-Count"))
	}
	r = e.must(e.do("GET", a("/many?reverse=1&limit=3"), tokReaderA, nil, nil), http.StatusOK, "reverse paged")
	if r.body != "k1004\nk1003\nk1002\n" {
		t.Fatalf("reverse paged %q", r.body)
	}
}
