package s3

import (
	"strings"
	"unicode/utf8"

	"github.com/basaltstore/basalt/objectd"
)

// validBucketName reports whether name follows S3's rules for new bucket
// names: 3 to 63 characters of lowercase letters, digits, '.' and '-',
// beginning and ending with a letter or digit, without "..", not formatted
// as an IPv4 address, and without the prefixes and suffixes S3 reserves.
func validBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
		default:
			return false
		}
	}
	if strings.Contains(name, "..") || looksLikeIPv4(name) {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// looksLikeIPv4 reports whether s is four dot-separated groups of 1 to 3 digits.
func looksLikeIPv4(s string) bool {
	groups := strings.Split(s, ".")
	if len(groups) != 4 {
		return false
	}
	for _, g := range groups {
		if len(g) == 0 || len(g) > 3 {
			return false
		}
		for i := 0; i < len(g); i++ {
			if g[i] < '0' || g[i] > '9' {
				return false
			}
		}
	}
	return true
}

// checkKey validates an object key: at most 1024 bytes of UTF-8.
func checkKey(key string) error {
	if len(key) > objectd.MaxKeyLength {
		return ErrKeyTooLong
	}
	if !utf8.ValidString(key) {
		return ErrInvalidArgument.withMessage("Object key is not valid UTF-8.")
	}
	return nil
}
