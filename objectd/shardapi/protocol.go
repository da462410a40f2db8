package shardapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Errors of this package. Answers that mean the same as a local disk's
// (a missing shard or key, a malformed data id, a closed disk) are
// returned as the disk package's errors instead.
var (
	// ErrUnreachable: the node did not answer (connection refused,
	// timeout), or the volume is down after such a failure and waits
	// for Options.RetryAfter before it is tried again.
	ErrUnreachable = errors.New("shardapi: node unreachable")
	// ErrNoSuchDisk: the node answered but serves no disk with this id.
	// It is not a missing key and does not wrap disk.ErrNotFound.
	ErrNoSuchDisk = errors.New("shardapi: no such disk")
	// ErrUnauthorized: the node refused the request's signature.
	ErrUnauthorized = errors.New("shardapi: unauthorized")
	// ErrConflict: a metadata transaction met concurrent changes on
	// every one of its attempts.
	ErrConflict = errors.New("shardapi: transaction kept conflicting")
	// ErrServer: the node failed the request for another reason.
	ErrServer = errors.New("shardapi: server error")
	// ErrProtocol: an answer this client does not understand.
	ErrProtocol = errors.New("shardapi: unexpected answer")
	// ErrSinkDone: a shard sink was used after Commit or Abort.
	ErrSinkDone = errors.New("shardapi: shard sink already finished")

	errAborted  = errors.New("shardapi: shard write aborted")
	errConflict = errors.New("shardapi: transaction conflict")
)

// Wire names.
const (
	pathPrefix = "/shard/v1/disks/"

	hdrDate    = "X-Basalt-Date"
	hdrAuth    = "X-Basalt-Auth"
	hdrError   = "X-Basalt-Error"   // machine-readable error code of an answer
	hdrHealing = "X-Basalt-Healing" // "true"/"false" on every answer about a disk

	// Error codes in X-Basalt-Error (and the JSON body's "code").
	codeNoSuchDisk = "no-such-disk"
	codeNotFound   = "not-found"
	codeCorrupt    = "corrupt"
	codeBadDataID  = "bad-data-id"
	codeBadRequest = "bad-request"
	codeClosed     = "closed"
	codeUnhealthy  = "unhealthy"
	codeConflict   = "conflict"
	codeAuth       = "unauthorized"
	codeInternal   = "internal"

	// maxSkew is how far a request's date may be from the server's clock.
	maxSkew = 5 * time.Minute

	// maxRange is the most bytes one ranged GET returns; a longer ReadAt
	// issues several.
	maxRange = 1 << 20

	// Page sizes of iterator requests.
	defaultPage = 256
	maxPage     = 1000

	// maxAttempts bounds how often a metadata transaction runs.
	maxAttempts = 32

	// Request body limits of the JSON calls.
	maxTxnBody   = 64 << 20
	maxSmallBody = 1 << 20
)

// sign is the request MAC: hex(HMAC-SHA256(secret, method "\n" escaped
// path "?" raw query "\n" date)).
func sign(secret []byte, method, escPath, rawQuery, date string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method + "\n" + escPath + "?" + rawQuery + "\n" + date))
	return hex.EncodeToString(m.Sum(nil))
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// Reads are the current values of a conflicting transaction's read
	// keys (409 only), so that its next attempt starts from them.
	Reads []txnRead `json:"reads,omitempty"`
	// Token, on a 409, reserves the conflicting keys for a short while
	// for the retry that carries it.
	Token string `json:"token,omitempty"`
}

type txnRead struct {
	K      []byte `json:"k"`
	V      []byte `json:"v,omitempty"`
	Absent bool   `json:"absent,omitempty"`
}

type txnWrite struct {
	K   []byte `json:"k"`
	V   []byte `json:"v,omitempty"`
	Del bool   `json:"del,omitempty"`
}

type txnRequest struct {
	Reads  []txnRead  `json:"reads"`
	Writes []txnWrite `json:"writes"`
	// Token is the reservation of the conflict answer this attempt
	// follows, if any.
	Token string `json:"token,omitempty"`
}

type iterRequest struct {
	Prefix []byte `json:"prefix"`
	Start  []byte `json:"start"`
	Limit  int    `json:"limit"`
	Values bool   `json:"values"`
}

type iterItem struct {
	K []byte `json:"k"`
	V []byte `json:"v,omitempty"`
}

type iterResponse struct {
	Items []iterItem `json:"items"`
	More  bool       `json:"more"`
}
