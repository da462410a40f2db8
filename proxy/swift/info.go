package swift

import (
	"encoding/json"
	"net/http"
)

// Version is the Swift API version this package reports at /info.
const Version = "2.35.0-basalt"

// info answers GET /info: the features and the limits enforced.
func (q *request) info() error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return q.notAllowed("GET, HEAD")
	}
	doc := map[string]any{
		"swift": map[string]any{
			"version":                   Version,
			"max_file_size":             q.s.lim.maxObjectSize,
			"max_meta_name_length":      MaxMetaNameLength,
			"max_meta_value_length":     MaxMetaValueLength,
			"max_meta_count":            MaxMetaCount,
			"max_meta_overall_size":     MaxMetaOverallSize,
			"max_object_name_length":    MaxObjectNameLength,
			"max_container_name_length": MaxContainerNameLength,
			"max_account_name_length":   256,
			"container_listing_limit":   ListingLimit,
			"account_listing_limit":     ListingLimit,
			"account_autocreate":        false,
			"allow_account_management":  false,
			"valid_api_versions":        []string{"v1", "v1.0"},
			"strict_cors_mode":          true,
			"policies":                  []map[string]any{{"name": "default", "aliases": "default", "default": true}},
		},
		"slo": map[string]any{
			"max_manifest_segments": q.s.lim.maxSegments,
			"max_manifest_size":     q.s.lim.maxManifestSize,
			"min_segment_size":      1,
			"yield_frequency":       10,
			"allow_async_delete":    false,
		},
		"dlo": map[string]any{},
		"tempurl": map[string]any{
			"methods":                 tempURLMethods,
			"allowed_digests":         tempURLDigests,
			"incoming_remove_headers": []string{"x-timestamp"},
			"incoming_allow_headers":  []string{},
			"outgoing_remove_headers": []string{"x-object-meta-*"},
			"outgoing_allow_headers":  []string{"x-object-meta-public-*"},
		},
		"bulk_delete": map[string]any{
			"max_deletes_per_request": q.s.lim.maxDeletes,
			"max_failed_deletes":      MaxFailedDeletes,
		},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	q.sendBody(http.StatusOK, "application/json; charset=UTF-8", data)
	return nil
}
