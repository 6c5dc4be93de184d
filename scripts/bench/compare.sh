#!/usr/bin/env bash
# Runs the speed comparison of the README on this machine, one after the
# other so they do not compete for the cores: npti bench at the SmolLM2-135M
# shape, the plain C decode loop (llama2.c style, OpenMP, -Ofast
# -march=native, 2 threads) and PyTorch CPU eager prefill with the NPTI
# capture. Each reports a median of 5 runs.
#
#   scripts/bench/compare.sh            (installs gcc/python3-torch if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
runs=5
mkdir -p out
GOEXPERIMENT=simd go build -o bin/npti .
echo "npti bench, float32 weights (median of $runs):"
./bin/npti bench --shape smollm2-135m --runs "$runs" --weights f32 --json
echo "npti bench, bfloat16 weights (median of $runs):"
./bin/npti bench --shape smollm2-135m --runs "$runs" --weights bf16 --json

gcc -Ofast -march=native -fopenmp scripts/bench/cloop.c -o out/cloop -lm
echo "C loop decode (median of $runs):"
for _ in $(seq "$runs"); do OMP_NUM_THREADS=2 out/cloop 64; done |
	python3 -c 'import json,sys,statistics as s; v=[json.loads(l)["decode_tok_s"] for l in sys.stdin]; print(json.dumps({"decode_tok_s": s.median(v), "runs": v}))'

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
	sudo_if env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch libopenblas0-pthread >/dev/null
fi
echo "PyTorch eager prefill with capture (median of $runs runs, each the best of 3):"
for _ in $(seq "$runs"); do /usr/bin/python3 scripts/bench/torch_prefill.py --threads 2; done |
	python3 -c 'import json,sys,statistics as s; v=[json.loads(l)["prefill_tok_s"] for l in sys.stdin]; print(json.dumps({"prefill_tok_s": s.median(v), "runs": v}))'
