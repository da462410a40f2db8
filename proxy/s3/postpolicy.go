package s3

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// This file is the pure core of browser-based POST uploads: the POST policy
// document (decoding, conditions, expiry), the form's signatures, and the
// ${filename} variable. It does no I/O; post.go drives it.

// Condition operators of a POST policy.
const (
	condEq         = "eq"
	condStartsWith = "starts-with"
)

// postPolicy is a decoded POST policy document:
//
//	{ "expiration": "2007-12-01T12:00:00.000Z",
//	  "conditions": [ {"bucket": "b"}, ["starts-with", "$key", "user/"],
//	                  ["content-length-range", 1, 1048576] ] }
type postPolicy struct {
	expiration time.Time
	conditions []postCondition
	// hasRange is set when the policy has a content-length-range; then
	// minLength..maxLength (inclusive) bounds the file size, several ranges
	// narrowing each other.
	hasRange             bool
	minLength, maxLength int64
}

// postCondition is one eq or starts-with condition on a form field.
type postCondition struct {
	op    string // condEq or condStartsWith
	field string // form field name in lower case, without "$"
	value string
	text  string // the condition as S3 quotes it: ["eq", "$key", "v"]
}

// invalidPolicy is the InvalidPolicyDocument error with S3's "Invalid
// Policy: ..." message.
func invalidPolicy(msg string) *APIError {
	return ErrInvalidPolicyDocument.withMessage("Invalid Policy: " + msg)
}

// policyDenied is the AccessDenied error S3 gives for a form that the
// policy does not allow.
func policyDenied(msg string) *APIError {
	return ErrAccessDenied.withMessage("Invalid according to Policy: " + msg)
}

// decodePolicy decodes the base64 policy form field.
func decodePolicy(b64 string) ([]byte, error) {
	doc, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, invalidPolicy("Invalid Base64 encoding.")
	}
	return doc, nil
}

// parsePostPolicy parses a policy document (already base64-decoded).
// Structural faults are InvalidPolicyDocument errors.
func parsePostPolicy(doc []byte) (*postPolicy, error) {
	var top map[string]json.RawMessage
	if err := strictJSON(doc, &top); err != nil || top == nil {
		return nil, invalidPolicy("Invalid JSON.")
	}
	p := &postPolicy{}
	rawExp, ok := top["expiration"]
	if !ok {
		return nil, invalidPolicy("Policy missing expiration.")
	}
	var exp string
	if err := json.Unmarshal(rawExp, &exp); err != nil {
		return nil, invalidPolicy("Invalid 'expiration' value: must be a string.")
	}
	t, err := time.Parse(time.RFC3339Nano, exp)
	if err != nil {
		return nil, invalidPolicy("Invalid 'expiration' value: '" + exp + "'")
	}
	p.expiration = t
	rawConds, ok := top["conditions"]
	if !ok {
		return nil, invalidPolicy("Policy missing conditions.")
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(rawConds, &conds); err != nil || conds == nil {
		return nil, invalidPolicy("Invalid 'conditions' value: must be a List.")
	}
	for _, raw := range conds {
		if err := p.addCondition(raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// strictJSON decodes one JSON value that must be the whole document,
// keeping numbers as json.Number.
func strictJSON(doc []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimSpace(doc[dec.InputOffset():])) > 0 {
		return errTrailingJSON
	}
	return nil
}

// errTrailingJSON reports data after a JSON value that should end its text.
var errTrailingJSON = errors.New("s3: trailing data after JSON value")

// addCondition parses one element of "conditions".
func (p *postPolicy) addCondition(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		// {"field": "value"}: an exact match.
		var obj map[string]json.RawMessage
		if err := strictJSON(raw, &obj); err != nil {
			return invalidPolicy("Invalid JSON.")
		}
		if len(obj) != 1 {
			return invalidPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for name, rv := range obj {
			var v string
			if err := json.Unmarshal(rv, &v); err != nil {
				return invalidPolicy("Invalid Simple-Condition: value must be a string.")
			}
			p.conditions = append(p.conditions, postCondition{
				op: condEq, field: strings.ToLower(strings.TrimPrefix(name, "$")), value: v,
				text: condText(condEq, "$"+strings.TrimPrefix(name, "$"), v),
			})
		}
		return nil
	}
	var arr []any
	if err := strictJSON(raw, &arr); err != nil || arr == nil {
		return invalidPolicy("Invalid Condition: must be a List or a Simple-Condition.")
	}
	if len(arr) != 3 {
		return invalidPolicy("Invalid Condition: wrong number of arguments.")
	}
	op, ok := arr[0].(string)
	if !ok {
		return invalidPolicy("Invalid Condition: the operation must be a string.")
	}
	op = strings.ToLower(op)
	if op == "content-length-range" {
		lo, okLo := policyInt(arr[1])
		hi, okHi := policyInt(arr[2])
		if !okLo || !okHi || lo < 0 || hi < 0 {
			return invalidPolicy("Invalid content-length-range: the bounds must be non-negative integers.")
		}
		if !p.hasRange {
			p.hasRange, p.minLength, p.maxLength = true, lo, hi
		} else {
			p.minLength, p.maxLength = max(p.minLength, lo), min(p.maxLength, hi)
		}
		return nil
	}
	if op != condEq && op != condStartsWith {
		return invalidPolicy("Invalid Condition: unknown operation '" + op + "'.")
	}
	field, okF := arr[1].(string)
	value, okV := arr[2].(string)
	if !okF || !okV {
		return invalidPolicy("Invalid Condition: the field and the value must be strings.")
	}
	if !strings.HasPrefix(field, "$") || len(field) < 2 {
		return invalidPolicy("Invalid Condition: the field must start with '$'.")
	}
	p.conditions = append(p.conditions, postCondition{
		op: op, field: strings.ToLower(field[1:]), value: value, text: condText(op, field, value),
	})
	return nil
}

// policyInt reads a content-length-range bound: a JSON integer, or a
// string holding one.
func policyInt(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// condText renders a condition as S3 quotes it in error messages.
func condText(op, field, value string) string {
	q := func(s string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	return "[" + q(op) + ", " + q(field) + ", " + q(value) + "]"
}

// postForm is the text fields of a POST form, in the order they came.
type postForm struct {
	names  []string          // as sent, first occurrence of each (case-folded) name
	values map[string]string // lower-case name -> value; repeats joined by ","
}

func newPostForm() *postForm { return &postForm{values: map[string]string{}} }

// add records a field; a repeated name has its values joined by commas,
// as S3 matches them.
func (f *postForm) add(name, value string) {
	k := strings.ToLower(name)
	if old, ok := f.values[k]; ok {
		f.values[k] = old + "," + value
		return
	}
	f.names = append(f.names, name)
	f.values[k] = value
}

// get returns a field's value by name, ignoring case.
func (f *postForm) get(name string) string { return f.values[strings.ToLower(name)] }

// has reports whether the form carries a field, ignoring case.
func (f *postForm) has(name string) bool { _, ok := f.values[strings.ToLower(name)]; return ok }

// set replaces a field's value (used for the expanded key).
func (f *postForm) set(name, value string) {
	k := strings.ToLower(name)
	if _, ok := f.values[k]; !ok {
		f.names = append(f.names, name)
	}
	f.values[k] = value
}

// exemptField reports whether a form field needs no policy condition: the
// signature, the policy itself, the file, the Version 2 access key, and
// anything named x-ignore-*.
func exemptField(lower string) bool {
	switch lower {
	case "policy", "file", "x-amz-signature", "signature", "awsaccesskeyid":
		return true
	}
	return strings.HasPrefix(lower, "x-ignore-")
}

// check evaluates everything in the policy but the content-length-range
// against the form at time now: the expiry, every condition (bucket is
// the bucket the request addresses, key the expanded key), and that every
// field but the exempt ones is named by a condition.
func (p *postPolicy) check(now time.Time, bucket string, form *postForm) error {
	if !now.Before(p.expiration) {
		return policyDenied("Policy expired.")
	}
	covered := map[string]bool{}
	for _, c := range p.conditions {
		covered[c.field] = true
		v := form.get(c.field)
		if c.field == "bucket" {
			v = bucket
		}
		if !c.matches(v) {
			return policyDenied("Policy Condition failed: " + c.text)
		}
	}
	for _, name := range form.names {
		lower := strings.ToLower(name)
		if !exemptField(lower) && !covered[lower] {
			return policyDenied("Extra input fields: " + name)
		}
	}
	return nil
}

// matches evaluates the condition on a field value. starts-with with an
// empty prefix matches anything; on Content-Type, a comma-separated list
// matches when every member starts with the prefix.
func (c postCondition) matches(v string) bool {
	if c.op == condEq {
		return v == c.value
	}
	if c.value == "" {
		return true
	}
	if c.field == "content-type" && strings.Contains(v, ",") {
		for _, m := range strings.Split(v, ",") {
			if !strings.HasPrefix(strings.TrimSpace(m), c.value) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(v, c.value)
}

// checkLength applies the content-length-range to the received file size.
func (p *postPolicy) checkLength(n int64) error {
	if !p.hasRange {
		return nil
	}
	if n > p.maxLength {
		return ErrEntityTooLarge.withMessage("Your proposed upload exceeds the maximum allowed size")
	}
	if n < p.minLength {
		return ErrEntityTooSmall.withMessage("Your proposed upload is smaller than the minimum allowed size")
	}
	return nil
}

// postSignatureV4 is the Signature Version 4 of a POST form: the hex
// HMAC-SHA256 of the base64 policy under the signing key of the secret,
// date (YYYYMMDD), region and service "s3".
func postSignatureV4(secret, date, region, policyB64 string) string {
	key := hmacSHA256([]byte("AWS4"+secret), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, policyB64))
}

// postSignatureV2 is the Signature Version 2 of a POST form: the base64
// HMAC-SHA1 of the base64 policy under the secret.
func postSignatureV2(secret, policyB64 string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policyB64))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// postCredential is the parsed x-amz-credential of a POST form:
// "<access key>/<YYYYMMDD>/<region>/s3/aws4_request".
type postCredential struct {
	accessKey, date, region string
}

// parsePostCredential parses x-amz-credential. The access key may itself
// contain "/", so the scope is taken from the right.
func parsePostCredential(s string) (postCredential, bool) {
	parts := strings.Split(s, "/")
	if len(parts) < 5 {
		return postCredential{}, false
	}
	n := len(parts)
	c := postCredential{accessKey: strings.Join(parts[:n-4], "/"), date: parts[n-4], region: parts[n-3]}
	if c.accessKey == "" || c.region == "" || parts[n-2] != "s3" || parts[n-1] != "aws4_request" {
		return postCredential{}, false
	}
	if _, err := time.Parse("20060102", c.date); err != nil {
		return postCredential{}, false
	}
	return c, true
}

// expandFilename replaces ${filename} in a field value with the base name
// of the uploaded file: the text after the last "/" or "\" of the name the
// client gave.
func expandFilename(v, filename string) string {
	if !strings.Contains(v, "${filename}") {
		return v
	}
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		filename = filename[i+1:]
	}
	return strings.ReplaceAll(v, "${filename}", filename)
}
