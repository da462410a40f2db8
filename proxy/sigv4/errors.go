package sigv4

import "net/http"

// Error is an authentication failure as S3 reports it: Code is the S3 error
// code for the XML body, Status the HTTP status, Message the human text.
//
// Verify and the Result's Body return either one of the predefined values
// below or an *Error derived from one with a more precise Message (the
// region that was wrong, the parameter that was missing). errors.Is(err,
// ErrX) reports whether err is ErrX or derives from it; errors.As gives the
// *Error whose Code, Status and Message a handler writes back.
type Error struct {
	Code    string
	Status  int
	Message string

	kind *Error // the predefined value this one derives from; nil for those
}

// Error implements error.
func (e *Error) Error() string { return "sigv4: " + e.Code + ": " + e.Message }

// Is reports whether target is e or the predefined value e derives from.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return e == t || (e.kind != nil && e.kind == t)
}

// with returns an error of the same kind as e with a precise message.
func (e *Error) with(msg string) *Error {
	kind := e
	if e.kind != nil {
		kind = e.kind
	}
	return &Error{Code: e.Code, Status: e.Status, Message: msg, kind: kind}
}

func newError(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// The errors Verify and Result.Body return, with the codes, statuses and
// messages Amazon S3 uses for the same conditions.
var (
	// ErrAccessDenied: the request needs authentication it does not carry.
	// Verify itself returns it for an anonymous request that claims a
	// signed streaming payload; handlers return it for anonymous requests
	// to resources that are not public.
	ErrAccessDenied = newError("AccessDenied", http.StatusForbidden, "Access Denied")
	// ErrSignatureDoesNotMatch: a request, chunk or trailer signature is wrong.
	ErrSignatureDoesNotMatch = newError("SignatureDoesNotMatch", http.StatusForbidden,
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	// ErrInvalidAccessKeyID: the credential names an unknown access key.
	ErrInvalidAccessKeyID = newError("InvalidAccessKeyId", http.StatusForbidden,
		"The AWS Access Key Id you provided does not exist in our records.")
	// ErrRequestTimeTooSkewed: the request time is too far from the server's.
	ErrRequestTimeTooSkewed = newError("RequestTimeTooSkewed", http.StatusForbidden,
		"The difference between the request time and the current time is too large.")
	// ErrExpiredPresign: a presigned URL used after X-Amz-Date +
	// X-Amz-Expires (Signature Version 4) or after Expires (Version 2).
	ErrExpiredPresign = newError("AccessDenied", http.StatusForbidden, "Request has expired")
	// ErrPresignNotYetValid: a presigned URL used before its X-Amz-Date.
	ErrPresignNotYetValid = newError("AccessDenied", http.StatusForbidden, "Request is not valid yet")
	// ErrAuthorizationHeaderMalformed: the Authorization header cannot be
	// parsed, or its scope names another region, service or date.
	ErrAuthorizationHeaderMalformed = newError("AuthorizationHeaderMalformed", http.StatusBadRequest,
		"The authorization header is malformed.")
	// ErrAuthQueryParams: the X-Amz-* query parameters of a presigned URL
	// are missing, malformed, or scoped to another region, service or date.
	ErrAuthQueryParams = newError("AuthorizationQueryParametersError", http.StatusBadRequest,
		"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	// ErrMissingDate: a header-signed request with no valid X-Amz-Date or Date.
	ErrMissingDate = newError("AccessDenied", http.StatusForbidden,
		"AWS authentication requires a valid Date or x-amz-date header")
	// ErrMultipleAuth: both an Authorization header and query authentication.
	ErrMultipleAuth = newError("InvalidArgument", http.StatusBadRequest,
		"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	// ErrInvalidContentSHA256: x-amz-content-sha256 is neither a known
	// keyword nor a SHA-256 in hex.
	ErrInvalidContentSHA256 = newError("InvalidArgument", http.StatusBadRequest,
		"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	// ErrContentSHA256Mismatch: the body does not hash to x-amz-content-sha256.
	ErrContentSHA256Mismatch = newError("XAmzContentSHA256Mismatch", http.StatusBadRequest,
		"The provided 'x-amz-content-sha256' header does not match what was computed.")
	// ErrIncompleteBody: the body ended before Content-Length or
	// x-amz-decoded-content-length bytes.
	ErrIncompleteBody = newError("IncompleteBody", http.StatusBadRequest,
		"You did not provide the number of bytes specified by the Content-Length HTTP header.")
	// ErrMalformedChunk: the aws-chunked framing is broken (bad size or
	// chunk header, missing CRLF, a signed chunk over 16 MiB, more data than
	// declared). S3 answers every such body with IncompleteBody.
	ErrMalformedChunk = newError("IncompleteBody", http.StatusBadRequest,
		"The request body terminated unexpectedly")
	// ErrMalformedTrailer: the trailer section of an aws-chunked body is
	// malformed, or does not carry exactly the trailers x-amz-trailer named.
	ErrMalformedTrailer = newError("MalformedTrailerError", http.StatusBadRequest,
		"The request contained trailing data that was not well-formed or did not conform to our published schema.")
	// ErrInvalidDecodedLength: x-amz-decoded-content-length is not a
	// non-negative integer.
	ErrInvalidDecodedLength = newError("InvalidArgument", http.StatusBadRequest,
		"x-amz-decoded-content-length must be a non-negative integer.")
	// ErrMissingContentLength: for handlers of operations that need a
	// length (PutObject, UploadPart) when Result.ContentLength is -1.
	// Verify does not return it: an aws-chunked body without
	// x-amz-decoded-content-length is accepted with an unknown length.
	ErrMissingContentLength = newError("MissingContentLength", http.StatusLengthRequired,
		"You must provide the Content-Length HTTP header.")
	// ErrInvalidDigest: for handlers, a Content-MD5 that is not the base64
	// of 16 bytes. Verify does not look at Content-MD5.
	ErrInvalidDigest = newError("InvalidDigest", http.StatusBadRequest,
		"The Content-MD5 you specified is not valid.")
	// ErrUnsupportedSignature: SigV4a (AWS4-ECDSA-P256-SHA256), or an
	// Authorization scheme that is neither "AWS4-HMAC-SHA256" nor "AWS".
	ErrUnsupportedSignature = newError("InvalidRequest", http.StatusBadRequest,
		"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	// ErrInvalidV2Authorization: a Signature Version 2 Authorization header
	// that is not "AWS AccessKeyId:Signature".
	ErrInvalidV2Authorization = newError("InvalidArgument", http.StatusBadRequest,
		"AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
	// ErrV2QueryParams: Signature Version 2 query authentication without
	// one of AWSAccessKeyId, Signature and Expires, with one repeated, or
	// with an Expires that is not a number of seconds.
	ErrV2QueryParams = newError("AccessDenied", http.StatusForbidden,
		"Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
)
