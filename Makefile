# Basalt: build, run and test. `make help` lists the targets.

GO      ?= go
VERSION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ARGS    ?=

.PHONY: help build run test test-deps vet bench bench-reference bench-compare bench-core mint fmt clean

help:
	@echo "make build   build bin/basalt"
	@echo "make run     build, then run bin/basalt server (extra flags: ARGS='--address 127.0.0.1:9000')"
	@echo "make test    install missing test tools (aws CLI, boto3), go vet, then all tests"
	@echo "make bench   basalt bench's standard set against a fresh server"
	@echo "make bench-reference  the same set against the reference server (MinIO, 4 directories, 2+2)"
	@echo "make bench-compare    both, then Basalt's throughput as a multiple of the reference's"
	@echo "make bench-core  go test benchmarks of the storage core"
	@echo "make mint    minio-go's functional suite against a fresh server"
	@echo "make fmt     gofmt every Go file"
	@echo "make clean   remove bin/"

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/basalt ./cmd/basalt

run: build
	bin/basalt server $(ARGS)

test-deps:
	sh scripts/install-test-deps.sh

vet:
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -timeout 14m ./...

bench:
	sh scripts/bench.sh

bench-reference:
	BENCH_TARGET=reference sh scripts/bench.sh

bench-compare:
	sh scripts/bench-compare.sh

bench-core:
	$(GO) test -run xxx -bench . ./objectd/...

mint: build
	sh scripts/mint.sh

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './.git/*')

clean:
	rm -rf bin

# The long thrashes (internal/thrash): a mixed S3 load against a real
# server while it is killed, its shard files are damaged and its disks
# replaced, then against a cluster of three nodes with every fault of
# TestThrashCluster (network cuts, drains, failing disks too).
# BASALT_SOAK_DURATION (default 20m, each) sets their length,
# BASALT_THRASH_SEED replays a run; each summary (operations, faults,
# checks) ends its output.
.PHONY: soak
soak:
	BASALT_SOAK=1 $(GO) test -count=1 -run '^TestSoak(Cluster)?$$' -timeout 0 -v ./cmd/basalt/
