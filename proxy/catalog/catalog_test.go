package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/ring/raftmap"
)

func TestLocalCatalogBootstrapsOnceAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := catalog.OpenLocal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := c.TokenKey()
	if len(key) != 32 {
		t.Fatalf("token key of %d bytes", len(key))
	}
	if _, ok := c.View().Domain(raftmap.DefaultDomain); !ok {
		t.Fatal("no default domain after bootstrap")
	}
	if err := c.Propose(ctx, raftmap.PutProject{Project: raftmap.Project{ID: "p1", Name: "alpha", Domain: raftmap.DefaultDomain}}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket(ctx, "photos", "p1"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket(ctx, "photos", "p1"); !errors.Is(err, raftmap.ErrBucketExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := c.SetBucketMeta(ctx, "photos", map[string]string{"x-container-read": ".r:*"}, nil); err != nil {
		t.Fatal(err)
	}
	type cors struct{ Origins []string }
	if err := c.SetBucketSetting(ctx, "photos", "cors", cors{Origins: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	var got cors
	if ok, err := catalog.BucketSetting(c.View(), "photos", "cors", &got); !ok || err != nil || len(got.Origins) != 1 {
		t.Fatalf("setting = %+v, %v, %v", got, ok, err)
	}
	if err := c.SetBucketSetting(ctx, "photos", "cors", nil); err != nil {
		t.Fatal(err)
	}
	if ok, _ := catalog.BucketSetting(c.View(), "photos", "cors", &got); ok {
		t.Fatal("a removed setting is still there")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = catalog.OpenLocal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.TokenKey(); string(got) != string(key) {
		t.Fatal("the token key changed across a restart")
	}
	b, ok := c.View().Bucket("photos")
	if !ok || b.Owner != "p1" || b.Meta["x-container-read"] != ".r:*" {
		t.Fatalf("bucket after restart = %+v, %v", b, ok)
	}
	if got := len(c.View().Domains()); got != 1 {
		t.Fatalf("%d domains after a second bootstrap", got)
	}
}
