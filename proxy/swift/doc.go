// Package swift serves the OpenStack Swift object API (v1) over the
// object store and the catalog, with plain net/http: paths
// /v1/AUTH_<project id>[/<container>[/<object>]] and GET /info.
//
// # One namespace with S3
//
// A container is an objectd bucket and an object a key: the same data S3
// serves. Container names are bucket names, global across the cluster
// as in S3. They follow Swift's rule (objectd.ValidContainerName: 1 to
// 256 bytes, no '/' or control characters; 400 otherwise, with the
// reason), so clients' conventions such as "<container>_segments" work;
// only containers whose names also follow S3's rules are reachable
// through S3. A container is a catalog bucket record owned by a
// project (Bucket.Owner = project ID, the account); its Swift metadata
// and ACLs are the record's Meta (lowercased header names). PUT of a
// container creates the record, then the bucket; 202 when the project
// already owns it; 409 when another project holds the name. From an
// account, another project's container is invisible (404) unless an ACL
// grants the caller access, in which case it can be reached through the
// owner's account or the caller's own. Account metadata is the
// project's Meta.
//
// Object metadata maps to S3's: X-Object-Meta-Foo is the user metadata
// "foo" (S3's x-amz-meta-foo), Content-Type the content type,
// Content-Encoding/-Disposition/-Language, Cache-Control and Expires
// stored headers, and the ETag is the MD5 of the content as in S3.
// Swift's own system metadata is kept in the object's stored headers
// under canonical names: X-Delete-At, X-Object-Manifest,
// X-Static-Large-Object (with X-Object-Sysmeta-Slo-Etag and
// X-Object-Sysmeta-Slo-Size). An object past X-Delete-At answers 404 and
// is deleted when next looked up.
//
// # Authorization
//
// X-Auth-Token (or X-Storage-Token) is validated by Config.Tokens. The
// account of the path must be the token's project, unless the token is
// root (an admin role on its own project grants nothing elsewhere).
// Readers may GET and HEAD, members and admins also write. Container
// ACLs (X-Container-Read, X-Container-Write) follow Swift's v1 ACLs
// under Keystone: "<project>:<user>" (ids, "*", or names in the default
// domain), ".r:<referrer>" and ".rlistings" for anyone, and role names
// for users of the owning project. A TempURL (temp_url_sig,
// temp_url_expires, temp_url_prefix; HMAC-SHA1/256/512 with the
// account's or the container's keys) grants GET, HEAD or PUT of one
// object or prefix. No token and no grant is 401, a token without the
// right 403.
//
// # Large objects
//
// Static large objects (PUT ?multipart-manifest=put) store the checked
// manifest as the object; GET concatenates the segments (ranges across
// segments, nested manifests to 10 levels, 409 beyond); segments may
// live in other containers, which the caller must be allowed to read.
// Dynamic large objects (X-Object-Manifest: container/prefix)
// concatenate the prefix's listing.
//
// # Costs
//
// The store keeps no per-bucket counters and its listings carry no
// content types, so: container and account object counts and bytes are
// computed by listing every object (O(objects) per HEAD or GET of an
// account or container); JSON and XML container listings HEAD each
// listed object (up to 16 at a time); a reversed listing reads the
// container up to the marker. POST of an object rewrites it onto itself
// (the store has no metadata-only update). A chunked upload is spooled
// (in memory up to 8 MiB, then a temporary file) because the store
// needs an object's size before its first byte.
//
// Container and account records are read from the local catalog view;
// on a miss the view is first brought up to date with the catalog's
// leader, so a container created through another node is found.
//
// Concurrency: a Server is immutable once built and safe for concurrent
// use. Concurrent writes to one object resolve in the store (the last
// commit wins); a POST or copy that finds its source changed under it
// starts again.
package swift
