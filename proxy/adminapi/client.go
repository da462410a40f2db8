package adminapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/basaltstore/basalt/objectd"
)

// ErrServer is returned when the server answers with an error.
var ErrServer = errors.New("adminapi: server refused")

const prefix = "/basalt/admin/v1/"

// Client talks to one server.
type Client struct {
	// Endpoint is the server's URL, e.g. http://127.0.0.1:8080.
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string // default us-east-1
	HTTP      *http.Client
}

func (c *Client) do(ctx context.Context, method, op string, q url.Values) (*http.Response, error) {
	return c.doBody(ctx, method, op, q, nil)
}

func (c *Client) doBody(ctx context.Context, method, op string, q url.Values, body []byte) (*http.Response, error) {
	u := strings.TrimSuffix(c.Endpoint, "/") + prefix + op
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("adminapi: %w", err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "s3", region, time.Now()); err != nil {
		return nil, fmt.Errorf("adminapi: sign: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("adminapi: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct{ Error, Message string }
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%w: %s: %s", ErrServer, e.Error, e.Message)
		}
		return nil, fmt.Errorf("%w: HTTP %d: %s", ErrServer, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

// Status returns the server's store status.
func (c *Client) Status(ctx context.Context) (objectd.Status, error) {
	var st objectd.Status
	resp, err := c.do(ctx, http.MethodGet, "status", nil)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("adminapi: status: %w", err)
	}
	return st, nil
}

// Rebalance runs a rebalance pass on the server now and returns its
// figures.
func (c *Client) Rebalance(ctx context.Context) (objectd.RebalanceStatus, error) {
	var st objectd.RebalanceStatus
	resp, err := c.do(ctx, http.MethodPost, "rebalance", nil)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("adminapi: rebalance: %w", err)
	}
	return st, nil
}

// ScrubRequest selects what to scrub.
type ScrubRequest struct {
	Bucket string
	Disk   string
	Rate   int64 // bytes per second, 0 for no limit
}

// Scrub runs a scrub on the server now, calling progress as it goes, and
// returns the final counts.
func (c *Client) Scrub(ctx context.Context, r ScrubRequest, progress func(objectd.ScrubProgress)) (objectd.ScrubProgress, error) {
	q := url.Values{}
	if r.Bucket != "" {
		q.Set("bucket", r.Bucket)
	}
	if r.Disk != "" {
		q.Set("disk", r.Disk)
	}
	if r.Rate > 0 {
		q.Set("rate", strconv.FormatInt(r.Rate, 10))
	}
	var last objectd.ScrubProgress
	resp, err := c.do(ctx, http.MethodPost, "scrub", q)
	if err != nil {
		return last, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			objectd.ScrubProgress
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return last, fmt.Errorf("adminapi: scrub: %w", err)
		}
		if line.Error != "" {
			return last, fmt.Errorf("%w: %s: %s", ErrServer, line.Error, line.Message)
		}
		last = line.ScrubProgress
		if progress != nil {
			progress(last)
		}
	}
	if err := sc.Err(); err != nil {
		return last, fmt.Errorf("adminapi: scrub: %w", err)
	}
	if !last.Done {
		return last, fmt.Errorf("adminapi: scrub ended early")
	}
	return last, nil
}

// Call runs an operation of the administration API ("identity/users",
// ...) with the query q and, when in is not nil, in as a JSON body, and
// decodes the JSON answer into out (when not nil).
func (c *Client) Call(ctx context.Context, method, op string, q url.Values, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("adminapi: %w", err)
		}
		body = b
	}
	resp, err := c.doBody(ctx, method, op, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("adminapi: decode answer: %w", err)
	}
	return nil
}
