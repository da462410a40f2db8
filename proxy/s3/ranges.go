package s3

import (
	"strconv"
	"strings"
)

// byteRange is one parsed "bytes=" range before it is resolved against an
// object's size. Suffix ranges ("bytes=-N") have Suffix set and Start = N.
type byteRange struct {
	Start, End int64 // End < 0: open ("bytes=N-")
	Suffix     bool
}

// parseRange parses a Range header the way S3 does: only a single range of
// unit "bytes" is honoured; a header that is malformed or names several
// ranges is ignored (ok is false) and the whole object is sent.
func parseRange(h string) (r byteRange, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, err := parseOffset(last)
		if err != nil {
			return byteRange{}, false
		}
		return byteRange{Start: n, End: -1, Suffix: true}, true
	}
	start, err := parseOffset(first)
	if err != nil {
		return byteRange{}, false
	}
	if last == "" {
		return byteRange{Start: start, End: -1}, true
	}
	end, err := parseOffset(last)
	if err != nil || end < start {
		return byteRange{}, false
	}
	return byteRange{Start: start, End: end}, true
}

// parseOffset parses a non-negative decimal with digits only.
func parseOffset(s string) (int64, error) {
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// resolve turns the range into an offset and length within an object of the
// given size. It fails with ErrInvalidRange when no byte of the range exists.
func (r byteRange) resolve(size int64) (offset, length int64, err error) {
	if r.Suffix {
		if r.Start == 0 || size == 0 {
			return 0, 0, ErrInvalidRange
		}
		n := min(r.Start, size)
		return size - n, n, nil
	}
	if r.Start >= size {
		return 0, 0, ErrInvalidRange
	}
	end := r.End
	if end < 0 || end >= size {
		end = size - 1
	}
	return r.Start, end - r.Start + 1, nil
}

// parseCopySourceRange parses x-amz-copy-source-range, which must be
// "bytes=first-last" with first <= last (S3 accepts nothing else there) and
// resolves it against the source size: a malformed value is InvalidArgument,
// a range beyond the source is InvalidRange.
func parseCopySourceRange(h string, size int64) (offset, length int64, err error) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found {
		return 0, 0, ErrInvalidCopySourceRange
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, ErrInvalidCopySourceRange
	}
	start, err1 := parseOffset(first)
	end, err2 := parseOffset(last)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, ErrInvalidCopySourceRange
	}
	if end >= size {
		return 0, 0, ErrInvalidRange.withMessage("Range specified is not valid for source object of size: " + strconv.FormatInt(size, 10))
	}
	return start, end - start + 1, nil
}
