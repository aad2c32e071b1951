#!/bin/bash
# vlp data download against img2dataset (PyPI; its command from $I2D or PATH), same URL list,
# same loopback server, same resize and the same number of concurrent fetches: samples/s and peak
# memory (GNU time's maximum resident set), both in one run.
#
#   Benchmarks/download_peer.sh [COPIES] [CONCURRENCY]
#
# The server (Python's ThreadingHTTPServer on 127.0.0.1) serves COPIES distinct files of each
# photo in assets/photos: the photo's bytes with a different trailer after the image data, so
# every body has its own SHA-256 and decodes to the photo. Needs a built vlp (.build/debug or
# VLP_BIN) and /usr/bin/time.
set -euo pipefail
copies=${1:-50}
concurrency=${2:-16}
root=$(cd "$(dirname "$0")/.." && pwd)
vlp=${VLP_BIN:-$root/.build/debug/vlp}
i2d=${I2D:-img2dataset}
export NO_ALBUMENTATIONS_UPDATE=1          # albumentations asks the network for updates otherwise
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/site"
n=0
for photo in "$root"/assets/photos/*; do
  ext=${photo##*.}
  for ((i = 0; i < copies; i++)); do
    { cat "$photo"; printf 'copy %d of %s' "$i" "$(basename "$photo")"; } > "$work/site/$n.$ext"
    n=$((n + 1))
  done
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" > "$work/server.log" 2>&1 &
server=$!
sleep 1
{ echo "url,caption"; for f in $(find "$work/site" -type f -printf '%f\n' | sort -n); do echo "http://127.0.0.1:$port/$f,photo $f"; done; } > "$work/list.csv"
echo "$n URLs, concurrency $concurrency, resize shortest side 256"

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/vlp.mem" "$vlp" data download "$work/list.csv" --out "$work/vlp" --resize 256 \
  --concurrency "$concurrency" --per-host "$concurrency" --samples-per-shard 1000 --no-progress > "$work/vlp.out"
end=$(date +%s.%N)
ok=$(python3 -c "import json; print(json.load(open('$work/vlp/download_summary.json'))['successes'])")
python3 -c "print(f'vlp data download: {$ok}/{$n} ok, {($end-$start):.2f} s, {$ok/($end-$start):.1f} samples/s, peak RSS {int(open(\"$work/vlp.mem\").read())/1024:.0f} MiB')"

if command -v "$i2d" > /dev/null; then
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/i2d.mem" "$i2d" --url_list "$work/list.csv" --input_format csv \
    --url_col url --caption_col caption --output_format webdataset --output_folder "$work/i2d" \
    --image_size 256 --resize_mode keep_ratio --resize_only_if_bigger True --processes_count 1 \
    --thread_count "$concurrency" --number_sample_per_shard 1000 --disable_all_reencoding False \
    --enable_wandb False > "$work/i2d.out" 2>&1 || { tail -20 "$work/i2d.out"; exit 1; }
  end=$(date +%s.%N)
  ok=$(python3 -c "import json,glob; print(sum(json.load(open(f))['successes'] for f in glob.glob('$work/i2d/*_stats.json')))")
  python3 -c "print(f'img2dataset:       {$ok}/{$n} ok, {($end-$start):.2f} s, {$ok/($end-$start):.1f} samples/s, peak RSS {int(open(\"$work/i2d.mem\").read())/1024:.0f} MiB (the parent process)')"
else
  echo "img2dataset: no $i2d command (pip install img2dataset; set I2D to its path)"
fi
