// Package shardapi is the internal shard API between the nodes of a
// cluster: Handler serves this node's local disks to the other nodes, and
// Volume is a disk of another node as a disk.Volume. It runs on its own
// listener, never reachable by S3 clients.
//
// Protocol (HTTP/1.1, paths under /shard/v1/disks/{id}/, {id} the disk's
// id as the serving node resolves it: the ring's disk id in a server):
//
//	GET    health              204, or 503 with the error (X-Basalt-Healing: true|false)
//	PUT    shards/{dataID}     chunked body; committed only if the body ended cleanly: 204
//	HEAD   shards/{dataID}     200, or 404
//	GET    shards/{dataID}     Range: bytes=a-b (at most 1 MiB) -> 206; 416 past the end
//	DELETE shards/{dataID}     204, a missing shard included
//	GET    meta?key=<base64url> 200 value, or 404
//	POST   txn                 {"reads":[{k,v,absent}],"writes":[{k,v,del}],"token"} -> 204, or 409
//	POST   iter                {"prefix","start","limit","values"} -> {"items":[{k,v}],"more"}
//	GET    healing, PUT healing  body "true" or "false"
//
// Every answer about a disk carries X-Basalt-Healing, the disk's state
// when the request began; the client keeps the last one it saw (Healing),
// so a "not found" is judged by the state of the disk that gave it.
//
// Every request carries X-Basalt-Date (unix nanoseconds) and
// X-Basalt-Auth = hex(HMAC-SHA256(secret, method "\n" escaped path "?"
// raw query "\n" date)); a missing or wrong MAC, or a date more than five
// minutes off, is 401 before anything else is looked at. The MAC does not
// cover bodies: the API relies on a private network against tampering,
// the secret only keeps strangers out.
//
// Error answers have a JSON body {"error","code"} and the code in
// X-Basalt-Error: no-such-disk (404, an unknown disk id, which the client
// does not report as a missing key), not-found (404), bad-data-id (400),
// closed (503), conflict (409), internal (500).
//
// A transaction is optimistic: the client runs fn with reads fetched from
// the node (or from its own buffered writes) and writes buffered, then
// posts both. The node locks the striped mutexes of every key read or
// written (in order, so no deadlock), re-reads each read key in a local
// Update and applies the writes only if none changed; else 409 with the
// current values and a token that reserves those keys for 100 ms: other
// writers of them wait until the retry carrying the token commits (or the
// reservation expires), so that a slow remote writer is not starved by
// fast local ones. fn runs again at most 32 times. Code on the serving
// node that updates a served disk's metadata itself must use Handler.Local
// so that its updates take the same locks.
//
// A Volume that failed to reach its node (connection refused, timeout,
// closed disk) is down: Failed is true and calls fail at once with
// ErrUnreachable until Options.RetryAfter has passed since the last
// failure; a successful call clears it. Healthy, the probe, always goes
// through, so that a node that is back is seen at once.
//
// Concurrency: a Handler and a Volume are safe for concurrent use; a
// shard sink, a shard source's ReadAt and an iterator belong to one
// goroutine at a time (the source's ReadAt is in fact safe concurrently).
// The http.Server running the Handler must not have a ReadTimeout
// shorter than a shard upload.
package shardapi
