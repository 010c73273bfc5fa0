#!/usr/bin/env bash
# Fetches and unpacks what internal/vm needs to boot Debian 12's Linux 6.1
# kernel under qemu: an ELF vmlinux and the modules dccp, dccp_ipv4, dccp_ipv6 and tun.
#
#   scripts/vm-assets.sh CACHE_DIR
#
# Why this kernel: Linux removed DCCP in 6.16 and the host kernel has none,
# but Debian 12's 6.1 kernel package ships dccp.ko and dccp_ipv4.ko, so the
# interop tests boot it in a VM.
#
# What it does, step by step (idempotent: a complete cache is left alone and
# the script exits at once without touching apt; FORCE=1 rebuilds it):
#
#  1. Takes a lock on CACHE_DIR/.lock (flock) so that test processes running
#     in parallel do not unpack the same cache (or run apt-get) twice, then
#     installs qemu-system-x86 and xz-utils with apt-get when
#     qemu-system-x86_64 or xz is missing and we are root (scripts/test.sh
#     installs them too).
#  2. Finds the kernel package that linux-image-amd64 depends on (for
#     Debian 12: linux-image-6.1.0-N-amd64, the signed variant, which carries
#     the modules too). If apt's lists know no such package, it runs
#     `apt-get update` once (needs root).
#  3. `apt-get download`s that package into a scratch directory inside the
#     cache (nothing is installed on the host; when the download fails
#     because the lists are stale, it runs `apt-get update` and tries once
#     more) and extracts with
#     `dpkg-deb --fsys-tarfile | tar` only boot/vmlinuz-* and the three
#     modules.
#  4. Decompresses modules shipped as .ko.xz / .ko.zst / .ko.gz (Debian 12
#     ships plain .ko; later releases compress with xz), because the VM's init
#     loads them with finit_module(2) without decompression flags.
#  5. Unpacks the bzImage into the ELF vmlinux that qemu boots directly
#     through its PVH entry point (much faster than the bzImage's real-mode
#     path under TCG). The boot protocol header (Documentation/arch/x86/
#     boot.rst, protocol >= 2.08) says where the compressed kernel lies:
#     setup_sects at 0x1f1, payload_offset at 0x248 and payload_length at
#     0x24c, the payload starting after the (setup_sects+1)*512-byte setup
#     code. The payload's magic bytes pick the decompressor (xz, zstd, gzip,
#     lz4, bzip2, lzma), and the result must start with an ELF magic.
#  6. Moves the result into CACHE_DIR/kernel/ (vmlinux, modules/*.ko) and
#     writes CACHE_DIR/kernel/PACKAGE (package name and version) last: the
#     stamp that says the cache is complete. The downloaded .deb is deleted.
#
# Tools it uses: apt-get, apt-cache, dpkg-deb, tar, od, dd, flock and the
# decompressor the package needs (xz-utils for Debian 12).
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 CACHE_DIR" >&2
  exit 2
fi
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
out="$cache/kernel"
modules=(dccp dccp_ipv4 dccp_ipv6 tun)

complete() {
  [[ -s "$out/PACKAGE" && -s "$out/vmlinux" ]] || return 1
  local m
  for m in "${modules[@]}"; do
    [[ -s "$out/modules/$m.ko" ]] || return 1
  done
}

# 1. One unpacker at a time.
exec 9>"$cache/.lock"
flock 9

# 1b. The emulator, and xz for the kernel (xz-utils is only "standard").
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "vm-assets: missing ${need[*]}; run as root or apt-get install ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

if [[ "${FORCE:-0}" != 1 ]] && complete; then
  echo "vm-assets: ready in $out ($(cat "$out/PACKAGE"))"
  exit 0
fi

# 2. The kernel package.
kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(kernel_pkg || true)
if [[ -z "$pkg" ]]; then
  echo "vm-assets: apt knows no linux-image-amd64; running apt-get update" >&2
  apt-get update -qq
  pkg=$(kernel_pkg || true)
fi
if [[ -z "$pkg" ]]; then
  echo "vm-assets: no kernel package found (apt-cache depends linux-image-amd64)" >&2
  exit 1
fi
version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2; exit }')

# 3. Download and extract only what is needed.
scratch=$(mktemp -d "$cache/.scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
chmod 755 "$scratch" # apt's sandbox user may write here
download() {
  (cd "$scratch" && apt-get download -qq "$pkg" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  ls "$scratch"/*.deb 2>/dev/null | head -n1 || true
}
deb=$(download)
if [[ -z "$deb" && $(id -u) -eq 0 ]]; then
  # Stale lists name a version the mirror no longer has: refresh, retry.
  echo "vm-assets: apt-get download $pkg failed; running apt-get update" >&2
  apt-get update -qq
  pkg=$(kernel_pkg || true)
  version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2; exit }')
  deb=$(download)
fi
if [[ -z "$deb" ]]; then
  echo "vm-assets: apt-get download $pkg produced no .deb" >&2
  exit 1
fi
mkdir -p "$scratch/root"
dpkg-deb --fsys-tarfile "$deb" |
  tar -x -C "$scratch/root" --wildcards \
    './boot/vmlinuz-*' \
    './lib/modules/*/kernel/net/dccp/dccp.ko*' \
    './lib/modules/*/kernel/net/dccp/dccp_ipv4.ko*' \
    './lib/modules/*/kernel/net/dccp/dccp_ipv6.ko*' \
    './lib/modules/*/kernel/drivers/net/tun.ko*'
rm -f "$deb"

# 4. Modules, decompressed.
new="$scratch/kernel"
mkdir -p "$new/modules"
for m in "${modules[@]}"; do
  f=$(find "$scratch/root/lib/modules" -name "$m.ko*" -type f | head -n1)
  if [[ -z "$f" ]]; then
    echo "vm-assets: $pkg has no module $m (a kernel without DCCP?)" >&2
    exit 1
  fi
  case "$f" in
    *.ko) cp "$f" "$new/modules/$m.ko" ;;
    *.ko.xz) xz -dc "$f" >"$new/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$new/modules/$m.ko" ;;
    *.ko.gz) gzip -dc "$f" >"$new/modules/$m.ko" ;;
    *) echo "vm-assets: unknown module compression: $f" >&2; exit 1 ;;
  esac
done

# 5. bzImage -> vmlinux.
bz=$(ls "$scratch"/root/boot/vmlinuz-* | head -n1)
u8() { od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' '; }
u16() { od -A n -t u2 -j "$2" -N 2 "$1" | tr -d ' '; }
u32() { od -A n -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
if [[ "$(od -A n -c -j $((0x202)) -N 4 "$bz" | tr -d ' ')" != HdrS ]]; then
  echo "vm-assets: $bz is not a bzImage (no HdrS)" >&2
  exit 1
fi
proto=$(u16 "$bz" $((0x206)))
if ((proto < 0x208)); then
  printf 'vm-assets: boot protocol %x < 2.08 has no payload fields\n' "$proto" >&2
  exit 1
fi
setup_sects=$(u8 "$bz" $((0x1f1)))
((setup_sects == 0)) && setup_sects=4
payload_offset=$(u32 "$bz" $((0x248)))
payload_length=$(u32 "$bz" $((0x24c)))
start=$(((setup_sects + 1) * 512 + payload_offset))
magic=$(od -A n -t x1 -j "$start" -N 6 "$bz" | tr -d ' \n')
case "$magic" in
  fd377a585a00*) dec=(xz -dc --single-stream) ;;
  28b52ffd*) dec=(zstd -qdc) ;;
  1f8b*) dec=(gzip -dc) ;;
  02214c18*) dec=(lz4 -dc) ;;
  425a68*) dec=(bzip2 -dc) ;;
  5d0000*) dec=(xz -dc --format=lzma) ;;
  *) echo "vm-assets: unknown kernel compression, magic $magic" >&2; exit 1 ;;
esac
# The payload ends with the 4-byte uncompressed size, which some
# decompressors call trailing garbage: their complaint is ignored and the
# ELF check below decides.
dd if="$bz" iflag=skip_bytes,count_bytes skip="$start" count="$payload_length" status=none |
  { "${dec[@]}" 2>/dev/null || true; } >"$new/vmlinux"
if [[ "$(od -A n -t x1 -N 4 "$new/vmlinux" | tr -d ' \n')" != 7f454c46 ]]; then
  echo "vm-assets: decompressed kernel is not ELF (${dec[*]})" >&2
  exit 1
fi

# 6. Publish; the stamp goes last.
echo "$pkg $version $(basename "$bz" | sed 's/^vmlinuz-//')" >"$new/PACKAGE.tmp"
rm -rf "$out"
mv "$new" "$out"
mv "$out/PACKAGE.tmp" "$out/PACKAGE"
echo "vm-assets: ready in $out ($(cat "$out/PACKAGE"))"
