package s3

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Lifecycle configuration: a bucket's "lifecycle" setting holds its rules
// as they were given (with an ID made up for a rule that had none, as S3
// does), so that GetBucketLifecycleConfiguration gives back what
// PutBucketLifecycleConfiguration stored. ApplyLifecycle (lifecycle_apply.go)
// carries out the expiration and abort actions of the enabled rules; the
// versioning actions (NoncurrentVersionExpiration, ExpiredObjectDeleteMarker)
// are kept and not yet applied. Transitions are refused: every object is
// kept in the one storage class.

const (
	maxLifecycleRules  = 1000
	maxLifecycleRuleID = 255
	maxLifecyclePrefix = 1024 // bytes
	maxNewerNoncurrent = 100
	// maxLifecycleXMLBody bounds the document (1000 rules); what is kept
	// must also fit the catalog's 64 KiB of settings per bucket.
	maxLifecycleXMLBody = 1 << 20
)

// lifecycleConfig is a LifecycleConfiguration, in XML and in the catalog.
// Optional elements are pointers, so that what was given, even empty,
// comes back.
type lifecycleConfig struct {
	XMLName xml.Name        `xml:"LifecycleConfiguration" json:"-"`
	Xmlns   string          `xml:"xmlns,attr,omitempty" json:"-"`
	Rules   []lifecycleRule `xml:"Rule" json:"rules"`
}

type lifecycleRule struct {
	ID                             *string               `xml:"ID" json:"id,omitempty"`
	Filter                         *lifecycleFilter      `xml:"Filter" json:"filter,omitempty"`
	Prefix                         *string               `xml:"Prefix" json:"prefix,omitempty"` // the legacy form of a prefix filter
	Status                         string                `xml:"Status" json:"status"`
	Expiration                     *lifecycleExpiration  `xml:"Expiration" json:"expiration,omitempty"`
	NoncurrentVersionExpiration    *noncurrentExpiration `xml:"NoncurrentVersionExpiration" json:"noncurrent,omitempty"`
	AbortIncompleteMultipartUpload *abortIncomplete      `xml:"AbortIncompleteMultipartUpload" json:"abort,omitempty"`
	// Transitions are read only to be refused.
	Transitions           []struct{} `xml:"Transition" json:"-"`
	NoncurrentTransitions []struct{} `xml:"NoncurrentVersionTransition" json:"-"`
}

type lifecycleFilter struct {
	Prefix                *string       `xml:"Prefix" json:"prefix,omitempty"`
	Tag                   *tag          `xml:"Tag" json:"tag,omitempty"`
	ObjectSizeGreaterThan *int64        `xml:"ObjectSizeGreaterThan" json:"gt,omitempty"`
	ObjectSizeLessThan    *int64        `xml:"ObjectSizeLessThan" json:"lt,omitempty"`
	And                   *lifecycleAnd `xml:"And" json:"and,omitempty"`
}

type lifecycleAnd struct {
	Prefix                *string `xml:"Prefix" json:"prefix,omitempty"`
	Tags                  []tag   `xml:"Tag" json:"tags,omitempty"`
	ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan" json:"gt,omitempty"`
	ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan" json:"lt,omitempty"`
}

type lifecycleExpiration struct {
	Date                      *string `xml:"Date" json:"date,omitempty"`
	Days                      *int32  `xml:"Days" json:"days,omitempty"`
	ExpiredObjectDeleteMarker *bool   `xml:"ExpiredObjectDeleteMarker" json:"eodm,omitempty"`
}

type noncurrentExpiration struct {
	NoncurrentDays          *int32 `xml:"NoncurrentDays" json:"days,omitempty"`
	NewerNoncurrentVersions *int32 `xml:"NewerNoncurrentVersions" json:"newer,omitempty"`
}

type abortIncomplete struct {
	DaysAfterInitiation *int32 `xml:"DaysAfterInitiation" json:"days,omitempty"`
}

var lifecycleShape = xmlShape{
	"LifecycleConfiguration": {"Rule": true},
	"LifecycleConfiguration/Rule": {
		"ID": false, "Filter": false, "Prefix": false, "Status": false, "Expiration": false,
		"NoncurrentVersionExpiration": false, "AbortIncompleteMultipartUpload": false,
		"Transition": true, "NoncurrentVersionTransition": true,
	},
	"LifecycleConfiguration/Rule/Filter": {
		"Prefix": false, "Tag": false, "ObjectSizeGreaterThan": false, "ObjectSizeLessThan": false, "And": false,
	},
	"LifecycleConfiguration/Rule/Filter/Tag": {"Key": false, "Value": false},
	"LifecycleConfiguration/Rule/Filter/And": {
		"Prefix": false, "Tag": true, "ObjectSizeGreaterThan": false, "ObjectSizeLessThan": false,
	},
	"LifecycleConfiguration/Rule/Filter/And/Tag": {"Key": false, "Value": false},
	"LifecycleConfiguration/Rule/Expiration":     {"Date": false, "Days": false, "ExpiredObjectDeleteMarker": false},
	"LifecycleConfiguration/Rule/NoncurrentVersionExpiration": {
		"NoncurrentDays": false, "NewerNoncurrentVersions": false,
	},
	"LifecycleConfiguration/Rule/AbortIncompleteMultipartUpload": {"DaysAfterInitiation": false},
	"LifecycleConfiguration/Rule/Transition":                     {"Date": false, "Days": false, "StorageClass": false},
	"LifecycleConfiguration/Rule/NoncurrentVersionTransition": {
		"NoncurrentDays": false, "NewerNoncurrentVersions": false, "StorageClass": false,
	},
}

// invalidArgument is an InvalidArgument error with the given message.
func invalidArgument(msg string) *APIError { return ErrInvalidArgument.withMessage(msg) }

// parseLifecycle decodes and checks a LifecycleConfiguration, giving an
// ID to each rule that has none.
func parseLifecycle(data []byte) (lifecycleConfig, error) {
	var cfg lifecycleConfig
	if !checkShape(data, "LifecycleConfiguration", lifecycleShape) {
		return cfg, ErrMalformedXML
	}
	if err := xml.Unmarshal(data, &cfg); err != nil {
		return cfg, ErrMalformedXML
	}
	if len(cfg.Rules) == 0 || len(cfg.Rules) > maxLifecycleRules {
		return cfg, ErrMalformedXML
	}
	ids := make(map[string]bool, len(cfg.Rules))
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		if err := r.check(); err != nil {
			return cfg, err
		}
		if r.ID == nil || *r.ID == "" {
			id := newRuleID()
			r.ID = &id
		}
		if ids[*r.ID] {
			return cfg, invalidArgument("Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[*r.ID] = true
	}
	return cfg, nil
}

// newRuleID makes up a rule ID, as S3 does for a rule given without one.
func newRuleID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// check validates one rule with S3's codes and messages.
func (r *lifecycleRule) check() error {
	if r.Status != "Enabled" && r.Status != "Disabled" {
		return ErrMalformedXML
	}
	if r.ID != nil && utf8.RuneCountInString(*r.ID) > maxLifecycleRuleID {
		return invalidArgument("ID length should not exceed allowed limit of 255")
	}
	if r.Filter != nil && r.Prefix != nil {
		return ErrMalformedXML
	}
	if r.Prefix != nil {
		if err := checkLifecyclePrefix(*r.Prefix); err != nil {
			return err
		}
	}
	if r.Filter != nil {
		if err := r.Filter.check(); err != nil {
			return err
		}
	}
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil &&
		len(r.Transitions) == 0 && len(r.NoncurrentTransitions) == 0 {
		return ErrNoLifecycleAction
	}
	if len(r.Transitions) > 0 || len(r.NoncurrentTransitions) > 0 {
		return ErrTransitionNotSupported
	}
	_, tags, _, _ := r.filter()
	if e := r.Expiration; e != nil {
		n := 0
		for _, set := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return ErrMalformedXML
		}
		if e.Days != nil && *e.Days <= 0 {
			return invalidArgument("'Days' for Expiration action must be a positive integer")
		}
		if e.Date != nil {
			t, err := parseLifecycleDate(*e.Date)
			if err != nil {
				return ErrMalformedXML
			}
			if !t.Equal(t.Truncate(24 * time.Hour)) {
				return invalidArgument("'Date' must be at midnight GMT")
			}
		}
		if e.ExpiredObjectDeleteMarker != nil && len(tags) > 0 {
			return ErrInvalidRequest.withMessage("ExpiredObjectDeleteMarker cannot be specified with tags.")
		}
	}
	if nc := r.NoncurrentVersionExpiration; nc != nil {
		if nc.NoncurrentDays == nil {
			return ErrMalformedXML
		}
		if *nc.NoncurrentDays <= 0 {
			return invalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
		}
		if v := nc.NewerNoncurrentVersions; v != nil && (*v <= 0 || *v > maxNewerNoncurrent) {
			return invalidArgument("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100")
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation == nil {
			return ErrMalformedXML
		}
		if *a.DaysAfterInitiation <= 0 {
			return invalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		}
		if len(tags) > 0 {
			return ErrInvalidRequest.withMessage("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	return nil
}

// check validates a Filter: exactly one of its predicates (an empty
// Filter is every object), And with at least one.
func (f *lifecycleFilter) check() error {
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return ErrMalformedXML
	}
	prefix, gt, lt := f.Prefix, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
	var tags []tag
	if f.Tag != nil {
		tags = []tag{*f.Tag}
	}
	if a := f.And; a != nil {
		if a.Prefix == nil && len(a.Tags) == 0 && a.ObjectSizeGreaterThan == nil && a.ObjectSizeLessThan == nil {
			return ErrMalformedXML
		}
		prefix, tags, gt, lt = a.Prefix, a.Tags, a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
	}
	if prefix != nil {
		if err := checkLifecyclePrefix(*prefix); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if err := checkTag(t); err != nil {
			return err
		}
		if seen[t.Key] {
			return ErrInvalidRequest.withMessage("Duplicate Tag Keys are not allowed.")
		}
		seen[t.Key] = true
	}
	if (gt != nil && *gt < 0) || (lt != nil && *lt <= 0) {
		return invalidArgument("Object size filters must be positive.")
	}
	if gt != nil && lt != nil && *gt >= *lt {
		return invalidArgument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan.")
	}
	return nil
}

func checkLifecyclePrefix(p string) error {
	if len(p) > maxLifecyclePrefix {
		return ErrInvalidRequest.withMessage("The maximum size of a prefix is 1024")
	}
	return nil
}

// parseLifecycleDate reads an Expiration Date (ISO 8601 with a time and a
// zone, as S3 takes it).
func parseLifecycleDate(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
}

// filter is the rule's filter reduced to its parts: a key prefix, tags
// the object must all have, and the bounds on its size (nil: none).
func (r *lifecycleRule) filter() (prefix string, tags []tag, gt, lt *int64) {
	if r.Prefix != nil {
		return *r.Prefix, nil, nil, nil
	}
	f := r.Filter
	if f == nil {
		return "", nil, nil, nil
	}
	if a := f.And; a != nil {
		if a.Prefix != nil {
			prefix = *a.Prefix
		}
		return prefix, a.Tags, a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
	}
	if f.Prefix != nil {
		prefix = *f.Prefix
	}
	if f.Tag != nil {
		tags = []tag{*f.Tag}
	}
	return prefix, tags, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
}

func (q *request) getBucketLifecycle() error {
	var cfg lifecycleConfig
	ok, err := q.setting(settingLifecycle, &cfg)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoSuchLifecycle
	}
	cfg.Xmlns = s3Namespace
	q.writeXML(http.StatusOK, cfg)
	return nil
}

func (q *request) putBucketLifecycle() error {
	if err := q.canStoreSettings(); err != nil {
		return err
	}
	if err := q.requireBodyChecksum(); err != nil {
		return err
	}
	data, err := q.readSmallBody(maxLifecycleXMLBody)
	if err != nil {
		return err
	}
	cfg, err := parseLifecycle(data)
	if err != nil {
		return err
	}
	return q.storeSetting(settingLifecycle, cfg, http.StatusOK)
}
