package s3

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Access control: who may do what to a bucket and its objects. authorize
// (tenancy.go) maps each request to the IAM actions S3 would check
// (iamAction) and decides each with allowed:
//
//  1. the root credential and the cloud admin may do everything;
//  2. an explicit Deny of the bucket policy refuses, even the bucket
//     owner's project (but its admins may still read, change and delete
//     the policy, so that a bad policy cannot lock a project out);
//  3. the members of the bucket owner's project are allowed, by role as
//     before (readers read, members and admins change);
//  4. else an Allow of the policy (unless RestrictPublicBuckets is set and
//     the policy is public) or a grant of an ACL (unless ACLs are
//     disabled; public grants not when IgnorePublicAcls is set) allows;
//  5. else the request is refused with AccessDenied.
//
// Every signed key keeps the limits of its role: a reader reads, wherever
// a policy or ACL lets it in. Anonymous requests (no signature) get only
// what is granted to "*", AllUsers, or their conditions.
//
// Settings kept in the bucket's catalog record: "policy" (the policy
// text, as put), "acl", "publicAccessBlock", "ownershipControls".

// Names of the access operations route does not have.
const (
	apiPutBucketPolicy         = "PutBucketPolicy"
	apiDeleteBucketPolicy      = "DeleteBucketPolicy"
	apiGetBucketPolicyStatus   = "GetBucketPolicyStatus"
	apiPutBucketACL            = "PutBucketAcl"
	apiPutPublicAccessBlock    = "PutPublicAccessBlock"
	apiDeletePublicAccessBlock = "DeletePublicAccessBlock"
	apiPutOwnershipControls    = "PutBucketOwnershipControls"
	apiDeleteOwnershipControls = "DeleteBucketOwnershipControls"
	apiPutObjectACL            = "PutObjectAcl"
)

// Names of the bucket settings kept by this file.
const (
	settingPolicy            = "policy"
	settingACL               = "acl"
	settingPublicAccessBlock = "publicAccessBlock"
	settingOwnership         = "ownershipControls"
)

// Object ownership settings.
const (
	ownershipBucketOwnerEnforced  = "BucketOwnerEnforced"
	ownershipBucketOwnerPreferred = "BucketOwnerPreferred"
	ownershipObjectWriter         = "ObjectWriter"
)

// accessBucketAPI names the access operation on a bucket for a method and
// its one subresource, or "".
func accessBucketAPI(method, sub string) string {
	switch method + " " + sub {
	case "GET policy":
		return apiGetBucketPolicy
	case "GET policyStatus":
		return apiGetBucketPolicyStatus
	case "GET acl":
		return apiGetBucketACL
	case "GET publicAccessBlock":
		return apiGetPublicAccessBlock
	case "GET ownershipControls":
		return apiGetOwnershipControls
	case "PUT policy":
		return apiPutBucketPolicy
	case "PUT acl":
		return apiPutBucketACL
	case "PUT publicAccessBlock":
		return apiPutPublicAccessBlock
	case "PUT ownershipControls":
		return apiPutOwnershipControls
	case "DELETE policy":
		return apiDeleteBucketPolicy
	case "DELETE publicAccessBlock":
		return apiDeletePublicAccessBlock
	case "DELETE ownershipControls":
		return apiDeleteOwnershipControls
	}
	return ""
}

// accessObjectAPI names the access operation on an object, or "".
func accessObjectAPI(method string, has func(string) bool) string {
	if method == http.MethodPut && has("acl") && !has("uploadId") && !has("partNumber") {
		return apiPutObjectACL
	}
	return ""
}

// dispatchAccess runs the handler of an access operation; false when the
// request is not one.
func (q *request) dispatchAccess() (bool, error) {
	switch q.target.API {
	case apiGetBucketPolicy:
		return true, q.getBucketPolicy()
	case apiPutBucketPolicy:
		return true, q.putBucketPolicy()
	case apiDeleteBucketPolicy:
		return true, q.deleteBucketSetting(settingPolicy)
	case apiGetBucketPolicyStatus:
		return true, q.getBucketPolicyStatus()
	case apiGetBucketACL:
		return true, q.getBucketACL()
	case apiPutBucketACL:
		return true, q.putBucketACL()
	case apiGetPublicAccessBlock:
		return true, q.getPublicAccessBlock()
	case apiPutPublicAccessBlock:
		return true, q.putPublicAccessBlock()
	case apiDeletePublicAccessBlock:
		return true, q.deleteBucketSetting(settingPublicAccessBlock)
	case apiGetOwnershipControls:
		return true, q.getOwnershipControls()
	case apiPutOwnershipControls:
		return true, q.putOwnershipControls()
	case apiDeleteOwnershipControls:
		return true, q.deleteBucketSetting(settingOwnership)
	case apiGetObjectACL:
		return true, q.getObjectACL()
	case apiPutObjectACL:
		return true, q.putObjectACL()
	}
	return false, nil
}

// accessState is what authorize learns about a request and keeps for its
// handlers: the condition context and the access settings of the buckets
// it touches.
type accessState struct {
	ctx     map[string]string
	buckets map[string]*bucketAccess
}

// bucketAccess is a bucket's owner and access settings.
type bucketAccess struct {
	known     bool   // recorded in the catalog (always, without one)
	owner     string // owner project ("" without a catalog)
	rawPolicy string
	policy    *bucketPolicy
	acl       storedACL
	pab       publicAccessBlock
	ownership string
}

// accessSettings are the settings of a bucket record this file reads.
type accessSettings struct {
	Policy    *string            `json:"policy"`
	ACL       *storedACL         `json:"acl"`
	PAB       *publicAccessBlock `json:"publicAccessBlock"`
	Ownership *ownershipSetting  `json:"ownershipControls"`
}

type ownershipSetting struct {
	ObjectOwnership string `json:"ObjectOwnership"`
}

// anonymous reports a request that no key signed (for a POST upload: no
// key signed its form).
func (q *request) anonymous() bool { return q.auth == nil || q.auth.AccessKey == "" }

// state returns the request's access state, made on first use.
func (q *request) state() *accessState {
	if q.access == nil {
		q.access = &accessState{ctx: q.conditionContext(), buckets: map[string]*bucketAccess{}}
	}
	return q.access
}

// bucketAccess loads (once per request) a bucket's access settings.
func (q *request) bucketAccess(bucket string) (*bucketAccess, error) {
	st := q.state()
	if b, ok := st.buckets[bucket]; ok {
		return b, nil
	}
	b := &bucketAccess{known: true}
	if q.s.catalog != nil {
		rec, ok := q.s.catalog.View().Bucket(bucket)
		b.known, b.owner = ok, rec.Owner
		if ok && len(rec.Settings) > 0 {
			var s accessSettings
			if err := json.Unmarshal(rec.Settings, &s); err != nil {
				return nil, err
			}
			if s.Policy != nil {
				p, err := parsePolicy([]byte(*s.Policy), bucket, nil)
				if err != nil {
					return nil, err
				}
				b.rawPolicy, b.policy = *s.Policy, p
			}
			if s.ACL != nil {
				b.acl = *s.ACL
			}
			if s.PAB != nil {
				b.pab = *s.PAB
			}
			if s.Ownership != nil {
				b.ownership = s.Ownership.ObjectOwnership
			}
		}
	}
	st.buckets[bucket] = b
	return b, nil
}

// existingBucket returns the target bucket's access settings once the
// bucket is known to exist.
func (q *request) existingBucket() (*bucketAccess, error) {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return nil, err
	}
	return q.bucketAccess(q.target.Bucket)
}

// setBucketSetting stores (nil: removes) a setting of the target bucket.
// Without a catalog there is nowhere to keep it.
func (q *request) setBucketSetting(name string, value any) error {
	if q.s.catalog == nil {
		return ErrNoSettingsStore
	}
	err := q.s.catalog.SetBucketSetting(q.ctx, q.target.Bucket, name, value)
	switch {
	case errors.Is(err, raftmap.ErrNoSuchBucket):
		return ErrNoSuchBucket
	case errors.Is(err, raftmap.ErrBadCommand):
		return ErrSettingsTooLarge
	case err != nil:
		return err
	}
	delete(q.state().buckets, q.target.Bucket)
	return nil
}

// deleteBucketSetting answers the Delete* operations of a setting.
func (q *request) deleteBucketSetting(name string) error {
	if _, err := q.existingBucket(); err != nil {
		return err
	}
	if q.s.catalog != nil {
		if err := q.setBucketSetting(name, nil); err != nil {
			return err
		}
	}
	q.writeEmpty(http.StatusNoContent)
	return nil
}

// conditionContext is the request's condition keys (lower case) for
// policy conditions.
func (q *request) conditionContext() map[string]string {
	r := q.r
	ctx := map[string]string{}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ctx["aws:sourceip"] = host
	}
	ctx["aws:securetransport"] = strconv.FormatBool(r.TLS != nil)
	now := q.s.now().UTC()
	ctx["aws:currenttime"] = now.Format(time.RFC3339)
	ctx["aws:epochtime"] = strconv.FormatInt(now.Unix(), 10)
	if v := r.UserAgent(); v != "" {
		ctx["aws:useragent"] = v
	}
	if v := r.Referer(); v != "" {
		ctx["aws:referer"] = v
	}
	switch {
	case q.anonymous():
		ctx["aws:principaltype"] = "Anonymous"
	case q.who.ProjectID != "":
		ctx["aws:principaltype"] = "User"
		ctx["aws:principalaccount"] = q.who.ProjectID
		if q.who.UserName != "" {
			ctx["aws:username"] = q.who.UserName
			ctx["aws:principalarn"] = "arn:aws:iam::" + q.who.ProjectID + ":user/" + q.who.UserName
		}
		if q.who.UserID != "" {
			ctx["aws:userid"] = q.who.UserID
		}
	}
	for _, name := range [...]string{"prefix", "delimiter", "max-keys"} {
		if vs, ok := q.query[name]; ok && q.target.Key == "" {
			ctx["s3:"+name] = strings.Join(vs, ",")
		}
	}
	if v, ok := q.query["versionId"]; ok {
		ctx["s3:versionid"] = strings.Join(v, ",")
	}
	for _, h := range [...]string{
		"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
		"x-amz-grant-full-control", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-storage-class",
		"x-amz-content-sha256", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
		"x-amz-object-ownership",
	} {
		if v := r.Header.Get(h); v != "" {
			ctx["s3:"+h] = v
		}
	}
	auth := r.Header.Get("Authorization")
	switch {
	case q.target.API == apiPostObject:
		ctx["s3:authtype"] = "POST"
	case auth != "":
		ctx["s3:authtype"] = "REST-HEADER"
	case q.query.Get("X-Amz-Signature") != "" || q.query.Get("Signature") != "":
		ctx["s3:authtype"] = "REST-QUERY-STRING"
	}
	switch {
	case strings.HasPrefix(auth, "AWS4-") || q.query.Get("X-Amz-Algorithm") != "":
		ctx["s3:signatureversion"] = "AWS4-HMAC-SHA256"
	case strings.HasPrefix(auth, "AWS ") || q.query.Get("Signature") != "":
		ctx["s3:signatureversion"] = "AWS"
	}
	return ctx
}

// allowed decides whether the request's principal may do action ("s3:..."
// as AWS names it) to bucket (key "": the bucket itself).
func (q *request) allowed(bucket, key, action string) error {
	if q.who.Root {
		return nil
	}
	b, err := q.bucketAccess(bucket)
	if err != nil {
		return err
	}
	anon := q.anonymous()
	if !b.known {
		if anon {
			return ErrAccessDenied
		}
		return nil // the store answers NoSuchBucket
	}
	aq := q.accessQuery(bucket, key, action)
	owner := !anon && b.owner != "" && q.who.ProjectID == b.owner
	switch b.policy.evaluate(aq) {
	case effectDeny:
		if owner && q.who.IsAdmin() && policyAdminAction(aq.action) {
			return nil
		}
		return ErrAccessDenied
	case effectAllow:
		if owner {
			return nil
		}
		if ownerOnlyAction(aq.action) {
			return ErrAccessDenied
		}
		if !(b.pab.RestrictPublicBuckets && b.policy.isPublic()) {
			return nil
		}
	}
	if owner {
		return nil
	}
	if action == "" || ownerOnlyAction(aq.action) {
		return ErrAccessDenied
	}
	return q.aclAllows(b, bucket, key, aq)
}

func (q *request) accessQuery(bucket, key, action string) accessQuery {
	resource := bucket
	if key != "" {
		resource += "/" + key
	}
	return accessQuery{
		anonymous: q.anonymous(), project: q.who.ProjectID, user: q.who.UserName,
		action: strings.ToLower(strings.TrimPrefix(action, "s3:")), resource: resource, ctx: q.state().ctx,
	}
}

// denied reports an explicit Deny of action by the bucket's policy.
func (q *request) denied(bucket, key, action string) error {
	if q.who.Root {
		return nil
	}
	b, err := q.bucketAccess(bucket)
	if err != nil {
		return err
	}
	if b.policy.evaluate(q.accessQuery(bucket, key, action)) == effectDeny {
		return ErrAccessDenied
	}
	return nil
}

// policyAdminAction: what the owner project's admins may do whatever the
// policy says.
func policyAdminAction(a string) bool {
	return a == "getbucketpolicy" || a == "putbucketpolicy" || a == "deletebucketpolicy"
}

// ownerOnlyAction: what only the bucket owner's project may do, whatever
// a policy or ACL grants others.
func ownerOnlyAction(a string) bool {
	switch a {
	case "getbucketpolicy", "putbucketpolicy", "deletebucketpolicy", "getbucketpolicystatus",
		"getbucketpublicaccessblock", "putbucketpublicaccessblock",
		"getbucketownershipcontrols", "putbucketownershipcontrols":
		return true
	}
	return false
}

// bucketACLPermission is the bucket ACL permission that allows an action.
func bucketACLPermission(a string) string {
	switch a {
	case "listbucket", "listbucketversions", "listbucketmultipartuploads":
		return permRead
	case "putobject", "deleteobject", "abortmultipartupload", "listmultipartuploadparts":
		return permWrite
	case "getbucketacl":
		return permReadACP
	case "putbucketacl":
		return permWriteACP
	}
	return ""
}

// objectACLPermission is the object ACL permission that allows an action;
// objectOwnerAction also lists what an object's owner may do.
func objectACLPermission(a string) string {
	switch a {
	case "getobject", "getobjectversion", "getobjecttorrent":
		return permRead
	case "getobjectacl":
		return permReadACP
	case "putobjectacl":
		return permWriteACP
	}
	return ""
}

func objectOwnerAction(a string) bool {
	return objectACLPermission(a) != "" || strings.HasSuffix(a, "objecttagging") || a == "getobjectattributes"
}

// aclAllows decides by the bucket's and the object's ACLs.
func (q *request) aclAllows(b *bucketAccess, bucket, key string, aq accessQuery) error {
	if b.ownership == ownershipBucketOwnerEnforced {
		return ErrAccessDenied
	}
	ignore := b.pab.IgnorePublicAcls
	if perm := bucketACLPermission(aq.action); perm != "" && grantsPermit(b.acl.grants(b.owner, b.owner, true), aq, perm, ignore) {
		return nil
	}
	if key == "" || !objectOwnerAction(aq.action) {
		return ErrAccessDenied
	}
	info, err := q.s.store.HeadObject(q.ctx, bucket, key)
	if err != nil {
		// S3 tells a missing key only to who may list the bucket.
		if errors.Is(err, objectd.ErrNoSuchKey) && q.allowed(bucket, "", "s3:ListBucket") == nil {
			return ErrNoSuchKey
		}
		return ErrAccessDenied
	}
	owner, a := objectACL(info)
	if owner != "" && !aq.anonymous && owner == aq.project {
		return nil
	}
	if owner == "" {
		owner = b.owner
	}
	if perm := objectACLPermission(aq.action); perm != "" && grantsPermit(a.grants(owner, b.owner, false), aq, perm, ignore) {
		return nil
	}
	return ErrAccessDenied
}

// concealMissing turns a missing key into AccessDenied for who may not
// list the bucket, as S3 does: only those who could list it learn that a
// key does not exist.
func (q *request) concealMissing(err error) error {
	if err == nil || q.who.Root || q.target.Key == "" || !errors.Is(toAPIError(err), ErrNoSuchKey) {
		return err
	}
	if b, _ := q.bucketAccess(q.target.Bucket); b != nil && !q.anonymous() && b.owner == q.who.ProjectID {
		return err
	}
	if q.allowed(q.target.Bucket, "", "s3:ListBucket") != nil {
		return ErrAccessDenied
	}
	return err
}

// authorizeKey decides an action on one key of a multi-object request
// (DeleteObjects).
func (q *request) authorizeKey(key, action string) error {
	return q.allowed(q.target.Bucket, key, action)
}

// bucketSubresources are the subresources that select a bucket action, in
// the order they are looked for.
var bucketSubresources = [...]string{
	"policyStatus", "policy", "acl", "publicAccessBlock", "ownershipControls", "tagging", "cors", "lifecycle",
	"location", "uploads", "versions", "versioning", "encryption", "object-lock", "website", "replication",
	"notification", "logging", "requestPayment", "accelerate", "delete",
}

// bucketActions maps "METHOD subresource" to the IAM action of a bucket
// request.
var bucketActions = map[string]string{
	"GET ": "s3:ListBucket", "HEAD ": "s3:ListBucket", "PUT ": "s3:CreateBucket", "DELETE ": "s3:DeleteBucket",
	"POST ": "s3:PutObject", "POST delete": "", "GET location": "s3:GetBucketLocation",
	"GET uploads": "s3:ListBucketMultipartUploads", "GET versions": "s3:ListBucketVersions",
	"GET versioning": "s3:GetBucketVersioning", "PUT versioning": "s3:PutBucketVersioning",
	"GET policy": "s3:GetBucketPolicy", "PUT policy": "s3:PutBucketPolicy", "DELETE policy": "s3:DeleteBucketPolicy",
	"GET policyStatus": "s3:GetBucketPolicyStatus",
	"GET acl":          "s3:GetBucketAcl", "PUT acl": "s3:PutBucketAcl",
	"GET publicAccessBlock": "s3:GetBucketPublicAccessBlock", "PUT publicAccessBlock": "s3:PutBucketPublicAccessBlock",
	"DELETE publicAccessBlock": "s3:PutBucketPublicAccessBlock",
	"GET ownershipControls":    "s3:GetBucketOwnershipControls", "PUT ownershipControls": "s3:PutBucketOwnershipControls",
	"DELETE ownershipControls": "s3:PutBucketOwnershipControls",
	"GET tagging":              "s3:GetBucketTagging", "PUT tagging": "s3:PutBucketTagging", "DELETE tagging": "s3:PutBucketTagging",
	"GET cors": "s3:GetBucketCORS", "PUT cors": "s3:PutBucketCORS", "DELETE cors": "s3:PutBucketCORS",
	"GET lifecycle": "s3:GetLifecycleConfiguration", "PUT lifecycle": "s3:PutLifecycleConfiguration",
	"DELETE lifecycle": "s3:PutLifecycleConfiguration",
	"GET encryption":   "s3:GetEncryptionConfiguration", "PUT encryption": "s3:PutEncryptionConfiguration",
	"DELETE encryption": "s3:PutEncryptionConfiguration",
	"GET object-lock":   "s3:GetBucketObjectLockConfiguration", "PUT object-lock": "s3:PutBucketObjectLockConfiguration",
	"GET website": "s3:GetBucketWebsite", "PUT website": "s3:PutBucketWebsite", "DELETE website": "s3:DeleteBucketWebsite",
	"GET replication": "s3:GetReplicationConfiguration", "PUT replication": "s3:PutReplicationConfiguration",
	"DELETE replication": "s3:PutReplicationConfiguration",
	"GET notification":   "s3:GetBucketNotification", "PUT notification": "s3:PutBucketNotification",
	"GET logging": "s3:GetBucketLogging", "PUT logging": "s3:PutBucketLogging",
	"GET requestPayment": "s3:GetBucketRequestPayment", "PUT requestPayment": "s3:PutBucketRequestPayment",
	"GET accelerate": "s3:GetAccelerateConfiguration", "PUT accelerate": "s3:PutAccelerateConfiguration",
}

// iamAction is the IAM action S3 checks for a request ("" when none
// applies, or per key as for DeleteObjects).
func iamAction(method string, object bool, query url.Values) string {
	has := func(n string) bool { _, ok := query[n]; return ok }
	if !object {
		sub := ""
		for _, s := range bucketSubresources {
			if has(s) {
				sub = s
				break
			}
		}
		return bucketActions[method+" "+sub]
	}
	switch method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "s3:ListMultipartUploadParts"
		case has("acl"):
			return "s3:GetObjectAcl"
		case has("tagging"):
			return "s3:GetObjectTagging"
		case has("attributes"):
			return "s3:GetObjectAttributes"
		case has("retention"):
			return "s3:GetObjectRetention"
		case has("legal-hold"):
			return "s3:GetObjectLegalHold"
		case has("torrent"):
			return "s3:GetObjectTorrent"
		}
		return "s3:GetObject"
	case http.MethodHead:
		return "s3:GetObject"
	case http.MethodPut:
		switch {
		case has("uploadId"), has("partNumber"):
			return "s3:PutObject"
		case has("acl"):
			return "s3:PutObjectAcl"
		case has("tagging"):
			return "s3:PutObjectTagging"
		case has("retention"):
			return "s3:PutObjectRetention"
		case has("legal-hold"):
			return "s3:PutObjectLegalHold"
		}
		return "s3:PutObject"
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "s3:AbortMultipartUpload"
		case has("tagging"):
			return "s3:DeleteObjectTagging"
		}
		return "s3:DeleteObject"
	case http.MethodPost:
		switch {
		case has("restore"):
			return "s3:RestoreObject"
		case has("select"):
			return "s3:GetObject"
		}
		return "s3:PutObject"
	}
	return ""
}

// hasACLHeaders reports a request that sets an ACL through headers.
func hasACLHeaders(h http.Header) bool {
	for _, k := range [...]string{"X-Amz-Acl", "X-Amz-Grant-Read", "X-Amz-Grant-Write", "X-Amz-Grant-Read-Acp",
		"X-Amz-Grant-Write-Acp", "X-Amz-Grant-Full-Control"} {
		if h.Get(k) != "" {
			return true
		}
	}
	return false
}

// Bucket policy operations.

func (q *request) getBucketPolicy() error {
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	if b.policy == nil {
		return ErrNoSuchBucketPolicy
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b.rawPolicy)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		q.w.Write([]byte(b.rawPolicy))
	}
	return nil
}

func (q *request) putBucketPolicy() error {
	data, err := q.readSmallBody(2 * maxPolicySize)
	if err != nil {
		if errors.Is(err, ErrMalformedXML) {
			return malformedPolicy(msgPolicyTooLarge)
		}
		return err
	}
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	p, err := parsePolicy(data, q.target.Bucket, q.principalExists)
	if err != nil {
		return err
	}
	if b.pab.BlockPublicPolicy && p.isPublic() {
		who := "anonymous"
		if q.who.ProjectID != "" {
			who = "arn:aws:iam::" + q.who.ProjectID + ":user/" + q.who.UserName
		}
		return ErrAccessDenied.withMessage("User: " + who + " is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::" +
			q.target.Bucket + "\" because public policies are blocked by the BlockPublicPolicy block public access setting.")
	}
	if err := q.setBucketSetting(settingPolicy, string(data)); err != nil {
		return err
	}
	q.writeEmpty(http.StatusNoContent)
	return nil
}

// principalExists is the principal lookup of PutBucketPolicy: the
// project must exist, and a user of that name in the project's domain.
func (q *request) principalExists(project, user string) bool {
	if q.s.catalog == nil {
		return true
	}
	v := q.s.catalog.View()
	p, ok := v.Project(project)
	if !ok {
		return false
	}
	if user == "" {
		return true
	}
	_, ok = v.UserByName(p.Domain, user)
	return ok
}

type policyStatusDoc struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	Xmlns    string   `xml:"xmlns,attr"`
	IsPublic bool     `xml:"IsPublic"`
}

func (q *request) getBucketPolicyStatus() error {
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	if b.policy == nil {
		return ErrNoSuchBucketPolicy
	}
	q.writeXML(http.StatusOK, policyStatusDoc{Xmlns: s3Namespace, IsPublic: b.policy.isPublic()})
	return nil
}

// Public access block.

type publicAccessBlock struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration" json:"-"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty" json:"-"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls" json:"BlockPublicAcls,omitempty"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls" json:"IgnorePublicAcls,omitempty"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy" json:"BlockPublicPolicy,omitempty"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets" json:"RestrictPublicBuckets,omitempty"`
}

func (q *request) getPublicAccessBlock() error {
	if _, err := q.existingBucket(); err != nil {
		return err
	}
	var pab publicAccessBlock
	ok, err := catalogSetting(q, settingPublicAccessBlock, &pab)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoSuchPublicAccessBlock
	}
	pab.Xmlns = s3Namespace
	q.writeXML(http.StatusOK, pab)
	return nil
}

func (q *request) putPublicAccessBlock() error {
	var pab publicAccessBlock
	ok, _, err := q.readXMLBody(maxSmallXMLBody, &pab)
	if err != nil {
		return err
	}
	if !ok {
		return ErrMalformedXML
	}
	if _, err := q.existingBucket(); err != nil {
		return err
	}
	if err := q.setBucketSetting(settingPublicAccessBlock, pab); err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

// catalogSetting reads a setting of the target bucket as stored.
func catalogSetting(q *request, name string, out any) (bool, error) {
	if q.s.catalog == nil {
		return false, nil
	}
	return catalog.BucketSetting(q.s.catalog.View(), q.target.Bucket, name, out)
}

// Ownership controls.

type ownershipControlsDoc struct {
	XMLName xml.Name `xml:"OwnershipControls"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []struct {
		ObjectOwnership string `xml:"ObjectOwnership"`
	} `xml:"Rule"`
}

func validOwnership(s string) bool {
	return s == ownershipBucketOwnerEnforced || s == ownershipBucketOwnerPreferred || s == ownershipObjectWriter
}

func (q *request) getOwnershipControls() error {
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	if b.ownership == "" {
		return ErrNoSuchOwnershipControls
	}
	doc := ownershipControlsDoc{Xmlns: s3Namespace}
	doc.Rules = append(doc.Rules, struct {
		ObjectOwnership string `xml:"ObjectOwnership"`
	}{b.ownership})
	q.writeXML(http.StatusOK, doc)
	return nil
}

func (q *request) putOwnershipControls() error {
	var doc ownershipControlsDoc
	ok, _, err := q.readXMLBody(maxSmallXMLBody, &doc)
	if err != nil {
		return err
	}
	if !ok || len(doc.Rules) != 1 || !validOwnership(doc.Rules[0].ObjectOwnership) {
		return ErrMalformedXML
	}
	b, err := q.existingBucket()
	if err != nil {
		return err
	}
	own := doc.Rules[0].ObjectOwnership
	if own == ownershipBucketOwnerEnforced && !ownerOnly(b.acl.grants(b.owner, b.owner, true), b.owner) {
		return ErrInvalidBucketACLWithOwnership
	}
	if err := q.setBucketSetting(settingOwnership, ownershipSetting{ObjectOwnership: own}); err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

// createBucketAccess reads the ACL and object ownership a CreateBucket
// asks for, before the bucket is made.
func (q *request) createBucketAccess() (storedACL, string, error) {
	a, _, err := q.aclRequest(q.r.Header)
	if err != nil {
		return a, "", err
	}
	own := q.r.Header.Get("X-Amz-Object-Ownership")
	if own != "" && !validOwnership(own) {
		return a, "", ErrInvalidArgument.withMessage("Invalid x-amz-object-ownership header: " + own)
	}
	if own == ownershipBucketOwnerEnforced && !(a.empty() || a.Canned == cannedBucketOwnerFullControl) {
		return a, "", ErrInvalidBucketACLWithOwnership
	}
	if q.s.catalog == nil && (!a.empty() || own != "") {
		return a, "", ErrNoSettingsStore
	}
	return a, own, nil
}

// storeCreateBucketAccess keeps the ACL and ownership of a new bucket.
func (q *request) storeCreateBucketAccess(a storedACL, own string) error {
	if !a.empty() && a.Canned != cannedBucketOwnerFullControl && a.Canned != cannedBucketOwnerRead {
		if err := q.setBucketSetting(settingACL, a); err != nil {
			return err
		}
	}
	if own != "" {
		return q.setBucketSetting(settingOwnership, ownershipSetting{ObjectOwnership: own})
	}
	return nil
}
