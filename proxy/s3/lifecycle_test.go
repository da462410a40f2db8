package s3_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"github.com/basaltstore/basalt/objectd"
	"github.com/minio/minio-go/v7"
)

// lifecycleDoc is a configuration with every kind of rule, written in the
// order Basalt writes it back.
const lifecycleDoc = `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
	`<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>` +
	`<Rule><ID>tagged</ID><Filter><Tag><Key>expire</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>` +
	`<Rule><ID>and</ID><Filter><And><Prefix>size/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag>` +
	`<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter>` +
	`<Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>` +
	`<Rule><ID>legacy</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>` +
	`<Rule><ID>versions</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>` +
	`<NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>` +
	`<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>` +
	`<Rule><ID>small</ID><Filter><ObjectSizeLessThan>100</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>` +
	`</LifecycleConfiguration>`

func TestLifecycleConfigRoundTrip(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("lcrt")
	if r := e.raw(http.MethodGet, "/lcrt?lifecycle", nil, nil); r.status != 404 || r.code != "NoSuchLifecycleConfiguration" {
		t.Fatalf("GET before any: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodPut, "/lcrt?lifecycle", []byte(lifecycleDoc), xmlHeaders(lifecycleDoc)); r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s %s", r.status, r.code, r.body)
	}
	r := e.raw(http.MethodGet, "/lcrt?lifecycle", nil, nil)
	if want := xml.Header + lifecycleDoc; string(r.body) != want {
		t.Fatalf("GET:\n%s\nwant\n%s", r.body, want)
	}

	// A rule without an ID gets one.
	doc := `<LifecycleConfiguration><Rule><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status>` +
		`<Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>`
	if r := e.raw(http.MethodPut, "/lcrt?lifecycle", []byte(doc), xmlHeaders(doc)); r.status != http.StatusOK {
		t.Fatalf("PUT without ID: %d %s %s", r.status, r.code, r.body)
	}
	out, err := e.aws.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lcrt")})
	if err != nil || len(out.Rules) != 1 || out.Rules[0].ID == nil || *out.Rules[0].ID == "" || *out.Rules[0].Expiration.Days != 3 {
		t.Fatalf("rule without ID: %v %+v", err, out)
	}

	// aws-sdk-go-v2.
	_, err = e.aws.PutBucketLifecycleConfiguration(ctx, &awss3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String("lcrt"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
			{
				ID: aws.String("sdk"), Status: types.ExpirationStatusEnabled,
				Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(7)},
			},
			{
				ID: aws.String("uploads"), Status: types.ExpirationStatusEnabled,
				Filter:                         &types.LifecycleRuleFilter{},
				AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)},
			},
			{
				ID: aws.String("date"), Status: types.ExpirationStatusDisabled,
				Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
					Prefix: aws.String("d/"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
					ObjectSizeGreaterThan: aws.Int64(1),
				}},
				Expiration: &types.LifecycleExpiration{Date: aws.Time(time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC))},
			},
		}},
	})
	if err != nil {
		t.Fatalf("aws PutBucketLifecycleConfiguration: %v", err)
	}
	out, err = e.aws.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lcrt")})
	if err != nil || len(out.Rules) != 3 {
		t.Fatalf("aws GetBucketLifecycleConfiguration: %v %+v", err, out)
	}
	r0, r1, r2 := out.Rules[0], out.Rules[1], out.Rules[2]
	if *r0.ID != "sdk" || *r0.Filter.Prefix != "tmp/" || *r0.Expiration.Days != 7 || r0.Status != types.ExpirationStatusEnabled ||
		*r1.AbortIncompleteMultipartUpload.DaysAfterInitiation != 2 ||
		r2.Status != types.ExpirationStatusDisabled || *r2.Filter.And.Prefix != "d/" || *r2.Filter.And.Tags[0].Value != "v" ||
		*r2.Filter.And.ObjectSizeGreaterThan != 1 || !r2.Expiration.Date.Equal(time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("aws rules back: %+v %+v %+v", r0, r1, r2)
	}

	// minio-go.
	cfg := lifecycle.NewConfiguration()
	cfg.Rules = []lifecycle.Rule{
		{ID: "m1", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "m/"}, Expiration: lifecycle.Expiration{Days: 10}},
		{
			ID: "m2", Status: "Enabled",
			RuleFilter: lifecycle.Filter{Tag: lifecycle.Tag{Key: "t", Value: "x"}},
			Expiration: lifecycle.Expiration{Days: 4},
		},
		{
			ID: "m3", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "u/"},
			AbortIncompleteMultipartUpload: lifecycle.AbortIncompleteMultipartUpload{DaysAfterInitiation: 3},
			NoncurrentVersionExpiration:    lifecycle.NoncurrentVersionExpiration{NoncurrentDays: 9},
		},
	}
	if err := e.minio.SetBucketLifecycle(ctx, "lcrt", cfg); err != nil {
		t.Fatalf("minio SetBucketLifecycle: %v", err)
	}
	got, err := e.minio.GetBucketLifecycle(ctx, "lcrt")
	if err != nil || len(got.Rules) != 3 {
		t.Fatalf("minio GetBucketLifecycle: %v %+v", err, got)
	}
	if got.Rules[0].RuleFilter.Prefix != "m/" || got.Rules[0].Expiration.Days != 10 ||
		got.Rules[1].RuleFilter.Tag.Key != "t" || got.Rules[2].AbortIncompleteMultipartUpload.DaysAfterInitiation != 3 ||
		got.Rules[2].NoncurrentVersionExpiration.NoncurrentDays != 9 {
		t.Fatalf("minio rules back: %+v", got.Rules)
	}

	// Delete.
	if err := e.minio.SetBucketLifecycle(ctx, "lcrt", lifecycle.NewConfiguration()); err != nil {
		t.Fatalf("minio delete: %v", err)
	}
	if r := e.raw(http.MethodGet, "/lcrt?lifecycle", nil, nil); r.code != "NoSuchLifecycleConfiguration" {
		t.Fatalf("GET after delete: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodDelete, "/lcrt?lifecycle", nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE without one: %d %s", r.status, r.code)
	}
}

func TestLifecycleConfigRefusals(t *testing.T) {
	e := newConfigEnv(t)
	e.mkBucket("lcbad")
	rule := func(inner string) string {
		return `<LifecycleConfiguration><Rule>` + inner + `</Rule></LifecycleConfiguration>`
	}
	const exp = `<Expiration><Days>1</Days></Expiration>`
	var many strings.Builder
	many.WriteString("<LifecycleConfiguration>")
	for i := range 1001 {
		many.WriteString(`<Rule><ID>r` + strconv.Itoa(i) + `</ID><Status>Enabled</Status>` + exp + `</Rule>`)
	}
	many.WriteString("</LifecycleConfiguration>")
	cases := []struct {
		name, body   string
		status       int
		code, msgArg string
	}{
		{"no rule", `<LifecycleConfiguration></LifecycleConfiguration>`, 400, "MalformedXML", ""},
		{"1001 rules", many.String(), 400, "MalformedXML", ""},
		{"bad status", rule(`<Status>On</Status>` + exp), 400, "MalformedXML", ""},
		{"no status", rule(exp), 400, "MalformedXML", ""},
		{"unknown element", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><Hours>2</Hours></Expiration>`), 400, "MalformedXML", ""},
		{"Filter and Prefix", rule(`<Prefix>a</Prefix><Filter><Prefix>b</Prefix></Filter><Status>Enabled</Status>` + exp), 400, "MalformedXML", ""},
		{"two filter predicates", rule(`<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status>` + exp), 400, "MalformedXML", ""},
		{"empty And", rule(`<Filter><And></And></Filter><Status>Enabled</Status>` + exp), 400, "MalformedXML", ""},
		{"Days and Date", rule(`<Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`), 400, "MalformedXML", ""},
		{"empty Expiration", rule(`<Status>Enabled</Status><Expiration></Expiration>`), 400, "MalformedXML", ""},
		{"Days not a number", rule(`<Status>Enabled</Status><Expiration><Days>ten</Days></Expiration>`), 400, "MalformedXML", ""},
		{"Days over 32 bits", rule(`<Status>Enabled</Status><Expiration><Days>2147483648</Days></Expiration>`), 400, "MalformedXML", ""},
		{"Date not a date", rule(`<Status>Enabled</Status><Expiration><Date>tomorrow</Date></Expiration>`), 400, "MalformedXML", ""},
		{"Days zero", rule(`<Status>Enabled</Status><Expiration><Days>0</Days></Expiration>`), 400, "InvalidArgument", "'Days' for Expiration action must be a positive integer"},
		{"Days negative", rule(`<Status>Enabled</Status><Expiration><Days>-3</Days></Expiration>`), 400, "InvalidArgument", "'Days' for Expiration action must be a positive integer"},
		{"Date not midnight", rule(`<Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>`), 400, "InvalidArgument", "'Date' must be at midnight GMT"},
		{"Date midnight elsewhere", rule(`<Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00+02:00</Date></Expiration>`), 400, "InvalidArgument", "'Date' must be at midnight GMT"},
		{"no action", rule(`<ID>x</ID><Status>Enabled</Status>`), 400, "InvalidRequest", "At least one action needs to be specified in a rule"},
		{"long ID", rule(`<ID>` + strings.Repeat("i", 256) + `</ID><Status>Enabled</Status>` + exp), 400, "InvalidArgument", "ID length should not exceed allowed limit of 255"},
		{"same ID", `<LifecycleConfiguration><Rule><ID>a</ID><Status>Enabled</Status>` + exp + `</Rule><Rule><ID>a</ID><Status>Disabled</Status>` + exp + `</Rule></LifecycleConfiguration>`,
			400, "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"},
		{"NoncurrentDays zero", rule(`<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>`),
			400, "InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
		{"DaysAfterInitiation zero", rule(`<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
			400, "InvalidArgument", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"},
		{"abort with a tag filter", rule(`<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
			400, "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."},
		{"long prefix", rule(`<Filter><Prefix>` + strings.Repeat("p", 1025) + `</Prefix></Filter><Status>Enabled</Status>` + exp), 400, "InvalidRequest", "The maximum size of a prefix is 1024"},
		{"reserved tag", rule(`<Filter><Tag><Key>aws:x</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status>` + exp), 400, "InvalidTag", ""},
		{"transition", rule(`<Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`), 501, "NotImplemented", "Transition"},
	}
	for _, c := range cases {
		r := e.raw(http.MethodPut, "/lcbad?lifecycle", []byte(c.body), xmlHeaders(c.body))
		if r.status != c.status || r.code != c.code || !strings.Contains(errMessage(r), c.msgArg) {
			t.Errorf("%s: %d %s %s, want %d %s %q", c.name, r.status, r.code, r.body, c.status, c.code, c.msgArg)
		}
	}
	if r := e.raw(http.MethodGet, "/lcbad?lifecycle", nil, nil); r.code != "NoSuchLifecycleConfiguration" {
		t.Fatalf("a refused configuration was stored: %d %s", r.status, r.code)
	}
	// 1000 rules are valid, but these do not fit the catalog's 64 KiB of
	// settings per bucket: refused, not cut.
	var big strings.Builder
	big.WriteString("<LifecycleConfiguration>")
	for i := range 1000 {
		big.WriteString(`<Rule><ID>rule-number-` + strconv.Itoa(i) + `</ID><Filter><Prefix>some/long/prefix/` + strconv.Itoa(i) + `/</Prefix></Filter><Status>Enabled</Status>` + exp + `</Rule>`)
	}
	big.WriteString("</LifecycleConfiguration>")
	if r := e.raw(http.MethodPut, "/lcbad?lifecycle", []byte(big.String()), xmlHeaders(big.String())); r.status != 400 || r.code != "InvalidRequest" ||
		!strings.Contains(errMessage(r), "65536 bytes") {
		t.Errorf("configuration too large to keep: %d %s %s", r.status, r.code, r.body)
	}
	ok := rule(`<Status>Enabled</Status>` + exp)
	if r := e.raw(http.MethodPut, "/lcbad?lifecycle", []byte(ok), nil); r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("no Content-MD5: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodPut, "/nosuch?lifecycle", []byte(ok), xmlHeaders(ok)); r.status != 404 || r.code != "NoSuchBucket" {
		t.Errorf("missing bucket: %d %s", r.status, r.code)
	}
}

// putAt stores key at the store time at, with the given tags (URL query
// form) and body.
func (e *configEnv) putAt(at time.Time, bucket, key, body, tagging string) {
	e.t.Helper()
	e.clock.Set(at)
	h := http.Header{}
	if tagging != "" {
		h.Set("X-Amz-Tagging", tagging)
	}
	if r := e.raw(http.MethodPut, "/"+bucket+"/"+key, []byte(body), h); r.status != http.StatusOK {
		e.t.Fatalf("PUT %s/%s: %d %s", bucket, key, r.status, r.code)
	}
}

func (e *configEnv) exists(bucket, key string) bool {
	e.t.Helper()
	_, err := e.store.HeadObject(context.Background(), bucket, key)
	if err != nil && !errors.Is(err, objectd.ErrNoSuchKey) {
		e.t.Fatal(err)
	}
	return err == nil
}

func TestApplyLifecycle(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("life")
	e.mkBucket("quiet") // only a disabled rule
	day := 24 * time.Hour
	t0 := time.Now().UTC()
	later := t0.Add(40 * day)
	now := later.Add(time.Hour)

	// Old objects (t0) and new ones (40 days later).
	for _, o := range []struct{ key, body, tags string }{
		{"logs/old", "x", ""},
		{"keep/old", "x", ""},
		{"tagged/match", "x", "expire=yes&other=1"},
		{"tagged/nomatch", "x", "expire=no"},
		{"tagged/untagged", "x", ""},
		{"size/small", "12345", ""},
		{"size/big", strings.Repeat("b", 50), ""},
		{"disabled/old", "x", ""},
	} {
		e.putAt(t0, "life", o.key, o.body, o.tags)
	}
	e.putAt(t0, "quiet", "logs/old", "x", "")
	cr := func(key string) string {
		out, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("life"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.UploadId
	}
	oldUpload, otherUpload := cr("up/old"), cr("elsewhere/old")
	e.clock.Set(later)
	e.putAt(later, "life", "logs/new", "x", "")
	e.putAt(later, "life", "date/past", "x", "")
	e.putAt(later, "life", "date2/future", "x", "")
	newUpload := cr("up/new")

	midnight := func(t time.Time) string { return t.Truncate(day).Format(time.RFC3339) }
	doc := `<LifecycleConfiguration>` +
		`<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>` +
		`<Rule><ID>tag</ID><Filter><Tag><Key>expire</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>` +
		`<Rule><ID>big</ID><Filter><And><Prefix>size/</Prefix><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>35</Days></Expiration></Rule>` +
		`<Rule><ID>off</ID><Filter><Prefix>disabled/</Prefix></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>` +
		`<Rule><ID>past</ID><Filter><Prefix>date/</Prefix></Filter><Status>Enabled</Status><Expiration><Date>` + midnight(now) + `</Date></Expiration></Rule>` +
		`<Rule><ID>future</ID><Filter><Prefix>date2/</Prefix></Filter><Status>Enabled</Status><Expiration><Date>` + midnight(now.Add(2*day)) + `</Date></Expiration></Rule>` +
		`<Rule><ID>uploads</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>` +
		`<Rule><ID>versions</ID><Filter></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>` +
		`</LifecycleConfiguration>`
	if r := e.raw(http.MethodPut, "/life?lifecycle", []byte(doc), xmlHeaders(doc)); r.status != http.StatusOK {
		t.Fatalf("PUT lifecycle: %d %s %s", r.status, r.code, r.body)
	}
	quiet := `<LifecycleConfiguration><Rule><Filter></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`
	if r := e.raw(http.MethodPut, "/quiet?lifecycle", []byte(quiet), xmlHeaders(quiet)); r.status != http.StatusOK {
		t.Fatalf("PUT lifecycle: %d %s %s", r.status, r.code, r.body)
	}

	// 29 days on, no object is due yet; the old upload (7 days) is.
	rep, err := e.lifecycle.ApplyLifecycle(ctx, t0.Add(29*day))
	if err != nil || rep.Expired != 0 || rep.Aborted != 1 || rep.Buckets != 1 {
		t.Fatalf("early pass: %+v, %v", rep, err)
	}

	rep, err = e.lifecycle.ApplyLifecycle(ctx, now)
	if err != nil {
		t.Fatalf("ApplyLifecycle: %v", err)
	}
	want := map[string]bool{
		"logs/old": false, "logs/new": true, "keep/old": true,
		"tagged/match": false, "tagged/nomatch": true, "tagged/untagged": true,
		"size/small": true, "size/big": false, "disabled/old": true,
		"date/past": false, "date2/future": true,
	}
	for key, keep := range want {
		if got := e.exists("life", key); got != keep {
			t.Errorf("%s: exists %v, want %v", key, got, keep)
		}
	}
	if !e.exists("quiet", "logs/old") {
		t.Error("a disabled rule deleted an object")
	}
	if rep.Buckets != 1 || rep.Expired != 4 || rep.Aborted != 0 || rep.Scanned != len(want) {
		t.Errorf("report %+v, want 1 bucket, %d scanned, 4 expired, 0 aborted", rep, len(want))
	}
	uploads, err := e.store.ListMultipartUploads(ctx, "life", objectd.ListUploadsOptions{MaxUploads: 100})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, u := range uploads.Uploads {
		left[u.UploadID] = true
	}
	if left[oldUpload] || !left[newUpload] || !left[otherUpload] {
		t.Errorf("uploads left %v: old %v new %v other %v", left, left[oldUpload], left[newUpload], left[otherUpload])
	}

	// A second pass finds nothing more to do.
	rep, err = e.lifecycle.ApplyLifecycle(ctx, now)
	if err != nil || rep.Expired != 0 || rep.Aborted != 0 {
		t.Fatalf("second pass: %+v, %v", rep, err)
	}
	// A cancelled pass says so.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.lifecycle.ApplyLifecycle(cctx, now); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pass: %v", err)
	}
}

// TestApplyLifecyclePages: a bucket of more than a listing page is done
// page by page, every object once.
func TestApplyLifecyclePages(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("pages")
	t0 := time.Now().UTC()
	const n = 1003 // a page and a bit
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				key := "p/" + strconv.Itoa(i)
				if _, err := e.store.PutObject(ctx, "pages", key, bytes.NewReader([]byte("x")), 1, objectPutOptions()); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.putAt(t0, "pages", "q/kept", "x", "")
	doc := `<LifecycleConfiguration><Rule><ID>p</ID><Filter><Prefix>p/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>` +
		`<Rule><ID>p2</ID><Filter><Prefix>p/1</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`
	if r := e.raw(http.MethodPut, "/pages?lifecycle", []byte(doc), xmlHeaders(doc)); r.status != http.StatusOK {
		t.Fatalf("PUT lifecycle: %d %s %s", r.status, r.code, r.body)
	}
	rep, err := e.lifecycle.ApplyLifecycle(ctx, t0.Add(4*24*time.Hour))
	if err != nil || rep.Scanned != n || rep.Expired != n {
		t.Fatalf("pass: %+v, %v; want %d scanned and expired", rep, err, n)
	}
	res, err := e.store.ListObjects(ctx, "pages", objectd.ListOptions{MaxKeys: 10})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Key != "q/kept" {
		t.Fatalf("left: %+v, %v", res.Objects, err)
	}
}

// TestApplyLifecycleVersions: in a versioned bucket, noncurrent versions
// go NoncurrentDays after they became noncurrent (the newest ones kept as
// NewerNoncurrentVersions says), a delete marker left alone goes with
// ExpiredObjectDeleteMarker, and a legal hold keeps a version.
func TestApplyLifecycleVersions(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("hist")
	if err := e.minio.EnableVersioning(ctx, "hist"); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	t0 := time.Now().UTC()
	for i := 0; i < 4; i++ { // v0 .. v3, a day apart; v3 current
		e.putAt(t0.Add(time.Duration(i)*day), "hist", "logs/a", fmt.Sprintf("v%d", i), "")
	}
	e.clock.Set(t0.Add(4 * day))
	e.putAt(t0.Add(4*day), "hist", "tmp/gone", "x", "")
	if _, err := e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("hist"), Key: aws.String("tmp/gone")}); err != nil {
		t.Fatal(err)
	}
	lv, _ := e.aws.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("hist"), Prefix: aws.String("tmp/")})
	for _, v := range lv.Versions { // leave only the marker
		if _, err := e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("hist"), Key: v.Key, VersionId: v.VersionId}); err != nil {
			t.Fatal(err)
		}
	}
	doc := `<LifecycleConfiguration>` +
		`<Rule><ID>old</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>` +
		`<Rule><ID>markers</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>` +
		`</LifecycleConfiguration>`
	if r := e.raw(http.MethodPut, "/hist?lifecycle", []byte(doc), xmlHeaders(doc)); r.status != http.StatusOK {
		t.Fatalf("PUT lifecycle: %d %s %s", r.status, r.code, r.body)
	}
	// At t0+5d, v2 has been noncurrent for 2 days (since v3), v1 for 3,
	// v0 for 4: v2 is kept as the newest noncurrent one, v1 and v0 go, and
	// so does the lone marker.
	rep, err := e.lifecycle.ApplyLifecycle(ctx, t0.Add(5*day))
	if err != nil {
		t.Fatal(err)
	}
	lv, err = e.aws.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("hist")})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, v := range lv.Versions {
		left = append(left, aws.ToString(v.Key))
	}
	if len(lv.Versions) != 2 || len(lv.DeleteMarkers) != 0 || rep.Expired != 3 {
		t.Fatalf("after the pass: versions %v, markers %d, report %+v", left, len(lv.DeleteMarkers), rep)
	}
	for _, want := range []string{"v3", "v2"} {
		found := false
		for _, v := range lv.Versions {
			o, err := e.minio.GetObject(ctx, "hist", "logs/a", minio.GetObjectOptions{VersionID: aws.ToString(v.VersionId)})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(o)
			o.Close()
			found = found || string(b) == want
		}
		if !found {
			t.Fatalf("version %s did not survive", want)
		}
	}
}
