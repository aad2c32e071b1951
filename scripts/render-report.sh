#!/usr/bin/env bash
# Screenshots a report.html with headless Chromium, for a look at what `vlp pretrain` / `vlp demo`
# wrote (not part of CI).
#
#   scripts/render-report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
#   scripts/render-report.sh --sample [OUT.png]    # builds and renders the test suite's sample report
#
# Needs chromium (Debian: apt-get install chromium; fonts-noto-cjk for Chinese text).
set -euo pipefail

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 1 ]] || usage

if [[ "$1" == "--sample" ]]; then
    root="$(cd "$(dirname "$0")/.." && pwd)"
    report="${TMPDIR:-/tmp}/report-sample.html"
    scratch="${SCRATCH_PATH:-$root/.build-report}"
    (cd "$root" && swift build --scratch-path "$scratch" --build-tests >/dev/null &&
        VLP_REPORT_SAMPLE="$report" swift test --scratch-path "$scratch" --skip-build \
            --filter 'HTMLReportTests.testSampleReport' >/dev/null)
    shift
else
    report="$1"
    shift
fi
out="${1:-${report%.html}.png}"
size="${2:-1200x1800}"

browser=""
for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$candidate" >/dev/null; then browser="$candidate"; break; fi
done
[[ -n "$browser" ]] || { echo "render-report: no chromium found (apt-get install chromium)" >&2; exit 1; }
[[ -f "$report" ]] || { echo "render-report: $report: no such file" >&2; exit 1; }

"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="${size/x/,}" --screenshot="$out" "file://$(realpath "$report")" 2>/dev/null
echo "$out"
