package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
)

// Object lock: a bucket created with x-amz-bucket-object-lock-enabled (or
// a versioned bucket given a configuration) keeps its versions from being
// deleted while a retention period or a legal hold protects them. The
// bucket's configuration is the catalog setting "objectLock"; a version's
// retention and legal hold are stored with it, under the headers S3 uses
// for them. Locks refuse deletes by version id; a delete without one
// makes a delete marker, as in AWS.

const objectLockSetting = "objectLock"

// Headers of a version's lock.
const (
	hdrLockMode   = "X-Amz-Object-Lock-Mode"
	hdrLockUntil  = "X-Amz-Object-Lock-Retain-Until-Date"
	hdrLegalHold  = "X-Amz-Object-Lock-Legal-Hold"
	hdrBypass     = "X-Amz-Bypass-Governance-Retention"
	modeGovern    = "GOVERNANCE"
	modeComply    = "COMPLIANCE"
	lockTimeSaved = time.RFC3339
)

var (
	errLocked        = ErrAccessDenied.withMessage("Access Denied because object protected by object lock.")
	errNoLockConfig  = ErrInvalidRequest.withMessage("Bucket is missing Object Lock Configuration")
	errNoRetention   = &APIError{"NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration"}
	errLockState     = &APIError{"InvalidBucketState", http.StatusConflict, "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."}
	errLockNeedsVers = &APIError{"InvalidBucketState", http.StatusConflict, "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"}
)

type defaultRetention struct {
	Mode  string `xml:"Mode" json:"mode"`
	Days  int    `xml:"Days,omitempty" json:"days,omitempty"`
	Years int    `xml:"Years,omitempty" json:"years,omitempty"`
}

type objectLockConfig struct {
	XMLName           xml.Name `xml:"ObjectLockConfiguration" json:"-"`
	Xmlns             string   `xml:"xmlns,attr,omitempty" json:"-"`
	ObjectLockEnabled string   `xml:"ObjectLockEnabled,omitempty" json:"enabled"`
	Rule              *struct {
		DefaultRetention *defaultRetention `xml:"DefaultRetention" json:"default,omitempty"`
	} `xml:"Rule,omitempty" json:"rule,omitempty"`
}

type retentionDoc struct {
	XMLName         xml.Name `xml:"Retention"`
	Xmlns           string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

type legalHoldDoc struct {
	XMLName xml.Name `xml:"LegalHold"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

// lockConfig returns a bucket's object lock configuration, if enabled.
func (s *Server) lockConfig(bucket string) (objectLockConfig, bool) {
	var cfg objectLockConfig
	if s.catalog == nil {
		return cfg, false
	}
	ok, err := catalog.BucketSetting(s.catalog.View(), bucket, objectLockSetting, &cfg)
	return cfg, ok && err == nil && cfg.ObjectLockEnabled == "Enabled"
}

// enableObjectLock is CreateBucket's part with
// x-amz-bucket-object-lock-enabled: true.
func (q *request) enableObjectLock() error {
	if q.s.catalog == nil {
		return ErrObjectLockNotImplemented
	}
	if err := q.setBucketSetting(versioningSetting, "Enabled"); err != nil {
		return err
	}
	return q.setBucketSetting(objectLockSetting, objectLockConfig{ObjectLockEnabled: "Enabled"})
}

func (q *request) getObjectLockConfig() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	cfg, ok := q.s.lockConfig(q.target.Bucket)
	if !ok {
		return ErrNoSuchObjectLock
	}
	cfg.Xmlns = s3Namespace
	q.writeXML(http.StatusOK, cfg)
	return nil
}

func (q *request) putObjectLockConfig() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	if q.s.catalog == nil {
		return ErrObjectLockNotImplemented
	}
	var cfg objectLockConfig
	if _, _, err := q.readXMLBody(maxSmallXMLBody, &cfg); err != nil {
		return err
	}
	if cfg.ObjectLockEnabled != "Enabled" {
		return ErrMalformedXML
	}
	if cfg.Rule != nil {
		r := cfg.Rule.DefaultRetention
		switch {
		case r == nil:
			return ErrMalformedXML
		case r.Mode != modeGovern && r.Mode != modeComply:
			return ErrMalformedXML
		case (r.Days > 0) == (r.Years > 0) || r.Days < 0 || r.Years < 0:
			return ErrMalformedXML.withMessage("The XML you provided was not well-formed or did not validate against our published schema: a default retention has either Days or Years, positive.")
		}
	}
	if _, ok := q.s.lockConfig(q.target.Bucket); !ok && q.versioning() != objectd.VersioningEnabled {
		return errLockNeedsVers
	}
	if err := q.setBucketSetting(objectLockSetting, cfg); err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

// applyObjectLock sets the lock of a version being written: from the
// request's headers, else the bucket's default retention. Lock settings
// of a copy's source are not carried over.
func (q *request) applyObjectLock(h http.Header, opts *objectd.PutOptions) error {
	for _, k := range []string{hdrLockMode, hdrLockUntil, hdrLegalHold} {
		delete(opts.Headers, k)
	}
	mode, until, hold := h.Get(hdrLockMode), h.Get(hdrLockUntil), h.Get(hdrLegalHold)
	cfg, enabled := q.s.lockConfig(q.target.Bucket)
	if !enabled {
		if mode != "" || until != "" || hold != "" {
			return errNoLockConfig
		}
		return nil
	}
	set := map[string]string{}
	switch {
	case mode != "" || until != "":
		if mode == "" || until == "" {
			return ErrInvalidArgument.withMessage("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
		}
		if mode != modeGovern && mode != modeComply {
			return ErrInvalidArgument.withMessage("Unknown wormMode directive.")
		}
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			return ErrInvalidArgument.withMessage("The retain until date must be provided in ISO 8601 format")
		}
		if !t.After(q.s.now()) {
			return ErrInvalidArgument.withMessage("The retain until date must be in the future!")
		}
		set[hdrLockMode], set[hdrLockUntil] = mode, t.UTC().Format(lockTimeSaved)
	case cfg.Rule != nil && cfg.Rule.DefaultRetention != nil:
		r := cfg.Rule.DefaultRetention
		t := q.s.now().UTC().AddDate(r.Years, 0, r.Days)
		set[hdrLockMode], set[hdrLockUntil] = r.Mode, t.Format(lockTimeSaved)
	}
	switch strings.ToUpper(hold) {
	case "":
	case "ON", "OFF":
		set[hdrLegalHold] = strings.ToUpper(hold)
	default:
		return ErrInvalidArgument.withMessage("Legal Hold must be either of 'ON' or 'OFF'")
	}
	if len(set) > 0 && opts.Headers == nil {
		opts.Headers = map[string]string{}
	}
	for k, v := range set {
		opts.Headers[k] = v
	}
	return nil
}

// lockRefuses says why the lock of version v refuses its deletion now,
// or nil.
func (q *request) lockRefuses(v *objectd.ObjectInfo) error {
	if v == nil {
		return nil
	}
	if v.Headers[hdrLegalHold] == "ON" {
		return errLocked
	}
	until, err := time.Parse(time.RFC3339, v.Headers[hdrLockUntil])
	if err != nil || !until.After(q.s.now()) {
		return nil
	}
	if v.Headers[hdrLockMode] == modeGovern && q.bypassGovernance() {
		return nil
	}
	return errLocked
}

// bypassGovernance: the request asks to bypass governance retention, and
// may (the bucket's owner project with write rights, or the root).
func (q *request) bypassGovernance() bool {
	return strings.EqualFold(q.r.Header.Get(hdrBypass), "true") && (q.who.Root || q.who.CanWrite())
}

func (q *request) lockedVersion() (string, error) {
	vid, err := q.versionID()
	if err != nil {
		return "", err
	}
	if _, ok := q.s.lockConfig(q.target.Bucket); !ok {
		if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
			return "", err
		}
		return "", errNoLockConfig
	}
	return vid, nil
}

func (q *request) putObjectRetention() error {
	vid, err := q.lockedVersion()
	if err != nil {
		return err
	}
	var doc retentionDoc
	if _, _, err := q.readXMLBody(maxSmallXMLBody, &doc); err != nil {
		return err
	}
	var until time.Time
	if doc.Mode != "" || doc.RetainUntilDate != "" {
		if doc.Mode != modeGovern && doc.Mode != modeComply {
			return ErrMalformedXML
		}
		if until, err = time.Parse(time.RFC3339, doc.RetainUntilDate); err != nil {
			return ErrMalformedXML
		}
		if !until.After(q.s.now()) {
			return ErrInvalidArgument.withMessage("The retain until date must be in the future!")
		}
	}
	return q.updateLock(vid, func(h map[string]string) error {
		curMode := h[hdrLockMode]
		curUntil, cerr := time.Parse(time.RFC3339, h[hdrLockUntil])
		active := cerr == nil && curUntil.After(q.s.now())
		weaker := doc.Mode != curMode || until.Before(curUntil)
		switch {
		case active && curMode == modeComply && weaker:
			return errLocked
		case active && curMode == modeGovern && weaker && !q.bypassGovernance():
			return errLocked
		}
		if doc.Mode == "" {
			delete(h, hdrLockMode)
			delete(h, hdrLockUntil)
			return nil
		}
		h[hdrLockMode], h[hdrLockUntil] = doc.Mode, until.UTC().Format(lockTimeSaved)
		return nil
	})
}

// lockedInfo is the version a Get{Retention,LegalHold} asks about.
func (q *request) lockedInfo() (objectd.ObjectInfo, error) {
	vid, err := q.lockedVersion()
	if err != nil {
		return objectd.ObjectInfo{}, err
	}
	info, err := q.s.store.HeadObjectVersion(q.ctx, q.target.Bucket, q.target.Key, vid)
	if err != nil {
		return info, q.lockErr(err)
	}
	return info, nil
}

// updateLock changes the lock headers of the version the request names.
func (q *request) updateLock(vid string, fn func(h map[string]string) error) error {
	_, err := q.s.store.UpdateObjectVersion(q.ctx, q.target.Bucket, q.target.Key, vid, func(oi *objectd.ObjectInfo) error {
		if oi.Headers == nil {
			oi.Headers = map[string]string{}
		}
		return fn(oi.Headers)
	})
	if err != nil {
		return q.lockErr(err)
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

func (q *request) getObjectRetention() error {
	info, err := q.lockedInfo()
	if err != nil {
		return err
	}
	if info.Headers[hdrLockMode] == "" {
		return errNoRetention
	}
	q.writeXML(http.StatusOK, retentionDoc{Xmlns: s3Namespace, Mode: info.Headers[hdrLockMode], RetainUntilDate: info.Headers[hdrLockUntil]})
	return nil
}

func (q *request) putObjectLegalHold() error {
	vid, err := q.lockedVersion()
	if err != nil {
		return err
	}
	var doc legalHoldDoc
	if _, _, err := q.readXMLBody(maxSmallXMLBody, &doc); err != nil {
		return err
	}
	if doc.Status != "ON" && doc.Status != "OFF" {
		return ErrMalformedXML
	}
	return q.updateLock(vid, func(h map[string]string) error {
		h[hdrLegalHold] = doc.Status
		return nil
	})
}

func (q *request) getObjectLegalHold() error {
	info, err := q.lockedInfo()
	if err != nil {
		return err
	}
	status := info.Headers[hdrLegalHold]
	if status == "" {
		return errNoRetention
	}
	q.writeXML(http.StatusOK, legalHoldDoc{Xmlns: s3Namespace, Status: status})
	return nil
}

// lockErr maps the store's errors of a lock operation.
func (q *request) lockErr(err error) error {
	if errors.Is(err, objectd.ErrDeleteMarker) {
		return ErrMethodNotAllowed
	}
	if errors.Is(err, objectd.ErrNoSuchVersion) {
		return ErrNoSuchVersion
	}
	return err
}
