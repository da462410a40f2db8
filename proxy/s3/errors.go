package s3

import (
	"context"
	"errors"
	"net/http"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/checksum"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// APIError is an S3 error: the code and HTTP status S3 uses for it and a
// human-readable message. It is what every handler failure becomes before it
// is written as an <Error> document.
type APIError struct {
	Code    string
	Status  int
	Message string
}

func (e *APIError) Error() string { return "s3: " + e.Code + ": " + e.Message }

// Is lets errors.Is match a copy with another message against the catalog entry.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code && t.Status == e.Status
}

// withMessage returns a copy of e carrying another message.
func (e *APIError) withMessage(msg string) *APIError {
	c := *e
	c.Message = msg
	return &c
}

// The S3 errors this package writes, with S3's codes, statuses and messages.
var (
	ErrAccessDenied              = &APIError{"AccessDenied", http.StatusForbidden, "Access Denied."}
	ErrBadDigest                 = &APIError{"BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received."}
	ErrBucketAlreadyExists       = &APIError{"BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."}
	ErrBucketAlreadyOwnedByYou   = &APIError{"BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."}
	ErrBucketNotEmpty            = &APIError{"BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty."}
	ErrEntityTooLarge            = &APIError{"EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."}
	ErrEntityTooSmall            = &APIError{"EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."}
	ErrIncompleteBody            = &APIError{"IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	ErrInternalError             = &APIError{"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."}
	ErrInvalidArgument           = &APIError{"InvalidArgument", http.StatusBadRequest, "Invalid Argument."}
	ErrInvalidBucketName         = &APIError{"InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."}
	ErrInvalidDigest             = &APIError{"InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."}
	ErrInvalidLocationConstraint = &APIError{"InvalidLocationConstraint", http.StatusBadRequest, "The specified location constraint is not valid."}
	ErrInvalidPart               = &APIError{"InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."}
	ErrInvalidPartOrder          = &APIError{"InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."}
	ErrInvalidPartNumber         = &APIError{"InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable."}
	ErrInvalidRange              = &APIError{"InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable."}
	ErrInvalidRequest            = &APIError{"InvalidRequest", http.StatusBadRequest, "Invalid Request."}
	ErrKeyTooLong                = &APIError{"KeyTooLongError", http.StatusBadRequest, "Your key is too long."}
	ErrMalformedXML              = &APIError{"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."}
	ErrMetadataTooLarge          = &APIError{"MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."}
	ErrMethodNotAllowed          = &APIError{"MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."}
	ErrMissingContentLength      = &APIError{"MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."}
	ErrMissingContentMD5         = &APIError{"InvalidRequest", http.StatusBadRequest, "Missing required header for this request: Content-MD5."}
	ErrNoSuchBucket              = &APIError{"NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist"}
	ErrNoSuchKey                 = &APIError{"NoSuchKey", http.StatusNotFound, "The specified key does not exist."}
	ErrNoSuchUpload              = &APIError{"NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist. The upload ID might not be valid, or the multipart upload might have been aborted or completed."}
	ErrNotImplemented            = &APIError{"NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented."}
	ErrNotModified               = &APIError{"NotModified", http.StatusNotModified, "Not Modified."}
	ErrPreconditionFailed        = &APIError{"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold."}
	ErrRequestTimeout            = &APIError{"RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period."}
	ErrSlowDown                  = &APIError{"SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate."}
	ErrServiceUnavailable        = &APIError{"ServiceUnavailable", http.StatusServiceUnavailable, "The service is unable to handle the request: too few disks answered. Please retry."}
	ErrClientClosed              = &APIError{"RequestCanceled", 499, "The client closed the request."}

	ErrNoSuchBucketPolicy         = &APIError{"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist."}
	ErrNoSuchTagSet               = &APIError{"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist."}
	ErrNoSuchCORSConfiguration    = &APIError{"NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist."}
	ErrNoSuchLifecycle            = &APIError{"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist."}
	ErrNoSuchEncryption           = &APIError{"ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound, "The server side encryption configuration was not found."}
	ErrNoSuchObjectLock           = &APIError{"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket."}
	ErrNoSuchWebsite              = &APIError{"NoSuchWebsiteConfiguration", http.StatusNotFound, "The specified bucket does not have a website configuration."}
	ErrNoSuchReplication          = &APIError{"ReplicationConfigurationNotFoundError", http.StatusNotFound, "The replication configuration was not found."}
	ErrNoSuchPublicAccessBlock    = &APIError{"NoSuchPublicAccessBlockConfiguration", http.StatusNotFound, "The public access block configuration was not found."}
	ErrNoSuchOwnershipControls    = &APIError{"OwnershipControlsNotFoundError", http.StatusNotFound, "The bucket ownership controls were not found."}
	ErrInvalidVersionID           = &APIError{"InvalidArgument", http.StatusBadRequest, "Invalid version id specified."}
	ErrInvalidMaxKeys             = &APIError{"InvalidArgument", http.StatusBadRequest, "Argument max-keys must be an integer between 0 and 2147483647."}
	ErrInvalidEncodingType        = &APIError{"InvalidArgument", http.StatusBadRequest, "Invalid Encoding Method specified in Request."}
	ErrInvalidContinuationToken   = &APIError{"InvalidArgument", http.StatusBadRequest, "The continuation token provided is incorrect."}
	ErrInvalidPartNumberArg       = &APIError{"InvalidArgument", http.StatusBadRequest, "Part number must be an integer between 1 and 10000, inclusive."}
	ErrInvalidCopySource          = &APIError{"InvalidArgument", http.StatusBadRequest, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey."}
	ErrInvalidCopySourceRange     = &APIError{"InvalidArgument", http.StatusBadRequest, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy."}
	ErrInvalidMetadataDirective   = &APIError{"InvalidArgument", http.StatusBadRequest, "Unknown metadata directive."}
	ErrCopyToItself               = &APIError{"InvalidRequest", http.StatusBadRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."}
	ErrCopySourceTooLarge         = &APIError{"InvalidRequest", http.StatusBadRequest, "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120."}
	ErrRangeAndPartNumber         = &APIError{"InvalidRequest", http.StatusBadRequest, "Cannot specify both Range header and partNumber query parameter."}
	ErrInvalidStorageClass        = &APIError{"InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid."}
	ErrInvalidChecksumAlgorithm   = &APIError{"InvalidRequest", http.StatusBadRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256, MD5, SHA512, XXHASH64, XXHASH3, XXHASH128]."}
	ErrMultipleChecksums          = &APIError{"InvalidRequest", http.StatusBadRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."}
	ErrInvalidChecksumType        = &APIError{"InvalidRequest", http.StatusBadRequest, "Value for x-amz-checksum-type header is invalid."}
	ErrChecksumTypeUnsupported    = &APIError{"InvalidRequest", http.StatusBadRequest, "The checksum type is not supported for this checksum algorithm."}
	ErrChecksumAlgorithmMismatch  = &APIError{"InvalidRequest", http.StatusBadRequest, "Checksum Type mismatch occurred: the checksum of the part does not use the algorithm of the upload."}
	ErrMissingChecksum            = &APIError{"InvalidRequest", http.StatusBadRequest, "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found."}
	ErrSSECNotImplemented         = &APIError{"NotImplemented", http.StatusNotImplemented, "Server-side encryption with customer-provided keys is not implemented."}
	ErrObjectLockNotImplemented   = &APIError{"NotImplemented", http.StatusNotImplemented, "Object Lock is not implemented."}
	ErrIncorrectNumberOfFilesPost = &APIError{"IncorrectNumberOfFilesInPostRequest", http.StatusBadRequest, "POST requires exactly one file upload per request."}
	ErrMalformedPOSTRequest       = &APIError{"MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data."}
	ErrPostNotMultipart           = &APIError{"PreconditionFailed", http.StatusPreconditionFailed, "Bucket POST must be of the enclosure-type multipart/form-data."}
	ErrMaxPostPreDataLength       = &APIError{"MaxPostPreDataLengthExceededError", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large."}
	ErrInvalidPolicyDocument      = &APIError{"InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document."}
	ErrTooManyKeys                = &APIError{"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema: at most 1000 keys may be deleted at once."}
	ErrNoSuchVersion              = &APIError{"NoSuchVersion", http.StatusNotFound, "The specified version does not exist."}
)

// Errors of tagging, CORS and lifecycle configuration (tagging.go, cors.go,
// lifecycle.go), with S3's codes and messages.
var (
	ErrInvalidTagKey           = &APIError{"InvalidTag", http.StatusBadRequest, "The TagKey you have provided is invalid"}
	ErrInvalidTagValue         = &APIError{"InvalidTag", http.StatusBadRequest, "The TagValue you have provided is invalid"}
	ErrDuplicateTagKey         = &APIError{"InvalidTag", http.StatusBadRequest, "Cannot provide multiple Tags with the same key"}
	ErrReservedTagKey          = &APIError{"InvalidTag", http.StatusBadRequest, "Your TagKey cannot be prefixed with aws:"}
	ErrTooManyObjectTags       = &APIError{"BadRequest", http.StatusBadRequest, "Object tags cannot be greater than 10"}
	ErrTooManyBucketTags       = &APIError{"BadRequest", http.StatusBadRequest, "Bucket tag count cannot be greater than 50"}
	ErrInvalidTaggingHeader    = &APIError{"InvalidArgument", http.StatusBadRequest, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."}
	ErrInvalidTaggingDirective = &APIError{"InvalidArgument", http.StatusBadRequest, "Unknown tagging directive."}
	ErrCORSNotAllowed          = &APIError{"AccessForbidden", http.StatusForbidden, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."}
	ErrCORSNotEnabled          = &APIError{"AccessForbidden", http.StatusForbidden, "CORSResponse: CORS is not enabled for this bucket."}
	ErrCORSNoBucket            = &APIError{"AccessForbidden", http.StatusForbidden, "CORSResponse: Bucket not found"}
	ErrCORSNoOrigin            = &APIError{"BadRequest", http.StatusBadRequest, "Insufficient information. Origin request header needed."}
	ErrCORSBadMethod           = &APIError{"BadRequest", http.StatusBadRequest, "Invalid Access-Control-Request-Method: null"}
	ErrNoSettingsStore         = &APIError{"NotImplemented", http.StatusNotImplemented, "This server keeps no catalog: bucket configurations cannot be stored."}
	ErrSettingsTooLarge        = &APIError{"InvalidRequest", http.StatusBadRequest, "The bucket's configurations together exceed the 65536 bytes a bucket may hold."}
	ErrNoLifecycleAction       = &APIError{"InvalidRequest", http.StatusBadRequest, "At least one action needs to be specified in a rule"}
	ErrTransitionNotSupported  = &APIError{"NotImplemented", http.StatusNotImplemented, "Transition actions are not implemented: every object is kept in the one storage class."}
)

// Errors of bucket policies, ACLs, public access blocks and ownership
// controls (policy.go, acl.go, access.go), with S3's codes and messages.
var (
	ErrMalformedPolicy               = &APIError{"MalformedPolicy", http.StatusBadRequest, "This policy contains invalid Json"}
	ErrMalformedACL                  = &APIError{"MalformedACLError", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."}
	ErrACLNotSupported               = &APIError{"AccessControlListNotSupported", http.StatusBadRequest, "The bucket does not allow ACLs"}
	ErrInvalidBucketACLWithOwnership = &APIError{"InvalidBucketAclWithObjectOwnership", http.StatusBadRequest, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
	ErrUnresolvableGrantByEmail      = &APIError{"UnresolvableGrantByEmailAddress", http.StatusBadRequest, "The email address you provided does not match any account on record."}
	ErrCannedAndGrants               = &APIError{"InvalidRequest", http.StatusBadRequest, "Specifying both Canned ACLs and Header Grants is not allowed"}
	ErrUnexpectedContent             = &APIError{"UnexpectedContent", http.StatusBadRequest, "This request does not support content"}
)

// checksumMismatch is the BadDigest error S3 gives when an additional
// checksum does not match the body.
func checksumMismatch(a checksum.Algorithm) *APIError {
	return ErrBadDigest.withMessage("The " + lowerHeader(a) + " you specified did not match the calculated checksum.")
}

// invalidChecksumValue is the error for a malformed x-amz-checksum-* value.
func invalidChecksumValue(a checksum.Algorithm) *APIError {
	return ErrInvalidRequest.withMessage("Value for " + lowerHeader(a) + " header is invalid.")
}

// toAPIError maps any error a handler meets to the S3 error to answer with.
// It knows the object layer's sentinels, the authentication errors, the
// checksum errors and cancellation; anything else is an InternalError.
func toAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &APIError{Code: se.Code, Status: se.Status, Message: se.Message}
	}
	var ce *checksumError
	if errors.As(err, &ce) {
		if errors.Is(err, checksum.ErrMismatch) {
			return checksumMismatch(ce.alg)
		}
		return invalidChecksumValue(ce.alg)
	}
	switch {
	case errors.Is(err, objectd.ErrNoSuchBucket):
		return ErrNoSuchBucket
	case errors.Is(err, objectd.ErrBucketExists):
		return ErrBucketAlreadyOwnedByYou
	case errors.Is(err, objectd.ErrBucketNotEmpty):
		return ErrBucketNotEmpty
	case errors.Is(err, objectd.ErrNoSuchKey):
		return ErrNoSuchKey
	case errors.Is(err, objectd.ErrNoSuchUpload):
		return ErrNoSuchUpload
	case errors.Is(err, objectd.ErrInvalidPart):
		return ErrInvalidPart
	case errors.Is(err, objectd.ErrInvalidPartOrder):
		return ErrInvalidPartOrder
	case errors.Is(err, objectd.ErrEntityTooSmall):
		return ErrEntityTooSmall
	case errors.Is(err, objectd.ErrEntityTooLarge):
		return ErrEntityTooLarge
	case errors.Is(err, objectd.ErrBadDigest):
		return ErrBadDigest
	case errors.Is(err, objectd.ErrIncompleteBody), errors.Is(err, errBodyTooShort):
		return ErrIncompleteBody
	case errors.Is(err, objectd.ErrInvalidRange):
		return ErrInvalidRange
	case errors.Is(err, objectd.ErrWriteQuorum), errors.Is(err, objectd.ErrReadQuorum):
		return ErrServiceUnavailable
	case errors.Is(err, objectd.ErrInvalidArgument):
		return ErrInvalidArgument
	case errors.Is(err, objectd.ErrPreconditionFailed):
		return ErrPreconditionFailed
	case errors.Is(err, checksum.ErrMismatch):
		return ErrBadDigest.withMessage("The checksum you specified did not match the calculated checksum.")
	case errors.Is(err, context.Canceled):
		return ErrClientClosed
	case errors.Is(err, context.DeadlineExceeded):
		return ErrRequestTimeout
	}
	return ErrInternalError
}
