package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CredentialStore maps access keys to their secrets.
type CredentialStore interface {
	// SecretKey returns the secret of accessKey, and false when the key is
	// unknown or disabled.
	SecretKey(accessKey string) (secret string, ok bool)
}

// Verifier checks the Signature Version 4 and Version 2 signatures of S3
// requests. Set the fields, then call Verify from any number of goroutines.
type Verifier struct {
	// Region the service answers for, e.g. "us-east-1" (the default when
	// empty). A header-signed request scoped to another region gets
	// ErrAuthorizationHeaderMalformed, a presigned one ErrAuthQueryParams.
	Region string
	// AnyRegion accepts requests signed for any region (the signature is
	// still checked, with the region the client used), as S3-compatible
	// servers with a single region do: clients such as minio-go sign with
	// the region a bucket was created for.
	AnyRegion bool
	// Creds resolves access keys. With none, every signed request gets
	// ErrInvalidAccessKeyID.
	Creds CredentialStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far a header-signed request's time may be from Now;
	// 0 means 15 minutes.
	MaxSkew time.Duration
	// Domains are the endpoint's host names for virtual-host-style
	// addressing, the same the S3 layer routes by: Host "b.<domain>[:port]"
	// addresses bucket b. Signature Version 2 signs that bucket as "/b"
	// before the path; Version 4 does not need them.
	Domains []string

	mu   sync.Mutex
	keys map[keyID][]byte
}

// Result is what an authenticated (or anonymous) request carries.
type Result struct {
	// AccessKey that signed the request; "" when Anonymous.
	AccessKey string
	// Anonymous: the request carried no authentication at all (no
	// Authorization header, no query authentication).
	Anonymous bool
	// Body is the payload to store: aws-chunked framing removed and chunk
	// signatures verified, a hex x-amz-content-sha256 verified at EOF. A
	// failed check makes Read return an error wrapping an *Error instead of
	// io.EOF. Closing it closes the request body.
	Body io.ReadCloser
	// ContentLength of the payload: x-amz-decoded-content-length for an
	// aws-chunked body, else the request's Content-Length; -1 when unknown.
	ContentLength int64
	// Trailer returns the trailing headers of an aws-chunked body, with
	// canonical names ("X-Amz-Checksum-Crc32c"). It returns nil until Body
	// has returned io.EOF, and for bodies without trailers.
	Trailer func() http.Header
}

// Payload hash keywords of x-amz-content-sha256.
const (
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingECDSAPrefix     = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

const (
	algorithm      = "AWS4-HMAC-SHA256"
	service        = "s3"
	terminator     = "aws4_request"
	iso8601        = "20060102T150405Z"
	yyyymmdd       = "20060102"
	defaultRegion  = "us-east-1"
	defaultSkew    = 15 * time.Minute
	maxPresignLife = 7 * 24 * time.Hour
	maxCachedKeys  = 256

	headerContentSHA = "X-Amz-Content-Sha256"
)

// auth is what the Authorization header or the query says about a request.
type auth struct {
	presigned     bool
	accessKey     string
	date          string // YYYYMMDD of the credential scope
	region        string
	scope         string // date/region/s3/aws4_request
	timestamp     string // request time as it enters the string to sign
	time          time.Time
	expires       time.Duration // presigned only
	signedHeaders []string
	signature     string
	payloadHash   string // last line of the canonical request
}

// Verify authenticates r and returns its payload. It reads no body: the
// checks that need the body happen as Result.Body is read.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	a, a2, err := v.parse(r)
	if err != nil {
		return nil, err
	}
	if a2 != nil {
		return v.verifyV2(r, a2)
	}
	if a == nil {
		return v.anonymous(r)
	}
	mode, err := payloadMode(a.payloadHash)
	if err != nil {
		return nil, err
	}

	secret, ok := v.secret(a.accessKey)
	if !ok {
		return nil, ErrInvalidAccessKeyID
	}
	if err := v.checkTime(a); err != nil {
		return nil, err
	}

	key := v.signingKey(secret, a.date, a.region)
	creq := canonicalRequest(r, a)
	sts := algorithm + "\n" + a.timestamp + "\n" + a.scope + "\n" + hexSHA256([]byte(creq))
	want := hex.EncodeToString(hmacSHA256(key, []byte(sts)))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return nil, ErrSignatureDoesNotMatch
	}

	res := &Result{AccessKey: a.accessKey, Trailer: noTrailer}
	signer := &chunkSigner{key: key, timestamp: a.timestamp, scope: a.scope, seed: want}
	if err := buildBody(res, r, mode, a.payloadHash, signer); err != nil {
		return nil, err
	}
	return res, nil
}

// anonymous builds the Result of a request without authentication. Its
// payload is handled as x-amz-content-sha256 says, except that a signed
// streaming payload cannot be checked without a signature.
func (v *Verifier) anonymous(r *http.Request) (*Result, error) {
	hash := r.Header.Get(headerContentSHA)
	mode := modeUnsigned
	if hash != "" {
		var err error
		if mode, err = payloadMode(hash); err != nil {
			return nil, err
		}
		if mode == modeSignedChunks || mode == modeSignedChunksTrailer {
			return nil, ErrAccessDenied.with("A signed streaming payload requires a signed request.")
		}
	}
	res := &Result{Anonymous: true, Trailer: noTrailer}
	if err := buildBody(res, r, mode, hash, nil); err != nil {
		return nil, err
	}
	return res, nil
}

func noTrailer() http.Header { return nil }

// parse finds the authentication of r: a Signature Version 4 one in the
// first result, a Version 2 one in the second, neither for an anonymous
// request.
func (v *Verifier) parse(r *http.Request) (*auth, *v2auth, error) {
	authz := r.Header.Values("Authorization")
	query := r.URL.Query()
	queryV4 := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	queryV2 := query.Has("AWSAccessKeyId") || query.Has("Signature")

	switch {
	case len(authz) > 0 && (queryV4 || queryV2), queryV4 && queryV2:
		return nil, nil, ErrMultipleAuth
	case len(authz) > 1:
		return nil, nil, ErrAuthorizationHeaderMalformed.with("The authorization header is malformed; more than one Authorization header.")
	case len(authz) == 1:
		if scheme, rest, _ := strings.Cut(authz[0], " "); scheme == v2Scheme {
			a2, err := parseV2Header(r, rest)
			return nil, a2, err
		}
		a, err := v.parseHeader(r, authz[0])
		return a, nil, err
	case queryV4:
		a, err := v.parseQuery(r, query)
		return a, nil, err
	case queryV2:
		a2, err := parseV2Query(query)
		return nil, a2, err
	}
	return nil, nil, nil
}

// parseHeader reads an Authorization header:
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
func (v *Verifier) parseHeader(r *http.Request, value string) (*auth, error) {
	scheme, rest, _ := strings.Cut(value, " ")
	if scheme != algorithm {
		// SigV4a, or a scheme S3 does not know.
		return nil, ErrUnsupportedSignature
	}
	malformed := func(msg string) error {
		return ErrAuthorizationHeaderMalformed.with("The authorization header is malformed; " + msg)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, malformed(fmt.Sprintf("the authorization component %q is malformed.", strings.TrimSpace(part)))
		}
		switch k {
		case "Credential", "SignedHeaders", "Signature":
		default:
			return nil, malformed(fmt.Sprintf("the authorization component %q is not known.", k))
		}
		if _, dup := fields[k]; dup {
			return nil, malformed(fmt.Sprintf("the authorization component %q is repeated.", k))
		}
		fields[k] = val
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if _, ok := fields[k]; !ok {
			return nil, malformed(fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}

	a := &auth{signature: fields["Signature"]}
	if msg := v.parseCredential(a, fields["Credential"]); msg != "" {
		return nil, malformed(msg)
	}
	var msg string
	if a.signedHeaders, msg = parseSignedHeaders(fields["SignedHeaders"]); msg != "" {
		return nil, malformed(msg)
	}

	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, err := time.Parse(iso8601, d)
		if err != nil || t.Format(iso8601) != d {
			return nil, ErrMissingDate
		}
		a.time = t
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, ErrMissingDate
		}
		a.time = t.UTC()
	} else {
		return nil, ErrMissingDate
	}
	a.timestamp = a.time.Format(iso8601)
	if a.time.Format(yyyymmdd) != a.date {
		return nil, ErrAuthorizationHeaderMalformed.with("Invalid credential date. Date is not the same as X-Amz-Date.")
	}

	// S3 clients always send x-amz-content-sha256; a request without it is
	// taken to have an empty body, which is then checked.
	a.payloadHash = r.Header.Get(headerContentSHA)
	if a.payloadHash == "" {
		a.payloadHash = emptySHA256
	}
	return a, nil
}

// parseQuery reads the authentication parameters of a presigned URL.
func (v *Verifier) parseQuery(r *http.Request, q map[string][]string) (*auth, error) {
	bad := func(msg string) error { return ErrAuthQueryParams.with(msg) }
	get := func(name string) (string, error) {
		vals := q[name]
		switch {
		case len(vals) == 0 || vals[0] == "":
			return "", ErrAuthQueryParams
		case len(vals) > 1:
			return "", bad(fmt.Sprintf("Query-string authentication parameter %s is repeated.", name))
		}
		return vals[0], nil
	}
	var vals [6]string
	for i, name := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		val, err := get(name)
		if err != nil {
			return nil, err
		}
		vals[i] = val
	}
	alg, cred, date, expires, signed, sig := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]
	if alg != algorithm {
		return nil, bad(`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`)
	}

	a := &auth{presigned: true, signature: sig}
	if msg := v.parseCredential(a, cred); msg != "" {
		return nil, bad("Error parsing the X-Amz-Credential parameter; " + msg)
	}
	var msg string
	if a.signedHeaders, msg = parseSignedHeaders(signed); msg != "" {
		return nil, bad("Error parsing the X-Amz-SignedHeaders parameter; " + msg)
	}
	t, err := time.Parse(iso8601, date)
	if err != nil || t.Format(iso8601) != date {
		return nil, bad(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	a.time, a.timestamp = t, date
	if t.Format(yyyymmdd) != a.date {
		return nil, bad("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	secs, err := strconv.ParseInt(expires, 10, 64)
	switch {
	case err != nil:
		return nil, bad("X-Amz-Expires should be a number")
	case secs < 0:
		return nil, bad("X-Amz-Expires must be non-negative")
	case secs > int64(maxPresignLife/time.Second):
		return nil, bad("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	a.expires = time.Duration(secs) * time.Second

	// A presigned URL signs no payload unless it says otherwise.
	a.payloadHash = unsignedPayload
	if h := q["X-Amz-Content-Sha256"]; len(h) > 0 {
		a.payloadHash = h[0]
	} else if h := r.Header.Get(headerContentSHA); h != "" {
		a.payloadHash = h
	}
	return a, nil
}

// parseCredential reads "AKID/YYYYMMDD/region/s3/aws4_request" into a and
// returns a message when it is malformed or scoped elsewhere.
func (v *Verifier) parseCredential(a *auth, cred string) string {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
	}
	a.accessKey, a.date, a.region = parts[0], parts[1], parts[2]
	if t, err := time.Parse(yyyymmdd, a.date); err != nil || t.Format(yyyymmdd) != a.date {
		return fmt.Sprintf("incorrect date format %q. This date in the credential must be in the format \"yyyyMMdd\".", a.date)
	}
	if want := v.region(); a.region != want && !(v.AnyRegion && validRegion(a.region)) {
		return fmt.Sprintf("the region '%s' is wrong; expecting '%s'", a.region, want)
	}
	if parts[3] != service {
		return fmt.Sprintf("incorrect service %q. This endpoint belongs to %q.", parts[3], service)
	}
	if parts[4] != terminator {
		return fmt.Sprintf("incorrect terminal %q. This endpoint uses %q.", parts[4], terminator)
	}
	a.scope = a.date + "/" + a.region + "/" + service + "/" + terminator
	return ""
}

// parseSignedHeaders reads "host;x-amz-date;..." which must be lowercase,
// sorted, without repeats, and include host.
func parseSignedHeaders(s string) ([]string, string) {
	names := strings.Split(s, ";")
	host := false
	for i, n := range names {
		if n == "" || !isToken(n) || strings.ToLower(n) != n {
			return nil, fmt.Sprintf("the signed header %q is not a lowercase header name.", n)
		}
		if i > 0 && names[i-1] >= n {
			return nil, "the signed headers are not sorted, or repeat a header."
		}
		host = host || n == "host"
	}
	if !host {
		return nil, "the host header must be signed."
	}
	return names, ""
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// checkTime applies the clock: skew for header-signed requests, validity
// window for presigned ones.
func (v *Verifier) checkTime(a *auth) error {
	now, skew := v.now(), v.skew()
	if a.presigned {
		if a.time.Sub(now) > skew {
			return ErrPresignNotYetValid
		}
		if now.After(a.time.Add(a.expires)) {
			return ErrExpiredPresign
		}
		return nil
	}
	if d := now.Sub(a.time); d > skew || d < -skew {
		return ErrRequestTimeTooSkewed
	}
	return nil
}

// secret returns the secret of accessKey, false when it is unknown.
func (v *Verifier) secret(accessKey string) (string, bool) {
	if v.Creds == nil {
		return "", false
	}
	return v.Creds.SecretKey(accessKey)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	if v.MaxSkew <= 0 {
		return defaultSkew
	}
	return v.MaxSkew
}

// validRegion accepts region names as clients write them: letters,
// digits, '-' and '_'.
func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (v *Verifier) region() string {
	if v.Region == "" {
		return defaultRegion
	}
	return v.Region
}

type keyID struct{ secret, date, region string }

// signingKey returns HMAC chain "AWS4"+secret -> date -> region -> s3 ->
// aws4_request, from the cache when it can.
func (v *Verifier) signingKey(secret, date, region string) []byte {
	id := keyID{secret, date, region}
	v.mu.Lock()
	key, ok := v.keys[id]
	v.mu.Unlock()
	if ok {
		return key
	}
	key = hmacSHA256([]byte("AWS4"+secret), []byte(date))
	key = hmacSHA256(key, []byte(region))
	key = hmacSHA256(key, []byte(service))
	key = hmacSHA256(key, []byte(terminator))

	v.mu.Lock()
	if v.keys == nil {
		v.keys = make(map[keyID][]byte)
	}
	if len(v.keys) >= maxCachedKeys {
		for k := range v.keys { // evict one arbitrary entry
			delete(v.keys, k)
			break
		}
	}
	v.keys[id] = key
	v.mu.Unlock()
	return key
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
