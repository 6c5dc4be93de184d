#!/usr/bin/env bash
# End-to-end run of the real NPTI Studio binary under Xvfb, driven with
# xdotool: the first start (no model); persona-tiny identified in teacher
# mode on PersonalityBench lines 0-69 (its training data), a pick on the
# heatmap, induction side by side from "<s>You are" at γ 1, a dose-response
# sweep, a quick export (checked: PNG decodes, SVG is XML, PDF header), the
# shortcut help; then the published Llama-3-8B sets without a model. The app's debug mode (NPTI_DEBUG_LAYOUT=1) prints widget positions
# and status lines to stderr; the script clicks through those positions and
# waits for status lines. Screenshots of each step go to $E2E_OUT
# (default out/e2e). Needs ../shared beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${E2E_OUT:-out/e2e}
mkdir -p "$OUT" bin
for tool in xvfb-run xdotool import; do
	command -v $tool >/dev/null || { echo "e2e: $tool missing (see docs: apt packages)" >&2; exit 1; }
done
[ "${1:-}" = "--inner" ] || GOEXPERIMENT=simd go build -o bin/npti .
MODEL=$(cd ../shared/models/persona-tiny && pwd)
SETS=$(cd ../shared/data/npti-llama3-8b-instruct && pwd)
BENCH=$(cd ../shared/data/personalitybench && pwd)
[ "${1:-}" = "--inner" ] || export HOME=$(mktemp -d)
export LANG=en_US.UTF-8 NPTI_DEBUG_LAYOUT=1 GOMLX_BACKEND=${GOMLX_BACKEND:-go}
LOG="$OUT/app.log"

# The part run inside the X server.
inner() {
	set -euo pipefail
	fail() { echo "e2e: $*" >&2; echo "--- app log:" >&2; tail -40 "$LOG" >&2; kill $APP 2>/dev/null || true; exit 1; }
	wait_for() { # wait_for PATTERN SECONDS
		for _ in $(seq 1 $(($2 * 5))); do
			grep -q -- "$1" "$LOG" && return 0
			grep -q "status: Error" "$LOG" && fail "error while waiting for '$1'"
			kill -0 $APP 2>/dev/null || fail "app exited while waiting for '$1'"
			sleep 0.2
		done
		fail "timed out waiting for '$1'"
	}
	# click NAME [FX FY]: click a widget at a fraction of its size (default centre).
	click() {
		sleep 0.6
		local line
		line=$(grep "npti-debug widget $1 " "$LOG" | tail -1)
		[ -n "$line" ] || fail "widget $1 never laid out"
		read -r _ _ _ x y w h <<<"$line"
		local fx=${2:-0.5} fy=${3:-0.5}
		local cx cy
		cx=$(awk "BEGIN{print int($x + $w*$fx)}")
		cy=$(awk "BEGIN{print int($y + $h*$fy)}")
		xdotool mousemove --window "$WID" "$cx" "$cy" click 1
	}
	shot() { sleep "${2:-0.8}"; import -window root "$OUT/$1.png"; echo "e2e: screenshot $1"; }
	# check_export DIR: the quick export wrote parseable plots and the data.
	check_export() {
		local d=$1
		[ -d "$d" ] || fail "export folder '$d' missing"
		for f in heatmap.png layers.png dose_response.png statistics.csv generations.jsonl session.json; do
			[ -s "$d/$f" ] || fail "export: $f missing or empty in $d"
		done
		for f in heatmap layers dose_response; do
			/usr/bin/identify "$d/$f.png" >/dev/null 2>&1 || fail "export: $f.png does not decode"
			python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$d/$f.svg" || fail "export: $f.svg is not XML"
			[ "$(head -c 5 "$d/$f.pdf")" = "%PDF-" ] || fail "export: $f.pdf lacks the %PDF header"
		done
		echo "e2e: export ok: $d"
	}

	# First start: no model, empty recent list.
	"$PWD/bin/npti" >"$LOG.out" 2>"$LOG" &
	APP=$!
	wait_for "widget start.openSets " 60
	WID=$(xdotool search --sync --name "NPTI Studio" | head -1)
	shot 01-start 1
	kill $APP; wait $APP 2>/dev/null || true

	: >"$LOG"
	"$PWD/bin/npti" --model "$MODEL" --bench "$BENCH" >"$LOG.out" 2>"$LOG" &
	APP=$!
	wait_for "status: Model loaded" 60
	WID=$(xdotool search --sync --name "NPTI Studio" | head -1)
	xdotool key --window "$WID" ctrl+2
	wait_for "widget identify.lines " 10
	click identify.lines
	xdotool type --window "$WID" "0-69"
	click identify.run
	wait_for "progress \|status: Identification done" 60
	shot 02-identify 0.1
	wait_for "status: Identification done" 150
	wait_for "widget explore.heatmap " 10
	click explore.heatmap 0.45 0.5
	wait_for "status: Neuron .* added to\|status: Neuron .* removed from" 10
	shot 03-explore
	xdotool key --window "$WID" ctrl+4
	wait_for "widget induce.high " 10
	click induce.low
	wait_for "status: Generation done" 120
	shot 04-induce
	grep "status: Generation done" "$LOG" | tail -1
	xdotool key --window "$WID" ctrl+5
	wait_for "widget report.sweepCTA " 10
	shot 05a-report-empty
	click report.sweepCTA
	wait_for "status: Dose-response sweep done" 170
	shot 05-report 1.5
	grep "status: Dose-response sweep done" "$LOG" | tail -1
	xdotool key --window "$WID" ctrl+shift+e
	wait_for "status: Exported .* (png)" 30
	check_export "$(grep "status: Exported .* (png)" "$LOG" | tail -1 | sed 's/.* to \(.*\)\.$/\1/')"
	xdotool key --window "$WID" F1
	wait_for "help shown" 10
	shot 07-shortcuts
	xdotool key --window "$WID" Escape
	kill $APP; wait $APP 2>/dev/null || true

	: >"$LOG"
	"$PWD/bin/npti" --neurons "$SETS" >"$LOG.out" 2>"$LOG" &
	APP=$!
	wait_for "status: Opened 8 neuron sets" 60
	wait_for "counts Extraversion 27427" 10
	WID=$(xdotool search --sync --name "NPTI Studio" | head -1)
	shot 06-llama-sets 1.5
	kill $APP; wait $APP 2>/dev/null || true
	echo "e2e: ok"
}
if [ "${1:-}" = "--inner" ]; then
	inner
	exit
fi
timeout 420 xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$0" --inner
