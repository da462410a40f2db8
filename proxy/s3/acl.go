package s3

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/basaltstore/basalt/objectd"
)

// Access control lists. A grantee is a project (its canonical user ID is
// the project ID) or one of the groups AllUsers (anyone, the anonymous
// included) and AuthenticatedUsers (any signed request); LogDelivery is
// accepted and matches no one. A bucket's ACL is its "acl" setting; an
// object's lives in its stored headers: X-Amz-Acl holds a canned ACL,
// X-Basalt-Acl explicit grants as compact JSON, X-Basalt-Owner the
// project that wrote the object when it is not the bucket's owner. These
// headers are never sent back with the object, nor copied with it.
//
// The bucket owner's project has every right on everything in its
// buckets whatever the ACLs say; the owner of an object has FULL_CONTROL
// on it. Bucket READ lets a grantee list the bucket, WRITE create,
// overwrite and delete its objects, READ_ACP and WRITE_ACP read and
// change its ACL; object READ lets a grantee get the object, READ_ACP
// and WRITE_ACP read and change its ACL.

// Names of the headers that keep an object's ACL.
const (
	hdrObjectCannedACL = "X-Amz-Acl"
	hdrObjectGrants    = "X-Basalt-Acl"
	hdrObjectOwner     = "X-Basalt-Owner"
)

// aclHeader reports whether a stored header name belongs to an object's
// ACL.
func aclHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case hdrObjectCannedACL, hdrObjectGrants, hdrObjectOwner:
		return true
	}
	return false
}

// Permissions.
const (
	permRead        = "READ"
	permWrite       = "WRITE"
	permReadACP     = "READ_ACP"
	permWriteACP    = "WRITE_ACP"
	permFullControl = "FULL_CONTROL"
)

// Group URIs.
const (
	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// Canned ACL names.
const (
	cannedPrivate                = "private"
	cannedPublicRead             = "public-read"
	cannedPublicReadWrite        = "public-read-write"
	cannedAuthenticatedRead      = "authenticated-read"
	cannedAWSExecRead            = "aws-exec-read"
	cannedBucketOwnerRead        = "bucket-owner-read"
	cannedBucketOwnerFullControl = "bucket-owner-full-control"
	cannedLogDeliveryWrite       = "log-delivery-write"
)

var cannedACLs = map[string]bool{
	cannedPrivate: true, cannedPublicRead: true, cannedPublicReadWrite: true, cannedAuthenticatedRead: true,
	cannedAWSExecRead: true, cannedBucketOwnerRead: true, cannedBucketOwnerFullControl: true,
	cannedLogDeliveryWrite: true,
}

// aclGrant is one grant: to a project (ID) or a group (URI).
type aclGrant struct {
	ID         string `json:"id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Permission string `json:"p"`
}

// storedACL is an ACL as kept: a canned name, or explicit grants.
type storedACL struct {
	Canned string     `json:"canned,omitempty"`
	Grants []aclGrant `json:"grants,omitempty"`
}

// empty reports the default ACL (private, nothing granted to others).
func (a storedACL) empty() bool {
	return (a.Canned == "" || a.Canned == cannedPrivate) && len(a.Grants) == 0
}

// grants returns the grants of the ACL of a resource owned by owner in a
// bucket owned by bucketOwner (both project IDs).
func (a storedACL) grants(owner, bucketOwner string, forBucket bool) []aclGrant {
	if a.Canned == "" {
		if a.Grants == nil {
			return []aclGrant{{ID: owner, Permission: permFullControl}}
		}
		return a.Grants
	}
	out := []aclGrant{{ID: owner, Permission: permFullControl}}
	add := func(g aclGrant) {
		for _, e := range out {
			if e == g {
				return
			}
		}
		out = append(out, g)
	}
	switch a.Canned {
	case cannedPublicRead:
		add(aclGrant{URI: groupAllUsers, Permission: permRead})
	case cannedPublicReadWrite:
		add(aclGrant{URI: groupAllUsers, Permission: permRead})
		add(aclGrant{URI: groupAllUsers, Permission: permWrite})
	case cannedAuthenticatedRead:
		add(aclGrant{URI: groupAuthenticated, Permission: permRead})
	case cannedLogDeliveryWrite:
		if forBucket {
			add(aclGrant{URI: groupLogDelivery, Permission: permWrite})
			add(aclGrant{URI: groupLogDelivery, Permission: permReadACP})
		}
	case cannedBucketOwnerRead:
		if !forBucket {
			add(aclGrant{ID: bucketOwner, Permission: permRead})
		}
	case cannedBucketOwnerFullControl:
		if !forBucket {
			add(aclGrant{ID: bucketOwner, Permission: permFullControl})
		}
	}
	return out
}

// publicGrants reports grants to AllUsers or AuthenticatedUsers.
func publicGrants(gs []aclGrant) bool {
	for _, g := range gs {
		if g.URI == groupAllUsers || g.URI == groupAuthenticated {
			return true
		}
	}
	return false
}

// ownerOnly reports an ACL that grants nothing to anyone but owner: what
// a bucket with ACLs disabled (BucketOwnerEnforced) still accepts.
func ownerOnly(gs []aclGrant, owner string) bool {
	for _, g := range gs {
		if g.URI != "" || g.ID != owner {
			return false
		}
	}
	return true
}

// grantsPermit reports whether a grant gives the requester perm.
func grantsPermit(gs []aclGrant, q accessQuery, perm string, ignorePublic bool) bool {
	for _, g := range gs {
		if g.Permission != perm && g.Permission != permFullControl {
			continue
		}
		switch {
		case g.URI == groupAllUsers:
			if !ignorePublic {
				return true
			}
		case g.URI == groupAuthenticated:
			if !ignorePublic && !q.anonymous {
				return true
			}
		case g.ID != "" && !q.anonymous && g.ID == q.project:
			return true
		}
	}
	return false
}

// aclRequest reads the ACL a request sets through headers: x-amz-acl
// (canned; the "acl" field for a POST form) or x-amz-grant-*. It returns
// a zero ACL and false when the request names none.
func (q *request) aclRequest(h http.Header) (storedACL, bool, error) {
	canned := h.Get("X-Amz-Acl")
	if canned == "" && q.target.API == apiPostObject {
		canned = h.Get("Acl")
	}
	var grants []aclGrant
	for _, hp := range [...][2]string{
		{"X-Amz-Grant-Read", permRead}, {"X-Amz-Grant-Write", permWrite},
		{"X-Amz-Grant-Read-Acp", permReadACP}, {"X-Amz-Grant-Write-Acp", permWriteACP},
		{"X-Amz-Grant-Full-Control", permFullControl},
	} {
		v := h.Get(hp[0])
		if v == "" {
			continue
		}
		gs, err := q.parseGrantHeader(v, hp[1])
		if err != nil {
			return storedACL{}, false, err
		}
		grants = append(grants, gs...)
	}
	switch {
	case canned != "" && grants != nil:
		return storedACL{}, false, ErrCannedAndGrants
	case canned != "":
		if !cannedACLs[canned] {
			return storedACL{}, false, ErrInvalidArgument.withMessage("The canned ACL " + canned + " is not valid.")
		}
		return storedACL{Canned: canned}, true, nil
	case grants != nil:
		return storedACL{Grants: grants}, true, nil
	}
	return storedACL{}, false, nil
}

// parseGrantHeader reads `id="...", uri="..."` grantee lists.
func (q *request) parseGrantHeader(v, perm string) ([]aclGrant, error) {
	var out []aclGrant
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, ErrInvalidArgument.withMessage("Invalid grantee in the grant header: " + item)
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		g, err := q.grantee(strings.ToLower(strings.TrimSpace(k)), val)
		if err != nil {
			return nil, err
		}
		g.Permission = perm
		out = append(out, g)
	}
	if out == nil {
		return nil, ErrInvalidArgument.withMessage("A grant header names no grantee.")
	}
	return out, nil
}

// grantee checks a grantee given by type ("id", "uri", "emailaddress")
// and value.
func (q *request) grantee(kind, v string) (aclGrant, error) {
	switch kind {
	case "id":
		if !q.knownCanonicalID(v) {
			return aclGrant{}, ErrInvalidArgument.withMessage("Invalid id")
		}
		return aclGrant{ID: v}, nil
	case "uri":
		switch v {
		case groupAllUsers, groupAuthenticated, groupLogDelivery:
			return aclGrant{URI: v}, nil
		}
		return aclGrant{}, ErrInvalidArgument.withMessage("Invalid group uri")
	case "emailaddress":
		return aclGrant{}, ErrUnresolvableGrantByEmail
	}
	return aclGrant{}, ErrInvalidArgument.withMessage("Invalid grantee type " + kind)
}

// knownCanonicalID reports a canonical user ID that names a project (the
// one owner's ID without a catalog).
func (q *request) knownCanonicalID(id string) bool {
	if id == "" {
		return false
	}
	if q.s.catalog == nil {
		return id == q.owner().ID
	}
	_, ok := q.s.catalog.View().Project(id)
	return ok
}

// canonicalOwner is the Owner element for a project ("" without a
// catalog: the signing key's owner). A project's canonical user ID is
// its ID.
func (q *request) canonicalOwner(project string) owner {
	if q.s.catalog == nil || project == "" {
		return q.owner()
	}
	name := project
	if p, ok := q.s.catalog.View().Project(project); ok {
		name = p.Name
	}
	return owner{ID: project, DisplayName: name}
}

// projectOwner is the requester as an Owner element when it acts for a
// project (the root credential for the cloud admin project).
func (q *request) projectOwner() (owner, bool) {
	if q.s.catalog == nil || q.anonymous() {
		return owner{}, false
	}
	project := q.who.ProjectID
	if project == "" && q.who.Root {
		project = q.s.catalog.AdminProject()
	}
	if project == "" {
		return owner{}, false
	}
	return q.canonicalOwner(project), true
}

// AccessControlPolicy documents, out and in.
type aclDoc struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   owner    `xml:"Owner"`
	List    struct {
		Grants []aclGrantXML `xml:"Grant"`
	} `xml:"AccessControlList"`
}

type aclGrantXML struct {
	Grantee    aclGranteeXML `xml:"Grantee"`
	Permission string        `xml:"Permission"`
}

type aclGranteeXML struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	XSIType     string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

type aclInput struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	List *struct {
		Grants []struct {
			Grantee *struct {
				Type         string `xml:"type,attr"`
				ID           string `xml:"ID"`
				URI          string `xml:"URI"`
				EmailAddress string `xml:"EmailAddress"`
			} `xml:"Grantee"`
			Permission string `xml:"Permission"`
		} `xml:"Grant"`
	} `xml:"AccessControlList"`
}

// aclDocument renders grants of a resource owned by ownerID.
func (q *request) aclDocument(ownerID string, gs []aclGrant) aclDoc {
	doc := aclDoc{Xmlns: s3Namespace, Owner: q.canonicalOwner(ownerID)}
	doc.List.Grants = make([]aclGrantXML, 0, len(gs))
	for _, g := range gs {
		ge := aclGranteeXML{XMLNSXSI: xsiNamespace}
		if g.URI != "" {
			ge.XSIType, ge.URI = "Group", g.URI
		} else {
			o := q.canonicalOwner(g.ID)
			ge.XSIType, ge.ID, ge.DisplayName = "CanonicalUser", o.ID, o.DisplayName
		}
		doc.List.Grants = append(doc.List.Grants, aclGrantXML{Grantee: ge, Permission: g.Permission})
	}
	return doc
}

// readACLChange reads the ACL a PutBucketAcl or PutObjectAcl sets: from
// the headers or from an AccessControlPolicy body, not both.
func (q *request) readACLChange() (storedACL, error) {
	fromHeaders, named, err := q.aclRequest(q.r.Header)
	if err != nil {
		return storedACL{}, err
	}
	var in aclInput
	hasBody, _, err := q.readXMLBody(maxSmallXMLBody, &in)
	if errors.Is(err, ErrMalformedXML) {
		return storedACL{}, ErrMalformedACL
	}
	if err != nil {
		return storedACL{}, err
	}
	switch {
	case named && hasBody:
		return storedACL{}, ErrUnexpectedContent
	case named:
		return fromHeaders, nil
	case !hasBody:
		return storedACL{}, ErrMalformedACL
	}
	if in.Owner == nil || in.List == nil {
		return storedACL{}, ErrMalformedACL
	}
	out := storedACL{Grants: []aclGrant{}}
	for _, g := range in.List.Grants {
		if g.Grantee == nil {
			return storedACL{}, ErrMalformedACL
		}
		switch g.Permission {
		case permRead, permWrite, permReadACP, permWriteACP, permFullControl:
		default:
			return storedACL{}, ErrMalformedACL
		}
		var ag aclGrant
		switch g.Grantee.Type {
		case "CanonicalUser":
			ag, err = q.grantee("id", g.Grantee.ID)
		case "Group":
			ag, err = q.grantee("uri", g.Grantee.URI)
		case "AmazonCustomerByEmail":
			err = ErrUnresolvableGrantByEmail
		default:
			err = ErrMalformedACL
		}
		if err != nil {
			return storedACL{}, err
		}
		ag.Permission = g.Permission
		out.Grants = append(out.Grants, ag)
	}
	return out, nil
}

// checkACLAllowed applies the bucket's ownership controls and public
// access block to an ACL about to be set on the bucket or one of its
// objects.
func checkACLAllowed(b *bucketAccess, a storedACL, grants []aclGrant, owner string) error {
	if b.ownership == ownershipBucketOwnerEnforced {
		ok := a.Canned == cannedPrivate || a.Canned == cannedBucketOwnerFullControl ||
			a.Canned == "" && ownerOnly(grants, owner)
		if !ok {
			return ErrACLNotSupported
		}
	}
	if b.pab.BlockPublicAcls && publicGrants(grants) {
		return ErrAccessDenied
	}
	return nil
}

// objectOwner is the project that owns an object the request writes: the
// writer's, unless the bucket's owner takes it (ACLs disabled, owner
// preferred with bucket-owner-full-control, or a writer with no project
// of its own: the anonymous and the cloud admin). "" is the bucket owner.
func (q *request) objectOwner(b *bucketAccess, a storedACL) string {
	writer := q.who.ProjectID
	switch {
	case q.anonymous() || q.who.Root || writer == "" || writer == b.owner:
		return ""
	case b.ownership == ownershipBucketOwnerEnforced:
		return ""
	case b.ownership == ownershipBucketOwnerPreferred && a.Canned == cannedBucketOwnerFullControl:
		return ""
	}
	return writer
}

// setObjectACL records in opts the ACL (and owner) of an object the
// request writes: PutObject, CopyObject (the source's ACL is not copied),
// CreateMultipartUpload, PostObject.
func (q *request) setObjectACL(h http.Header, opts *objectd.PutOptions) error {
	a, _, err := q.aclRequest(h)
	if err != nil {
		return err
	}
	b, err := q.bucketAccess(q.target.Bucket)
	if err != nil {
		return err
	}
	owner := q.objectOwner(b, a)
	effOwner, bucketOwner := owner, b.owner
	if effOwner == "" {
		effOwner = bucketOwner
	}
	if err := checkACLAllowed(b, a, a.grants(effOwner, bucketOwner, false), bucketOwner); err != nil {
		return err
	}
	for k := range opts.Headers {
		if aclHeader(k) {
			delete(opts.Headers, k)
		}
	}
	set := func(k, v string) {
		if opts.Headers == nil {
			opts.Headers = map[string]string{}
		}
		opts.Headers[k] = v
	}
	if owner != "" {
		set(hdrObjectOwner, owner)
	}
	if b.ownership == ownershipBucketOwnerEnforced || a.empty() {
		return nil
	}
	return storeObjectACL(a, set)
}

// storeObjectACL writes an ACL as object headers through set.
func storeObjectACL(a storedACL, set func(k, v string)) error {
	if a.Canned != "" {
		set(hdrObjectCannedACL, a.Canned)
		return nil
	}
	raw, err := json.Marshal(a.Grants)
	if err != nil {
		return err
	}
	set(hdrObjectGrants, string(raw))
	return nil
}

// objectACL reads an object's owner ("" for the bucket's owner) and ACL
// from its stored headers.
func objectACL(info objectd.ObjectInfo) (string, storedACL) {
	var owner string
	var a storedACL
	for k, v := range info.Headers {
		switch http.CanonicalHeaderKey(k) {
		case hdrObjectOwner:
			owner = v
		case hdrObjectCannedACL:
			a.Canned = v
		case hdrObjectGrants:
			var gs []aclGrant
			if json.Unmarshal([]byte(v), &gs) == nil {
				if gs == nil {
					gs = []aclGrant{}
				}
				a.Grants = gs
			}
		}
	}
	return owner, a
}

// getBucketACL answers GetBucketAcl.
func (q *request) getBucketACL() error {
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	q.writeXML(http.StatusOK, q.aclDocument(b.owner, b.acl.grants(b.owner, b.owner, true)))
	return nil
}

// putBucketACL answers PutBucketAcl.
func (q *request) putBucketACL() error {
	a, err := q.readACLChange()
	if err != nil {
		return err
	}
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	if err := checkACLAllowed(b, a, a.grants(b.owner, b.owner, true), b.owner); err != nil {
		return err
	}
	var value any
	if !a.empty() {
		value = a
	}
	if err := q.setBucketSetting(settingACL, value); err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

// getObjectACL answers GetObjectAcl.
func (q *request) getObjectACL() error {
	info, err := q.s.store.HeadObject(q.ctx, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	b, err := q.bucketAccess(q.target.Bucket)
	if err != nil {
		return err
	}
	owner, a := objectACL(info)
	if owner == "" {
		owner = b.owner
	}
	gs := a.grants(owner, b.owner, false)
	if b.ownership == ownershipBucketOwnerEnforced {
		gs = []aclGrant{{ID: b.owner, Permission: permFullControl}}
		owner = b.owner
	}
	q.writeXML(http.StatusOK, q.aclDocument(owner, gs))
	return nil
}

// putObjectACL answers PutObjectAcl: the object's metadata changes in
// place (a new version sharing the data).
func (q *request) putObjectACL() error {
	a, err := q.readACLChange()
	if err != nil {
		return err
	}
	b, err := q.bucketAccess(q.target.Bucket)
	if err != nil {
		return err
	}
	_, err = q.s.store.UpdateObject(q.ctx, q.target.Bucket, q.target.Key, func(info *objectd.ObjectInfo) error {
		owner, _ := objectACL(*info)
		if owner == "" {
			owner = b.owner
		}
		if err := checkACLAllowed(b, a, a.grants(owner, b.owner, false), b.owner); err != nil {
			return err
		}
		for k := range info.Headers {
			if aclHeader(k) && http.CanonicalHeaderKey(k) != hdrObjectOwner {
				delete(info.Headers, k)
			}
		}
		if b.ownership == ownershipBucketOwnerEnforced || a.empty() {
			return nil
		}
		if info.Headers == nil {
			info.Headers = map[string]string{}
		}
		return storeObjectACL(a, func(k, v string) { info.Headers[k] = v })
	})
	if err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}
