package s3

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

func TestResolveConfigAPIs(t *testing.T) {
	cases := []struct{ method, path, api string }{
		{"OPTIONS", "/b/k", apiPreflight},
		{"OPTIONS", "/b", apiPreflight},
		{"OPTIONS", "/", apiPreflight},
		{"PUT", "/b/k?tagging", apiPutObjectTagging},
		{"GET", "/b/k?tagging", apiGetObjectTagging},
		{"DELETE", "/b/k?tagging", apiDeleteObjectTagging},
		{"PUT", "/b?tagging", apiPutBucketTagging},
		{"GET", "/b?tagging", apiGetBucketTagging},
		{"DELETE", "/b?tagging", apiDeleteBucketTagging},
		{"PUT", "/b?cors", apiPutBucketCors},
		{"GET", "/b?cors", apiGetBucketCors},
		{"DELETE", "/b?cors", apiDeleteBucketCors},
		{"PUT", "/b?lifecycle", apiPutBucketLifecycle},
		{"GET", "/b?lifecycle", apiGetBucketLifecycle},
		{"DELETE", "/b?lifecycle", apiDeleteBucketLifecycle},
		{"PUT", "/b?tagging&cors", apiNotImplemented},
	}
	for _, c := range cases {
		u, err := url.Parse(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := resolve(c.method, u.Path, "h", u.Query(), http.Header{}, nil).API; got != c.api {
			t.Errorf("%s %s = %s, want %s", c.method, c.path, got, c.api)
		}
	}
}

func TestTagsQueryForm(t *testing.T) {
	tags := []tag{{"b", "2"}, {"a b", "x&y=z"}, {"ü", ""}, {"k", "%"}}
	enc := encodeTags(tags)
	got, err := decodeTags(enc)
	if err != nil || !reflect.DeepEqual(got, tags) {
		t.Fatalf("decodeTags(encodeTags) = %v, %v (form %q)", got, err, enc)
	}
	got, err = decodeTags("a&b=&=v&&c=1")
	if err != nil || !reflect.DeepEqual(got, []tag{{"a", ""}, {"b", ""}, {"", "v"}, {"c", "1"}}) {
		t.Fatalf("decodeTags of loose form = %v, %v", got, err)
	}
	for _, bad := range []string{"a=1&a=2", "a=%g1", "%zz=1"} {
		if _, err := decodeTags(bad); err != ErrInvalidTaggingHeader {
			t.Errorf("decodeTags(%q) = %v", bad, err)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "https://example.com", true},
		{"https://example.com", "https://example.com", true},
		{"https://example.com", "https://EXAMPLE.com", false},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://example.com:*", "https://example.com:8443", true},
		{"a*a", "aa", true},
		{"a*a", "a", false},
		{"ab*ba", "aba", false},
		{"prefix*", "prefix", true},
		{"*suffix", "foo.suffix.get", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, c := range cases {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

func TestCheckShape(t *testing.T) {
	cases := []struct {
		doc  string
		want bool
	}{
		{`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag><Tag><Key>c</Key><Value/></Tag></TagSet></Tagging>`, true},
		{`<?xml version="1.0"?><!-- c --><Tagging xmlns="x"><TagSet/></Tagging>`, true},
		{`<s3:Tagging xmlns:s3="x"><s3:TagSet></s3:TagSet></s3:Tagging>`, true},
		{`<Tagging><TagSet/><TagSet/></Tagging>`, false},
		{`<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key></Tag></TagSet></Tagging>`, false},
		{`<Tagging><TagSet><Tag><Key><b/></Key></Tag></TagSet></Tagging>`, false},
		{`<Tagging>text<TagSet/></Tagging>`, false},
		{`<Tagging><TagSet/></Tagging><Tagging/>`, false},
		{`<!DOCTYPE x><Tagging><TagSet/></Tagging>`, false},
		{`<Tagging><TagSet>`, false},
		{`<tagging><TagSet/></tagging>`, false},
		{``, false},
	}
	for _, c := range cases {
		if got := checkShape([]byte(c.doc), "Tagging", taggingShape); got != c.want {
			t.Errorf("checkShape(%s) = %v", c.doc, got)
		}
	}
}

func TestScanPrefixes(t *testing.T) {
	got := scanPrefixes([]string{"logs/b", "logs/", "data/", "logs/a", "data/x", "z"})
	if want := []string{"data/", "logs/", "z"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("scanPrefixes = %v, want %v", got, want)
	}
	if got := scanPrefixes([]string{"a", "", "b"}); !reflect.DeepEqual(got, []string{""}) {
		t.Fatalf("scanPrefixes with the empty prefix = %v", got)
	}
}
