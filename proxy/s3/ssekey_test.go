package s3

import (
	"bytes"
	"encoding/base64"
	"maps"
	"testing"
)

// A data key is sealed to its object's bucket and key: stored headers
// moved to another object do not open there. Objects stored before keys
// were bound (no sseBound) open as they did.
func TestDataKeyIsSealedToItsObject(t *testing.T) {
	s := &Server{masterKey: bytes.Repeat([]byte{7}, MasterKeySize)}
	customer := &customerKey{key: bytes.Repeat([]byte{9}, 32), md5: "md5"}
	for _, w := range []sseWrite{{kind: kindS3}, {kind: kindC, customer: customer}} {
		headers := map[string]string{}
		if _, err := s.newObjectKey(w, headers, "bkt", "k1"); err != nil {
			t.Fatal(err)
		}
		var c *customerKey
		if w.kind == kindC {
			c = customer
		}
		if _, err := s.openObjectKey(headers, c, "bkt", "k1"); err != nil {
			t.Fatalf("%s: own object: %v", w.kind, err)
		}
		for _, other := range [][2]string{{"bkt", "k2"}, {"bkt2", "k1"}, {"bkt\x00k", "1"}} {
			if _, err := s.openObjectKey(headers, c, other[0], other[1]); err != errSSECorrupt {
				t.Errorf("%s: key of bkt/k1 opened for %q/%q: %v", w.kind, other[0], other[1], err)
			}
		}
		// Stored before binding: sealed to the label alone, no marker.
		legacy := maps.Clone(headers)
		delete(legacy, sseBound)
		kek := s.masterKey
		if c != nil {
			kek = c.key
		}
		dataKey := bytes.Repeat([]byte{3}, 32)
		wrapped, err := wrapKey(kek, dataKey, keyAAD(false, "", ""))
		if err != nil {
			t.Fatal(err)
		}
		legacy[sseWrapped] = base64.StdEncoding.EncodeToString(wrapped)
		if _, err := s.openObjectKey(legacy, c, "any", "name"); err != nil {
			t.Errorf("%s: key stored before binding: %v", w.kind, err)
		}
	}
}
