#!/usr/bin/env bash
# Runs every test of teardown, after installing what the tests need.
#
#   scripts/test.sh            install missing tools (as root), then gofmt, go vet, go test -race
#   scripts/test.sh -count=1   the same, every test run again (arguments go to go test)
#
# It prints a line per package as it finishes (and, when nothing finished
# for a minute, what still runs), then every skipped test with its reason
# and every failed test with its output; it exits non-zero if anything
# failed. How long (2 cores, measured 2026-12 while other jobs loaded the
# machine, load average 3 to 23):
#   cold (empty build cache, VM kernel already in ~/.cache): 26 min as root,
#     16 min as non-root (kernel, netns and VM tests skip); the race pass
#     is most of it, internal/tcp alone 5 to 13 min under -race;
#   warm build cache, every test again (-count=1): 7 min;
#   nothing changed since the last run (go test's cache): 15 s.
#
# CI (.ci/run) calls exactly this script. Tests that need a tool or root
# skip loudly when it is missing; as root with apt this script installs the
# tools so that nothing skips.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: tshark (independent decoder of our pcaps),
# tcpdump (captures of the kernel's own traffic), librsvg2-bin (rsvg-convert
# renders the lab's SVGs), iproute2 (network namespaces, veth, TUN),
# qemu-system-x86 and xz-utils (boot Debian 12's Linux 6.1, which still has
# DCCP, for the interop tests; internal/vm), editcap from wireshark-common
# (comes with tshark; pcapng conversion in the capture-reader tests), tcptrace
# (analyze's cross-check of "complete conn"), chromium and npm (Mermaid's
# own parser checks the lab's Mermaid goldens, below; teardown web's page is
# tested in headless Chromium), fonts-dejavu-core (the fonts the page's
# screenshot goldens were drawn with).
need_pkgs=()
command -v tshark >/dev/null 2>&1 || need_pkgs+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need_pkgs+=(tcpdump)
command -v tcptrace >/dev/null 2>&1 || need_pkgs+=(tcptrace)
command -v rsvg-convert >/dev/null 2>&1 || need_pkgs+=(librsvg2-bin)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-x86)
command -v xz >/dev/null 2>&1 || need_pkgs+=(xz-utils)
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need_pkgs+=(fonts-dejavu-core)

if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "test.sh: WARNING: missing ${need_pkgs[*]} and cannot install them (not root or no apt-get);" >&2
    echo "test.sh: WARNING: the tests that need them will SKIP." >&2
  fi
fi

# Mermaid's CLI, whose parser the lab's Mermaid goldens must pass
# (lab TestGolden_MermaidCLIParsesEveryDiagram): from the npm registry,
# with Debian's chromium instead of the browser puppeteer would download.
if ! command -v mmdc >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v npm >/dev/null 2>&1; then
  echo "test.sh: installing @mermaid-js/mermaid-cli"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install -g --no-fund --no-audit @mermaid-js/mermaid-cli >/dev/null ||
    echo "test.sh: WARNING: npm could not install @mermaid-js/mermaid-cli; the Mermaid parse test will SKIP." >&2
fi
export PUPPETEER_EXECUTABLE_PATH="${PUPPETEER_EXECUTABLE_PATH:-$(command -v chromium || true)}"

echo "test.sh: go $(go env GOVERSION), $(nproc) cores"

# The Linux 6.1 kernel with DCCP for the VM tests is fetched by the tests
# themselves (internal/vm runs scripts/vm-assets.sh: apt-get download into a
# cache, never installed on this machine).

echo "test.sh: gofmt, go vet (a cold build cache makes this the first few minutes)"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "test.sh: gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

go vet ./...
(cd bench && go vet ./...)

# Every go test pass goes through scripts/testsummary.go (-json): a line per
# package as it finishes, a heartbeat naming what still runs, and at the end
# the skipped tests with their reasons and the failures with their output.
# A failing pass does not stop the others; the script fails at the end.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
go build -o "$logs/testsummary" scripts/testsummary.go
strip="$(go list -m)/"
status=0
passes=()
# gotest LABEL DIR ARGS...: one go test pass in DIR, summarised under LABEL.
gotest() {
  local label=$1 dir=$2
  shift 2
  passes+=("$label=$logs/$label.json")
  if ! (cd "$dir" && go test -json "$@" 2>&1) | "$logs/testsummary" -label "$label" -log "$logs/$label.json" -strip "$strip"; then
    status=1
  fi
}

# go test runs the committed fuzz corpora (testdata/fuzz) as regression tests.
gotest race . -race -timeout 45m "$@" ./...
# The race detector makes sync.Pool drop items at random, so the tests that
# count allocations skip under -race; run them once more without it.
gotest alloc . -count 1 -run 'Alloc' "$@" ./...
# The race detector also changes how goroutines interleave: the packages
# whose tests run user programs on the simulated network (what testnet
# users run, mostly without -race) run once more without it.
gotest plain . -count 1 "$@" ./testnet ./simrun ./lab
# bench/ is a separate module (it brings in gVisor's netstack, which the
# library must not depend on): the gVisor interop tests and the suite's
# unit tests run here.
gotest bench bench -race -timeout 20m "$@" ./...

"$logs/testsummary" -report -strip "$strip" "${passes[@]}" || status=1
exit "$status"
