package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// SSEMasterKeySetting names the catalog setting that holds the master key
// wrapping the data keys of SSE-S3 objects (hex), when no
// --sse-master-key-file is given. Kept in the catalog, it is the same on
// every node of a cluster.
const SSEMasterKeySetting = "sse-master-key"

// ErrBadMasterKey: a master key does not hold 64 hex digits.
var ErrBadMasterKey = errors.New("server: the SSE master key must be 64 hex digits (32 bytes)")

// masterKey returns the SSE master key: from file when it is set, else
// from the catalog, where the first node to need one puts a random one.
func masterKey(ctx context.Context, cat *catalog.Catalog, file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--sse-master-key-file: %v", err)
		}
		key, err := decodeMasterKey(string(b))
		if err != nil {
			return nil, usagef("--sse-master-key-file %s: %v", file, err)
		}
		return key, nil
	}
	if _, ok := cat.View().Setting(SSEMasterKeySetting); !ok {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		err := cat.Propose(ctx, raftmap.PutSetting{Name: SSEMasterKeySetting, Value: hex.EncodeToString(key), Once: true})
		if err != nil && !errors.Is(err, raftmap.ErrExists) {
			return nil, fmt.Errorf("server: SSE master key: %w", err)
		}
	}
	s, _ := cat.View().Setting(SSEMasterKeySetting)
	return decodeMasterKey(s)
}

func decodeMasterKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != 32 {
		return nil, ErrBadMasterKey
	}
	return key, nil
}
