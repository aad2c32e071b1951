#!/usr/bin/env bash
# Runs the README's set-up commands on a truly fresh Debian 12 system: a chroot made with
# debootstrap that has only what "Swift 6 installed" means on Debian 12 — the toolchain (bind-
# mounted read-only from where it is installed here) and the packages swift.org lists for it —
# plus make. Then a fresh clone of this repository's HEAD runs the given make targets as root,
# each output line stamped with the seconds since the target started. Needs root. Not run by CI
# (it takes tens of minutes); the README's "Set-up times" come from it.
#
#   scripts/fresh-system-check.sh [--commit REV] [--patch FILE] [--stop-at REGEX] TARGET...
#
#   TARGET        make targets run one after the other in the same chroot (e.g. test demo)
#   --commit REV  clone this revision instead of HEAD
#   --patch FILE  apply this patch to the clone first (e.g. to mend an old commit's set-up)
#   --stop-at RE  stop each target at its first output line matching RE (timing runs)
#   --out DIR     logs go here (default: fresh-system-check/ under $TMPDIR or /tmp)
#
# The debootstrapped base is cached as a tarball under ${VLP_CACHE:-~/.cache/swift-vlp}; every
# run unpacks it anew, so each run starts from the same fresh system.
set -euo pipefail

usage() { sed -n '9,15s/^# \{0,1\}//p' "$0" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
commit=HEAD
patch=""
stop_at=""
out="${TMPDIR:-/tmp}/fresh-system-check"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) commit=$2; shift ;;
    --patch) patch=$(realpath "$2"); shift ;;
    --stop-at) stop_at=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fresh-system-check: unknown option '$1'" >&2; usage; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || { usage; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "fresh-system-check: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }

swift_root=$(dirname "$(dirname "$(dirname "$(command -v swift)")")")   # /opt/swift for /opt/swift/usr/bin/swift
suite=bookworm
mirror=http://deb.debian.org/debian
# swift.org's dependency list for Debian 12 (its Docker image's apt-get line; gold is inside
# binutils on Debian 12), and make.
swift_deps=binutils,libicu-dev,libcurl4-openssl-dev,libedit-dev,libsqlite3-dev,libncurses-dev,libpython3-dev,libxml2-dev,pkg-config,uuid-dev,tzdata,git,gcc,libstdc++-12-dev
extra="make"

cache="${VLP_CACHE:-$HOME/.cache/swift-vlp}"
base="$cache/debian-$suite-swift-base.tar"
mkdir -p "$cache" "$out"

if ! command -v debootstrap >/dev/null; then
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

if [ ! -f "$base" ]; then
  echo "fresh-system-check: debootstrap $suite (once; cached as $base)" >&2
  staging=$(mktemp -d)
  debootstrap --include="$swift_deps,$extra" "$suite" "$staging" "$mirror" >"$out/debootstrap.log" 2>&1 ||
    { tail -20 "$out/debootstrap.log" >&2; exit 1; }
  cat > "$staging/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
  find "$staging/var/lib/apt/lists" -maxdepth 1 -type f -delete   # never ran apt-get update
  tar -C "$staging" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$staging"
fi

root=$(mktemp -d /var/tmp/fresh-debian.XXXXXX)
mounts=()
# kill_chroot_processes: ends every process whose root is the chroot (a stopped target's make,
# swift-build, vlp), so that nothing goes on running and the mounts can go.
kill_chroot_processes() {
  local pid
  for pid in /proc/[0-9]*; do
    [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "${pid#/proc/}" 2>/dev/null
  done
  return 0
}
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  kill_chroot_processes
  for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  if findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "fresh-system-check: something is still mounted under $root; left it in place" >&2
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
tar -C "$root" -xf "$base"

bind() { # bind SOURCE TARGET [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounts+=("$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
bind /sys "$root/sys" ro
bind /dev "$root/dev"
bind /dev/pts "$root/dev/pts"
bind "$swift_root" "$root$swift_root" ro
cp /etc/resolv.conf "$root/etc/resolv.conf"

# What this workplace itself provides to every machine, not what the project installs: the
# Swift package mirror that git reads github.com addresses from, and the TLS roots of its
# network (Debian's ca-certificates, which the set-up installs, would replace the bundle).
if [ -d /opt/swift-packages ]; then
  bind /opt/swift-packages "$root/opt/swift-packages" ro
  for address in $(git config --system --get-all url./opt/swift-packages/.insteadOf || true); do
    git config --file "$root/etc/gitconfig" --add url./opt/swift-packages/.insteadOf "$address"
  done
fi
mkdir -p "$root/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/workplace-roots.crt"

git clone -q "$repo" "$root/root/swift-vlp"
git -C "$root/root/swift-vlp" checkout -q "$commit"
[ -z "$patch" ] || git -C "$root/root/swift-vlp" apply "$patch"
echo "fresh-system-check: $(git -C "$root/root/swift-vlp" log --oneline -1) in a fresh $suite chroot at $root" >&2

status=0
for target in "${targets[@]}"; do
  log="$out/make-$target.log"
  echo "fresh-system-check: make $target (log: $log)" >&2
  start=$(date +%s.%N)
  set +e
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH="$swift_root/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    PIP_CERT=/usr/local/share/ca-certificates/workplace-roots.crt \
    GIT_SSL_CAINFO=/usr/local/share/ca-certificates/workplace-roots.crt \
    bash -c "cd /root/swift-vlp && exec make $target" 2>&1 |
    while IFS= read -r line; do
      printf '%8.1f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
      if [ -n "$stop_at" ] && [[ "$line" =~ $stop_at ]]; then
        kill_chroot_processes; break
      fi
    done > "$log"
  rc=${PIPESTATUS[0]}
  set -e
  grep -E '^ *[0-9.]+ (make: \[|Build of product|Build complete|demo: |whole demo|Executed|.*tests? (passed|failed))' "$log" >&2 || true
  echo "fresh-system-check: make $target exited $rc after $(tail -1 "$log" | awk '{print $1}') s" >&2
  [ "$rc" -eq 0 ] || [ -n "$stop_at" ] || status=$rc
done
exit "$status"
