#!/usr/bin/env bash
# Runs every test of NPTI Studio (installing what it needs): vet, gofmt,
# unit and golden tests of all packages (UI headless), the race detector on
# the non-GUI packages, and the end-to-end run of the real app under Xvfb.
# Needs ../shared beside the checkout.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
[ -d ../shared ] || { echo "test: ../shared (reference data) is missing" >&2; exit 1; }

bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$bad" ] || { echo "gofmt needed:"; echo "$bad"; exit 1; }
# The app is built with GOEXPERIMENT=simd (AVX2/AVX-512 kernels): test that
# build, and the engine once more without it (the portable kernels).
export GOEXPERIMENT=simd
go vet -tags ci ./...
go test -tags ci -count=1 ./...
GOEXPERIMENT= go test -count=1 ./inference/...
# The engine's golden tests under the Go backend's other execution modes.
for mode in go:ops_sequential go:ops_parallel; do
  GOMLX_BACKEND=$mode go test -count=1 ./inference/
done
nongui=$(go list ./... | grep -v -e '/ui' -e '/app$' -e 'npti$')
# GoMLX's pure-Go matmul kernels use pointer arithmetic that the race
# detector's checkptr instrumentation rejects (a false alarm inside GoMLX,
# not a data race): keep checkptr off for GoMLX's packages only.
go test -race -count=1 -gcflags='github.com/gomlx/...=-d=checkptr=0' $nongui
if [ -x scripts/e2e.sh ]; then scripts/e2e.sh; fi
