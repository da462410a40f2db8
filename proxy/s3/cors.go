package s3

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
)

// CORS: a bucket's "cors" setting holds its CORSConfiguration. A browser's
// preflight (OPTIONS, unauthenticated) is answered from the first rule that
// allows its origin, method and headers; any other request that carries an
// Origin header gets the CORS headers of the first rule that allows its
// origin and method (Access-Control-Request-Method, when present, stands
// for the method, and Access-Control-Request-Headers, when present, must
// be allowed too), on success and on error alike.

const (
	maxCORSRules  = 100
	maxCORSRuleID = 255
	// corsVary is the Vary header of every answer a CORS rule shaped.
	corsVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
)

// corsMethods are the methods a CORS rule may allow.
var corsMethods = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "HEAD": true}

// corsConfig is a bucket's CORS configuration, in XML and in the catalog.
type corsConfig struct {
	XMLName xml.Name   `xml:"CORSConfiguration" json:"-"`
	Xmlns   string     `xml:"xmlns,attr,omitempty" json:"-"`
	Rules   []corsRule `xml:"CORSRule" json:"rules"`
}

// corsRule is one CORSRule, its elements in the order S3 writes them.
type corsRule struct {
	ID             *string  `xml:"ID" json:"id,omitempty"`
	AllowedMethods []string `xml:"AllowedMethod" json:"methods"`
	AllowedOrigins []string `xml:"AllowedOrigin" json:"origins"`
	AllowedHeaders []string `xml:"AllowedHeader" json:"headers,omitempty"`
	MaxAgeSeconds  *int32   `xml:"MaxAgeSeconds" json:"maxAge,omitempty"`
	ExposeHeaders  []string `xml:"ExposeHeader" json:"expose,omitempty"`
}

var corsShape = xmlShape{
	"CORSConfiguration": {"CORSRule": true},
	"CORSConfiguration/CORSRule": {
		"ID": false, "AllowedMethod": true, "AllowedOrigin": true, "AllowedHeader": true,
		"MaxAgeSeconds": false, "ExposeHeader": true,
	},
}

// parseCORS decodes and checks a CORSConfiguration. The structure is
// checked first (MalformedXML: unknown elements, no rule or more than
// 100, a rule without origin or method, a bad MaxAgeSeconds, an ID over
// 255 characters), then each rule in turn (InvalidRequest: a method
// other than GET, PUT, POST, DELETE, HEAD; more than one wildcard in an
// origin or allowed header; any wildcard in an exposed header).
func parseCORS(data []byte) (corsConfig, error) {
	var cfg corsConfig
	if !checkShape(data, "CORSConfiguration", corsShape) {
		return cfg, ErrMalformedXML
	}
	if err := xml.Unmarshal(data, &cfg); err != nil {
		return cfg, ErrMalformedXML
	}
	if len(cfg.Rules) == 0 || len(cfg.Rules) > maxCORSRules {
		return cfg, ErrMalformedXML
	}
	for _, r := range cfg.Rules {
		if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 ||
			(r.MaxAgeSeconds != nil && *r.MaxAgeSeconds < 0) ||
			(r.ID != nil && utf8.RuneCountInString(*r.ID) > maxCORSRuleID) {
			return cfg, ErrMalformedXML
		}
	}
	for _, r := range cfg.Rules {
		for _, m := range r.AllowedMethods {
			if !corsMethods[m] {
				return cfg, ErrInvalidRequest.withMessage("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return cfg, ErrInvalidRequest.withMessage(`AllowedOrigin "` + o + `" can not have more than one wildcard.`)
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return cfg, ErrInvalidRequest.withMessage(`AllowedHeader "` + h + `" can not have more than one wildcard.`)
			}
		}
		for _, h := range r.ExposeHeaders {
			if strings.Contains(h, "*") {
				return cfg, ErrInvalidRequest.withMessage(`ExposeHeader "` + h + `" contains wildcard. We currently do not support wildcard for ExposeHeader.`)
			}
		}
	}
	return cfg, nil
}

// wildcardMatch matches s against a pattern with at most one "*", which
// stands for any text, possibly empty.
func wildcardMatch(pattern, s string) bool {
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// corsMatch is the rule that allows a request and the origin to answer.
type corsMatch struct {
	rule        *corsRule
	allowOrigin string // the request's origin, or "*" for a rule that allows any
}

// match finds the first rule that allows origin (case-sensitive), method
// (exactly) and every requested header (case-insensitive).
func (c *corsConfig) match(origin, method string, headers []string) (corsMatch, bool) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.allowsOrigin(origin) || !r.allowsMethod(method) || !r.allowsHeaders(headers) {
			continue
		}
		m := corsMatch{rule: r, allowOrigin: origin}
		for _, o := range r.AllowedOrigins {
			if o == "*" {
				m.allowOrigin = "*"
			}
		}
		return m, true
	}
	return corsMatch{}, false
}

func (r *corsRule) allowsOrigin(origin string) bool {
	for _, o := range r.AllowedOrigins {
		if wildcardMatch(o, origin) {
			return true
		}
	}
	return false
}

func (r *corsRule) allowsMethod(method string) bool {
	for _, m := range r.AllowedMethods {
		if m == method {
			return true
		}
	}
	return false
}

func (r *corsRule) allowsHeaders(headers []string) bool {
	for _, h := range headers {
		ok := false
		for _, a := range r.AllowedHeaders {
			if wildcardMatch(strings.ToLower(strings.TrimSpace(a)), h) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// requestedHeaders splits Access-Control-Request-Headers into lowercase
// names.
func requestedHeaders(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// setHeaders writes the CORS headers of a matched rule. Allow-Headers is
// only for preflights (headers non-nil).
func (m corsMatch) setHeaders(h http.Header, headers []string) {
	h.Set("Access-Control-Allow-Origin", m.allowOrigin)
	h.Set("Access-Control-Allow-Methods", strings.Join(m.rule.AllowedMethods, ", "))
	if len(headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	if len(m.rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(m.rule.ExposeHeaders, ", "))
	}
	if m.rule.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(*m.rule.MaxAgeSeconds)))
	}
	if m.allowOrigin != "*" {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Vary", corsVary)
}

// bucketCORS is the bucket's CORS configuration, if any, as the catalog
// holds it (no store access: it serves unauthenticated preflights).
func (s *Server) bucketCORS(bucket string) (corsConfig, bool) {
	var cfg corsConfig
	if s.catalog == nil || bucket == "" {
		return cfg, false
	}
	ok, err := catalog.BucketSetting(s.catalog.View(), bucket, settingCORS, &cfg)
	return cfg, ok && err == nil
}

// corsHeaders sets the CORS headers of a request that is not a preflight,
// before it is authenticated and handled, so that errors carry them too.
func (q *request) corsHeaders() {
	origin := q.r.Header.Get("Origin")
	if origin == "" {
		return
	}
	cfg, ok := q.s.bucketCORS(q.target.Bucket)
	if !ok {
		return
	}
	method := q.r.Method
	if m := q.r.Header.Get("Access-Control-Request-Method"); m != "" {
		method = m
	}
	if m, ok := cfg.match(origin, method, requestedHeaders(q.r.Header)); ok {
		m.setHeaders(q.w.Header(), nil)
	}
}

// corsErrorDoc is the error document of a refused preflight, which names
// the method and the kind of resource asked about.
type corsErrorDoc struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Method       string   `xml:"Method,omitempty"`
	ResourceType string   `xml:"ResourceType,omitempty"`
	RequestID    string   `xml:"RequestId"`
	HostID       string   `xml:"HostId"`
}

// preflight answers an OPTIONS request. It needs no signature: a browser
// sends none.
func (q *request) preflight() error {
	h := q.r.Header
	origin := h.Get("Origin")
	method, hasMethod := h.Get("Access-Control-Request-Method"), len(h.Values("Access-Control-Request-Method")) > 0
	named := method
	if !hasMethod {
		named = "OPTIONS"
	}
	if origin == "" {
		return q.preflightError(ErrCORSNoOrigin, "", "")
	}
	if q.target.Bucket == "" || !validBucketName(q.target.Bucket) {
		return q.preflightError(ErrCORSNoBucket, named, "BUCKET")
	}
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		if errors.Is(err, objectd.ErrNoSuchBucket) {
			return q.preflightError(ErrCORSNoBucket, named, "BUCKET")
		}
		return err
	}
	cfg, ok := q.s.bucketCORS(q.target.Bucket)
	if !ok {
		return q.preflightError(ErrCORSNotEnabled, named, "BUCKET")
	}
	if !hasMethod || !corsMethods[method] {
		msg := "Invalid Access-Control-Request-Method: " + method
		if !hasMethod {
			msg = ErrCORSBadMethod.Message
		}
		return q.preflightError(ErrCORSBadMethod.withMessage(msg), "", "")
	}
	resource := "BUCKET"
	if q.target.Key != "" {
		resource = "OBJECT"
	}
	headers := requestedHeaders(h)
	m, ok := cfg.match(origin, method, headers)
	if !ok {
		return q.preflightError(ErrCORSNotAllowed, method, resource)
	}
	m.setHeaders(q.w.Header(), headers)
	q.writeEmpty(http.StatusOK)
	return nil
}

// preflightError writes a refused preflight's error document.
func (q *request) preflightError(e *APIError, method, resource string) error {
	q.s.log.Debug("s3 preflight refused", "bucket", q.target.Bucket, "key", q.target.Key,
		"request_id", q.id, "code", e.Code, "status", e.Status)
	b, err := xml.Marshal(corsErrorDoc{
		Code: e.Code, Message: e.Message, Method: method, ResourceType: resource,
		RequestID: q.id, HostID: q.w.Header().Get("X-Amz-Id-2"),
	})
	if err != nil {
		return err
	}
	// Text without attributes needs no quotes escaped; S3 writes them as
	// they are ("the resource's CORS spec").
	b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("&#39;"), []byte("'")), []byte("&#34;"), []byte(`"`))
	out := append([]byte(xml.Header), b...)
	hd := q.w.Header()
	hd.Set("Content-Type", "application/xml")
	hd.Set("Content-Length", strconv.Itoa(len(out)))
	q.w.WriteHeader(e.Status)
	q.w.Write(out)
	return nil
}

func (q *request) getBucketCors() error {
	var cfg corsConfig
	ok, err := q.setting(settingCORS, &cfg)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoSuchCORSConfiguration
	}
	cfg.Xmlns = s3Namespace
	q.writeXML(http.StatusOK, cfg)
	return nil
}

func (q *request) putBucketCors() error {
	if err := q.canStoreSettings(); err != nil {
		return err
	}
	if err := q.requireBodyChecksum(); err != nil {
		return err
	}
	data, err := q.readSmallBody(maxSmallXMLBody)
	if err != nil {
		return err
	}
	cfg, err := parseCORS(data)
	if err != nil {
		return err
	}
	return q.storeSetting(settingCORS, cfg, http.StatusOK)
}
