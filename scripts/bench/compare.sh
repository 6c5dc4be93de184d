#!/usr/bin/env bash
# Runs the speed comparison of the README on this machine: npti bench at the
# SmolLM2-135M shape (float32 and bfloat16 weights), the plain C decode loop
# (llama2.c style, OpenMP, -Ofast -march=native, 2 threads) and PyTorch CPU
# eager prefill with the NPTI capture. They run one after the other, so they
# do not compete for the cores, in interleaved rounds: this VM's speed
# drifts by tens of percent over minutes, and a round compares runs made
# seconds apart. Prints each series, its median, and the median of the
# per-round ratios. Each npti bench and each C loop reports the median of 3
# runs after a warm-up (the first runs after loading are the slowest).
#
#   scripts/bench/compare.sh [ROUNDS]   (default 5; installs gcc/python3-torch if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
rounds=${1:-5}
mkdir -p out
GOEXPERIMENT=simd go build -o bin/npti .
gcc -Ofast -march=native -fopenmp scripts/bench/cloop.c -o out/cloop -lm
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
	sudo_if env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch libopenblas0-pthread >/dev/null
fi

log=out/compare.jsonl
: >"$log"
# record WHAT CMD...: runs CMD (a failure stops the script, with its
# stderr shown) and appends its JSON result to the log.
record() {
	local what=$1 res
	shift
	res=$("$@")
	echo "{\"round\": $r, \"what\": \"$what\", \"result\": $res}" >>"$log"
}
# The float32 bench and the C loop run back to back (their ratio is the
# tightest target), then the bfloat16 bench and PyTorch.
for r in $(seq "$rounds"); do
	record npti-f32 ./bin/npti bench --shape smollm2-135m --runs 3 --weights f32 --json
	OMP_NUM_THREADS=2 record cloop out/cloop 64 3
	record npti-bf16 ./bin/npti bench --shape smollm2-135m --runs 3 --weights bf16 --json
	record torch /usr/bin/python3 scripts/bench/torch_prefill.py --threads 2
	echo "round $r of $rounds done" >&2
done

python3 - "$log" <<'EOF'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["what"], {})[r["round"]] = r["result"]
rounds = sorted(by["cloop"])
def series(what, key):
    return [by[what][k][key] for k in rounds]
out = {}
for w in ("f32", "bf16"):
    pre, dec = series("npti-" + w, "prefill_tok_s"), series("npti-" + w, "decode_tok_s")
    out["npti_" + w] = {"prefill_tok_s": st.median(pre), "decode_tok_s": st.median(dec),
                        "peak_rss_mb": max(series("npti-" + w, "peak_rss_mb")),
                        "decode_peak_rss_mb": max(series("npti-" + w, "decode_peak_rss_mb")),
                        "prefill_vs_torch": st.median(p / t for p, t in zip(pre, series("torch", "prefill_tok_s"))),
                        "decode_vs_cloop": st.median(d / c for d, c in zip(dec, series("cloop", "decode_tok_s"))),
                        "runs": {"prefill": [round(x, 1) for x in pre], "decode": [round(x, 1) for x in dec]}}
out["cloop"] = {"decode_tok_s": st.median(series("cloop", "decode_tok_s")), "runs": series("cloop", "decode_tok_s")}
out["torch"] = {"prefill_tok_s": st.median(series("torch", "prefill_tok_s")), "runs": series("torch", "prefill_tok_s")}
print(json.dumps(out, indent=1))
EOF
