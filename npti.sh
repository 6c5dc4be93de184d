#!/usr/bin/env bash
# Builds NPTI Studio (installing what it needs) and starts the desktop app.
# Arguments are passed on, e.g. ./npti.sh --model ~/models/SmolLM2-360M-Instruct
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
GOEXPERIMENT=simd go build -o bin/npti .
exec ./bin/npti "$@"
