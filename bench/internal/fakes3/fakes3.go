package fakes3

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of request, as Request.Op names them.
const (
	ListBuckets             = "ListBuckets"
	HeadBucket              = "HeadBucket"
	CreateBucket            = "CreateBucket"
	DeleteBucket            = "DeleteBucket"
	GetBucketLocation       = "GetBucketLocation"
	ListObjectsV2           = "ListObjectsV2"
	PutObject               = "PutObject"
	GetObject               = "GetObject"
	HeadObject              = "HeadObject"
	DeleteObject            = "DeleteObject"
	CreateMultipartUpload   = "CreateMultipartUpload"
	UploadPart              = "UploadPart"
	CompleteMultipartUpload = "CompleteMultipartUpload"
	AbortMultipartUpload    = "AbortMultipartUpload"
)

// Request describes one request to the hooks of Options.
type Request struct {
	Op     string
	Bucket string
	Key    string
	// N counts the requests of this Op, from 1, in the order they arrived.
	N int64
}

// Object reports whether the request is about an object (or a listing of
// objects) rather than about the service or a bucket.
func (r Request) Object() bool {
	switch r.Op {
	case ListBuckets, HeadBucket, CreateBucket, DeleteBucket, GetBucketLocation:
		return false
	}
	return true
}

// Options shape a Server.
type Options struct {
	// AccessKey, when set, is the only access key accepted.
	AccessKey string
	// Delay, when set, returns how long to hold a request before answering.
	Delay func(Request) time.Duration
	// Fault, when set, returns an HTTP status and S3 error code to answer
	// with instead of serving the request (status 0: serve it).
	Fault func(Request) (status int, code string)
}

// Server is an in-memory S3 endpoint.
type Server struct {
	opts Options

	mu      sync.Mutex
	buckets map[string]map[string]int64 // bucket -> key -> size
	uploads map[string]*upload
	counts  map[string]int64
	nextID  int64

	total atomic.Int64
}

type upload struct {
	bucket, key string
	parts       map[int]int64
}

// New returns an empty server.
func New(opts Options) *Server {
	return &Server{
		opts:    opts,
		buckets: map[string]map[string]int64{},
		uploads: map[string]*upload{},
		counts:  map[string]int64{},
	}
}

// Requests is the number of requests served so far, of every kind.
func (s *Server) Requests() int64 { return s.total.Load() }

// Count is the number of requests of one kind so far.
func (s *Server) Count(op string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// ObjectRequests is the number of requests about objects so far.
func (s *Server) ObjectRequests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for op, c := range s.counts {
		if (Request{Op: op}).Object() {
			n += c
		}
	}
	return n
}

// AddBucket creates a bucket.
func (s *Server) AddBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] == nil {
		s.buckets[name] = map[string]int64{}
	}
}

// HasBucket reports whether a bucket exists.
func (s *Server) HasBucket(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[name] != nil
}

// Objects is the number of objects in a bucket.
func (s *Server) Objects(bucket string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets[bucket])
}

// Uploads is the number of multipart uploads in progress.
func (s *Server) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.total.Add(1)
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	op := classify(r.Method, bucket, key, q)
	if op == "" {
		writeError(w, r, http.StatusNotImplemented, "NotImplemented", "fakes3 does not serve this request")
		return
	}
	s.mu.Lock()
	s.counts[op]++
	req := Request{Op: op, Bucket: bucket, Key: key, N: s.counts[op]}
	s.mu.Unlock()

	if code, msg := s.authorize(r); code != "" {
		drain(r)
		writeError(w, r, http.StatusForbidden, code, msg)
		return
	}
	if s.opts.Delay != nil {
		if d := s.opts.Delay(req); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
	}
	if s.opts.Fault != nil {
		if status, code := s.opts.Fault(req); status != 0 {
			drain(r)
			writeError(w, r, status, code, "injected fault")
			return
		}
	}
	switch op {
	case ListBuckets:
		s.listBuckets(w)
	case HeadBucket:
		if !s.HasBucket(bucket) {
			writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		w.WriteHeader(http.StatusOK)
	case CreateBucket:
		drain(r)
		if s.HasBucket(bucket) {
			writeError(w, r, http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
			return
		}
		s.AddBucket(bucket)
		w.Header().Set("Location", "/"+bucket)
		w.WriteHeader(http.StatusOK)
	case DeleteBucket:
		s.deleteBucket(w, r, bucket)
	case GetBucketLocation:
		writeXML(w, http.StatusOK, struct {
			XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		}{})
	case ListObjectsV2:
		s.listObjects(w, r, bucket, q)
	case PutObject:
		s.putObject(w, r, bucket, key)
	case GetObject, HeadObject:
		s.getObject(w, r, bucket, key, op == HeadObject)
	case DeleteObject:
		s.mu.Lock()
		objs := s.buckets[bucket]
		delete(objs, key)
		s.mu.Unlock()
		if objs == nil {
			writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case CreateMultipartUpload:
		s.createUpload(w, r, bucket, key)
	case UploadPart:
		s.uploadPart(w, r, q)
	case CompleteMultipartUpload:
		s.completeUpload(w, r, bucket, key, q.Get("uploadId"))
	case AbortMultipartUpload:
		s.mu.Lock()
		delete(s.uploads, q.Get("uploadId"))
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

func classify(method, bucket, key string, q url.Values) string {
	switch {
	case bucket == "":
		if method == http.MethodGet {
			return ListBuckets
		}
	case key == "":
		switch method {
		case http.MethodHead:
			return HeadBucket
		case http.MethodPut:
			return CreateBucket
		case http.MethodDelete:
			return DeleteBucket
		case http.MethodGet:
			if q.Has("location") {
				return GetBucketLocation
			}
			if q.Get("list-type") == "2" {
				return ListObjectsV2
			}
		}
	default:
		switch method {
		case http.MethodPut:
			if q.Has("uploadId") {
				return UploadPart
			}
			if q.Has("x-id") && q.Get("x-id") != "PutObject" {
				return ""
			}
			return PutObject
		case http.MethodGet:
			return GetObject
		case http.MethodHead:
			return HeadObject
		case http.MethodDelete:
			if q.Has("uploadId") {
				return AbortMultipartUpload
			}
			return DeleteObject
		case http.MethodPost:
			if q.Has("uploads") {
				return CreateMultipartUpload
			}
			if q.Has("uploadId") {
				return CompleteMultipartUpload
			}
		}
	}
	return ""
}

func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func (s *Server) authorize(r *http.Request) (code, msg string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "AccessDenied", "Access Denied"
	}
	if s.opts.AccessKey == "" {
		return "", ""
	}
	_, rest, ok := strings.Cut(auth, "Credential=")
	ak, _, _ := strings.Cut(rest, "/")
	if !ok || ak != s.opts.AccessKey {
		return "InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records."
	}
	return "", ""
}

func (s *Server) listBuckets(w http.ResponseWriter) {
	type bucket struct {
		Name         string
		CreationDate string
	}
	var out struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner   struct{ ID, DisplayName string }
		Buckets struct {
			Bucket []bucket
		}
	}
	s.mu.Lock()
	for name := range s.buckets {
		out.Buckets.Bucket = append(out.Buckets.Bucket, bucket{name, time.Unix(0, 0).UTC().Format(time.RFC3339)})
	}
	s.mu.Unlock()
	sort.Slice(out.Buckets.Bucket, func(i, j int) bool { return out.Buckets.Bucket[i].Name < out.Buckets.Bucket[j].Name })
	writeXML(w, http.StatusOK, out)
}

func (s *Server) deleteBucket(w http.ResponseWriter, r *http.Request, bucket string) {
	s.mu.Lock()
	objs, ok := s.buckets[bucket]
	empty := len(objs) == 0
	if ok && empty {
		delete(s.buckets, bucket)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	case !empty:
		writeError(w, r, http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, bucket string, q url.Values) {
	prefix := q.Get("prefix")
	after := q.Get("start-after")
	if tok := q.Get("continuation-token"); tok != "" {
		after = tok
	}
	maxKeys := 1000
	if v, err := strconv.Atoi(q.Get("max-keys")); err == nil && v > 0 && v < maxKeys {
		maxKeys = v
	}
	s.mu.Lock()
	objs, ok := s.buckets[bucket]
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sizes := make(map[string]int64, len(keys))
	for _, k := range keys {
		sizes[k] = objs[k]
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	sort.Strings(keys)
	type content struct {
		Key          string
		LastModified string
		ETag         string
		Size         int64
		StorageClass string
	}
	var out struct {
		XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Name                  string
		Prefix                string
		KeyCount              int
		MaxKeys               int
		IsTruncated           bool
		ContinuationToken     string `xml:",omitempty"`
		NextContinuationToken string `xml:",omitempty"`
		Contents              []content
	}
	out.Name, out.Prefix, out.MaxKeys = bucket, prefix, maxKeys
	out.ContinuationToken = q.Get("continuation-token")
	if len(keys) > maxKeys {
		keys = keys[:maxKeys]
		out.IsTruncated = true
		out.NextContinuationToken = keys[len(keys)-1]
	}
	out.KeyCount = len(keys)
	for _, k := range keys {
		out.Contents = append(out.Contents, content{k, lastModified.Format(time.RFC3339), etag(sizes[k]), sizes[k], "STANDARD"})
	}
	writeXML(w, http.StatusOK, out)
}

var lastModified = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func etag(size int64) string { return fmt.Sprintf(`"%032x"`, size) }

// bodySize reads the request body and returns the payload size: the
// decoded length of an aws-chunked body, or the bytes read.
func bodySize(r *http.Request) (int64, error) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		return 0, err
	}
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		return strconv.ParseInt(v, 10, 64)
	}
	return n, nil
}

func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	size, err := bodySize(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	s.mu.Lock()
	objs := s.buckets[bucket]
	if objs != nil {
		objs[key] = size
	}
	s.mu.Unlock()
	if objs == nil {
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	w.Header().Set("ETag", etag(size))
	w.WriteHeader(http.StatusOK)
}

var pattern = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*31 + i>>8)
	}
	return b
}()

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, bucket, key string, head bool) {
	s.mu.Lock()
	objs := s.buckets[bucket]
	size, ok := objs[key]
	s.mu.Unlock()
	switch {
	case objs == nil:
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	case !ok:
		writeError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	h := w.Header()
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", etag(size))
	h.Set("Last-Modified", lastModified.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	w.WriteHeader(http.StatusOK)
	if head {
		return
	}
	for size > 0 {
		n := min(size, int64(len(pattern)))
		if _, err := w.Write(pattern[:n]); err != nil {
			return
		}
		size -= n
	}
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	drain(r)
	s.mu.Lock()
	ok := s.buckets[bucket] != nil
	s.nextID++
	id := "upload-" + strconv.FormatInt(s.nextID, 10)
	if ok {
		s.uploads[id] = &upload{bucket: bucket, key: key, parts: map[int]int64{}}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	writeXML(w, http.StatusOK, struct {
		XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{Bucket: bucket, Key: key, UploadID: id})
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, q url.Values) {
	size, err := bodySize(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	num, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || num < 1 || num > 10000 {
		writeError(w, r, http.StatusBadRequest, "InvalidArgument", "bad part number")
		return
	}
	s.mu.Lock()
	u := s.uploads[q.Get("uploadId")]
	if u != nil {
		u.parts[num] = size
	}
	s.mu.Unlock()
	if u == nil {
		writeError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
		return
	}
	w.Header().Set("ETag", etag(size))
	w.WriteHeader(http.StatusOK)
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	var req struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, r, http.StatusBadRequest, "MalformedXML", err.Error())
		return
	}
	s.mu.Lock()
	u := s.uploads[id]
	var size int64
	missing := false
	if u != nil {
		for _, p := range req.Parts {
			n, ok := u.parts[p.PartNumber]
			missing = missing || !ok
			size += n
		}
		if !missing && s.buckets[bucket] != nil {
			s.buckets[bucket][key] = size
			delete(s.uploads, id)
		}
	}
	s.mu.Unlock()
	switch {
	case u == nil:
		writeError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
	case missing || len(req.Parts) == 0:
		writeError(w, r, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found.")
	default:
		writeXML(w, http.StatusOK, struct {
			XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
			Bucket  string
			Key     string
			ETag    string
		}{Bucket: bucket, Key: key, ETag: etag(size)})
	}
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeXML(w, status, struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string
		RequestID string `xml:"RequestId"`
	}{Code: code, Message: msg, Resource: r.URL.Path, RequestID: "fakes3"})
}
