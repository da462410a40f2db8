package swift

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// bulkReport is the answer of a bulk delete (and of an SLO delete):
// counts, a status, and the names that failed with why.
type bulkReport struct {
	deleted, notFound int
	failed            [][2]string
	status            string
	message           string
	aborted           bool
	badGateway        bool
}

func newBulkReport() *bulkReport { return &bulkReport{status: statusLine(http.StatusOK)} }

// add counts the outcome of deleting name.
func (r *bulkReport) add(name string, err error) {
	status := http.StatusNoContent
	if err != nil {
		status = statusFor(err)
	}
	switch {
	case status/100 == 2:
		r.deleted++
	case status == http.StatusNotFound:
		r.notFound++
	default:
		if status/100 == 5 {
			r.badGateway = true
		}
		r.failed = append(r.failed, [2]string{pyQuote(name, "/"), statusLine(status)})
	}
}

// abort ends the report with err's status and message.
func (r *bulkReport) abort(err error) {
	r.aborted = true
	r.status = statusLine(statusFor(err))
	var de *detailError
	if errors.As(err, &de) {
		r.message = de.msg
	}
}

// finish sets the final status: 400 (502 for server errors) when
// something failed, 400 when nothing was named.
func (r *bulkReport) finish() {
	if r.aborted {
		return
	}
	switch {
	case len(r.failed) > 0 && r.badGateway:
		r.status = statusLine(http.StatusBadGateway)
	case len(r.failed) > 0:
		r.status = statusLine(http.StatusBadRequest)
	case r.deleted == 0 && r.notFound == 0:
		r.status = statusLine(http.StatusBadRequest)
		r.message = "Invalid bulk delete."
	}
}

// body renders the report in format (text, JSON or XML, as Swift).
func (r *bulkReport) body(format string) []byte {
	fields := map[string]any{
		"Number Deleted":   r.deleted,
		"Number Not Found": r.notFound,
		"Response Status":  r.status,
		"Response Body":    r.message,
	}
	return bulkBody(format, fields, r.failed, "delete")
}

// bulkBody renders fields and errors as Swift's bulk middleware does.
func bulkBody(format string, fields map[string]any, errs [][2]string, root string) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	switch {
	case format == "application/json":
		out := map[string]any{}
		for k, v := range fields {
			out[k] = v
		}
		list := make([][]string, len(errs))
		for i, e := range errs {
			list[i] = []string{e[0], e[1]}
		}
		out["Errors"] = list
		data, _ := json.Marshal(out)
		return data
	case strings.HasSuffix(format, "/xml"):
		var b strings.Builder
		b.WriteString("<" + root + ">\n")
		for _, k := range keys {
			x := strings.ToLower(strings.ReplaceAll(k, " ", "_"))
			b.WriteString("<" + x + ">" + xmlEscape(toString(fields[k])) + "</" + x + ">\n")
		}
		b.WriteString("<errors>\n")
		for _, e := range errs {
			b.WriteString("<object><name>" + xmlEscape(e[0]) + "</name><status>" + xmlEscape(e[1]) + "</status></object>\n")
		}
		b.WriteString("</errors>\n</" + root + ">\n")
		return []byte(b.String())
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + ": " + toString(fields[k]) + "\n")
	}
	b.WriteString("Errors:\n")
	for _, e := range errs {
		b.WriteString(e[0] + ", " + e[1] + "\n")
	}
	return []byte(b.String())
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	}
	return ""
}

// maxBulkPath is the longest path a bulk delete line may name.
const maxBulkPath = MaxObjectNameLength + MaxContainerNameLength + 2

// bulkDelete answers POST or DELETE ?bulk-delete: the body lists
// percent-encoded /container/object or /container paths, one a line;
// objects are deleted first, then containers, each as if the caller had
// sent its own DELETE. The answer is 200 with a report.
func (q *request) bulkDelete() error {
	format := bestMatch(q.r.Header.Get("Accept"), bulkFormats)
	rep := newBulkReport()
	if err := q.runBulkDelete(format, rep); err != nil {
		rep.abort(err)
	}
	rep.finish()
	if format == "" {
		format = "text/plain"
	}
	q.sendBody(http.StatusOK, format, rep.body(format))
	return nil
}

func (q *request) runBulkDelete(format string, rep *bulkReport) error {
	if format == "" {
		return errNotAcceptable
	}
	if ct := q.r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/plain") {
		return errNotAcceptable
	}
	if _, err := q.bodySize(); errors.Is(err, errLengthRequired) {
		return err
	}
	names, err := q.readBulkNames(q.r.Body)
	if err != nil {
		return err
	}
	var objects, containers []string
	for _, n := range names {
		if strings.Contains(strings.Trim(n, "/"), "/") {
			objects = append(objects, n)
		} else {
			containers = append(containers, n)
		}
	}
	for _, n := range objects {
		c, o, _ := strings.Cut(strings.TrimLeft(n, "/"), "/")
		rep.add(n, q.deleteObject(c, o))
		if len(rep.failed) >= MaxFailedDeletes {
			return failf(errBadRequest, "Max delete failures exceeded")
		}
	}
	for _, n := range containers {
		rep.add(n, q.deleteContainer(strings.Trim(n, "/")))
		if len(rep.failed) >= MaxFailedDeletes {
			return failf(errBadRequest, "Max delete failures exceeded")
		}
	}
	return nil
}

// readBulkNames reads the names of a bulk delete.
func (q *request) readBulkNames(body io.Reader) ([]string, error) {
	br := bufio.NewReaderSize(body, 2*maxBulkPath+2)
	var names []string
	for {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, failf(errBadRequest, "Invalid File Name")
		}
		if t := strings.TrimSpace(string(raw)); t != "" {
			name, uerr := url.PathUnescape(t)
			if uerr != nil {
				name = t
			}
			names = append(names, name)
			if len(names) > q.s.lim.maxDeletes {
				return nil, failf(errTooLarge, "Maximum Bulk Deletes: %d per request", q.s.lim.maxDeletes)
			}
		}
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, errClientDisconnect
		}
	}
}
