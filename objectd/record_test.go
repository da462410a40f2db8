package objectd

import (
	"reflect"
	"testing"
)

func TestRecordRoundTripAndSummary(t *testing.T) {
	r := &record{
		ModTime: 1700000000123456789, VersionID: "0123abcd", Size: 12345, ETag: "d41d8cd98f00b204e9800998ecf8427e-3",
		ContentType: "text/plain", Headers: map[string]string{"Cache-Control": "no-cache"},
		UserMeta: map[string]string{"a": "1", "b": "2"}, Checksum: Checksum{"CRC32C", "AAAAAA==", "FULL_OBJECT"},
		Multipart: true, K: 4, M: 2, BlockSize: 1 << 20, ShardIndex: 5,
		Parts:        []partRecord{{Number: 1, Size: 5 << 20, ETag: "aa", DataID: "d1", ModTime: 3}, {Number: 2, Size: 7, ETag: "bb", DataID: "d2", Inline: true}},
		DeleteMarker: true, Label: "label-1", Shown: 1700000000000000001,
	}
	b := r.marshal()
	back, err := unmarshalRecord(b)
	if err != nil || !reflect.DeepEqual(r, back) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, r, back)
	}
	sm, ok := peekSummary(b)
	if !ok || sm.ModTime != r.ModTime || string(sm.VersionID) != r.VersionID || sm.Size != r.Size || string(sm.ETag) != r.ETag || sm.K != 4 || !sm.DeleteMarker || sm.Shown != r.Shown {
		t.Fatalf("summary %+v", sm)
	}
	// Every truncation is refused, never a panic or a wrong record.
	for i := 0; i < len(b); i++ {
		if _, err := unmarshalRecord(b[:i]); err == nil {
			t.Fatalf("truncated at %d decoded", i)
		}
		peekSummary(b[:i])
	}
}

func FuzzRecord(f *testing.F) {
	f.Add((&record{VersionID: "v", K: 2, M: 2, Parts: []partRecord{{Number: 1}}}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		unmarshalRecord(b)
		peekSummary(b)
	})
}

// TestRecordVersion1 decodes the first encoding (no flags, no label): such
// records were written by unversioned buckets, so they are null versions.
func TestRecordVersion1(t *testing.T) {
	r := &record{ModTime: 5, VersionID: "v1", Size: 3, ETag: "e", K: 2, M: 2, Parts: []partRecord{{Number: 1, DataID: "d"}}}
	b := r.marshal()
	// Rewrite as version 1: drop the flags byte and the (empty) label.
	v1 := append([]byte{recordVersion1}, b[2:len(b)-2]...) // flags byte; empty label and zero shown time
	back, err := unmarshalRecord(v1)
	if err != nil || !back.Null || back.DeleteMarker || back.VersionID != "v1" || back.versionID() != NullVersionID {
		t.Fatalf("version 1 record: %+v %v", back, err)
	}
	if sm, ok := peekSummary(v1); !ok || string(sm.VersionID) != "v1" || sm.DeleteMarker {
		t.Fatalf("version 1 summary %+v", sm)
	}
}
