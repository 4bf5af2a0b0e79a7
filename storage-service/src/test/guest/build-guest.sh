#!/bin/bash
# Builds the base guest for the real-Linux-kernel-host tests: Debian's stock kernel plus an
# initramfs with busybox, the NVMe/TCP host modules (and, for self-checks, the kernel's own
# NVMe/TCP target), nvme-cli and fio.
#
# BASALT_GUEST_KERNEL selects another Debian kernel package by a glob of package names, the newest
# match winning: for example 'linux-image-6.12.*+deb12-amd64-unsigned', whose host has in-band
# authentication (CONFIG_NVME_HOST_AUTH). Default: the kernel of linux-image-amd64 (6.1 on Debian 12).
# Compressed modules (.ko.xz) are decompressed into the initramfs, as busybox's insmod loads plain ones.
#
# Output: ${BASALT_GUEST_DIR:-$HOME/.cache/basalt-guest}/<kernel version>-<script hash>/
#   vmlinuz, initramfs.img (padded to a 512-byte multiple so a per-test cpio can be appended),
#   kernel-version.
# The last line on stdout is "GUEST_DIR=<that directory>". A second run with an existing cache
# entry returns at once (it needs only `apt-cache` to learn the kernel version).
#
# Needs: apt-get, dpkg, kmod (depmod/modprobe), cpio, busybox-static, nvme-cli, fio
# (install-deps.sh installs them). Root is not required, except for apt-get update when the
# package lists are missing.
set -euo pipefail

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: ERROR: $*" >&2; exit 1; }

CACHE_ROOT="${BASALT_GUEST_DIR:-$HOME/.cache/basalt-guest}"
SCRIPT_PATH="$(readlink -f "$0")"
SCRIPT_HASH="$(sha256sum "$SCRIPT_PATH" | cut -c1-12)"

for tool in apt-get apt-cache dpkg depmod modprobe cpio busybox nvme fio ldd sha256sum xz; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool '$tool' (run install-deps.sh)"
done

# --- which kernel: the one Debian's linux-image-amd64 metapackage depends on, or BASALT_GUEST_KERNEL -
kernel_package() {
    if [ -n "${BASALT_GUEST_KERNEL:-}" ]; then
        apt-cache pkgnames linux-image- 2>/dev/null | while read -r name; do
            # shellcheck disable=SC2254
            case "$name" in $BASALT_GUEST_KERNEL) echo "$name" ;; esac
        done | sort -V | tail -n 1
    else
        apt-cache depends linux-image-amd64 2>/dev/null \
            | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
    fi
}
KPKG="$(kernel_package || true)"
if [ -z "$KPKG" ]; then
    log "no package lists for linux-image-amd64; running apt-get update"
    apt-get -qq update >&2 || die "apt-get update failed"
    KPKG="$(kernel_package || true)"
fi
[ -n "$KPKG" ] || die "cannot resolve the kernel package of linux-image-amd64"
KVER="${KPKG#linux-image-}"
KVER="${KVER%-unsigned}"
OUT="$CACHE_ROOT/$KVER-$SCRIPT_HASH"

if [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initramfs.img" ] && [ -f "$OUT/kernel-version" ]; then
    log "cached guest $OUT"
    echo "GUEST_DIR=$OUT"
    exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialize concurrent builds of the same cache root.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_ROOT/.build.lock"
    flock -w 900 9 || die "timed out waiting for another build-guest.sh"
    if [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initramfs.img" ]; then
        log "cached guest $OUT (built concurrently)"
        echo "GUEST_DIR=$OUT"
        exit 0
    fi
fi

WORK="$(mktemp -d "$CACHE_ROOT/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"

# --- fetch and unpack the kernel package -------------------------------------------------
log "downloading $KPKG"
( cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$KPKG" >/dev/null 2>"$WORK/apt.err" ) \
    || { cat "$WORK/apt.err" >&2; die "apt-get download $KPKG failed"; }
DEB="$(ls "$WORK"/*.deb)"
dpkg -x "$DEB" "$WORK/kernel"
KROOT="$WORK/kernel"
KMODS="$KROOT/lib/modules/$KVER"
[ -d "$KMODS" ] || die "package has no /lib/modules/$KVER"
[ -f "$KROOT/boot/vmlinuz-$KVER" ] || die "package has no /boot/vmlinuz-$KVER"
depmod -b "$KROOT" "$KVER"

# --- stage the initramfs ---------------------------------------------------------------
ST="$WORK/stage"
mkdir -p "$ST"/{bin,sbin,usr/bin,usr/sbin,lib64,proc,sys,dev,tmp,run,etc/nvme,etc/modload,root,mnt}
mkdir -p "$ST/lib/modules/$KVER"

# busybox with its applets as symlinks
cp -L "$(command -v busybox)" "$ST/bin/busybox"
for applet in $("$ST/bin/busybox" --list); do
    [ -e "$ST/bin/$applet" ] || ln -s busybox "$ST/bin/$applet"
done

# kernel modules: each top-level module gets an ordered load list (dependencies and softdeps first)
HOST_MODULES="virtio_pci virtio_net virtio_blk crc32c_generic crc32c-intel nvme-core nvme-fabrics nvme-tcp"
SELFCHECK_MODULES="nvmet nvmet-tcp loop configfs"
for mod in $HOST_MODULES $SELFCHECK_MODULES; do
    deps="$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$mod" 2>/dev/null)" || {
        case "$mod" in
            crc32c-intel) log "optional module $mod not found, skipping"; continue ;;
            *) die "module $mod not found in $KPKG" ;;
        esac
    }
    : > "$ST/etc/modload/$mod"
    echo "$deps" | awk '$1 == "insmod" {print $2}' | while read -r path; do
        rel="${path#"$KMODS"/}"
        rel="${rel%.xz}"
        grep -qxF "$rel" "$ST/etc/modload/$mod" || echo "$rel" >> "$ST/etc/modload/$mod"
        if [ ! -f "$ST/lib/modules/$KVER/$rel" ]; then
            mkdir -p "$(dirname "$ST/lib/modules/$KVER/$rel")"
            case "$path" in
                *.xz) xz -dc "$path" > "$ST/lib/modules/$KVER/$rel" ;;
                *) cp "$path" "$ST/lib/modules/$KVER/$rel" ;;
            esac
        fi
    done
done
cp "$KMODS"/modules.builtin "$KMODS"/modules.builtin.modinfo "$KMODS"/modules.order "$ST/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$ST" "$KVER"

# user-space tools with their shared libraries
copy_with_libs() {
    local bin="$1" dest="$2"
    mkdir -p "$(dirname "$ST$dest")"
    cp -L "$bin" "$ST$dest"
    ldd "$bin" | awk '/=> \// {print $3} /^[[:space:]]*\/lib64\// {print $1}' | while read -r lib; do
        if [ ! -e "$ST$lib" ]; then
            mkdir -p "$ST$(dirname "$lib")"
            cp -L "$lib" "$ST$lib"
        fi
    done
}
copy_with_libs "$(command -v nvme)" /usr/sbin/nvme
copy_with_libs "$(command -v fio)" /usr/bin/fio
[ -e "$ST/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$ST/lib64/"
if command -v blkdiscard >/dev/null 2>&1; then
    rm -f "$ST/usr/sbin/blkdiscard"   # replace the busybox applet with util-linux's
    copy_with_libs "$(command -v blkdiscard)" /usr/sbin/blkdiscard
fi
LIBDIRS="$(cd "$ST" && find . -name '*.so*' -printf '%h\n' | sed 's|^\.||' | sort -u | tr '\n' ':')"
LIBDIRS="${LIBDIRS%:}"
echo "$LIBDIRS" | tr ':' '\n' > "$ST/etc/ld.so.conf"
if command -v ldconfig >/dev/null 2>&1; then ldconfig -r "$ST" 2>/dev/null || true; fi

# nvme-cli reads these; /init overwrites them from the per-test parameters
echo "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000" > "$ST/etc/nvme/hostnqn"
echo "00000000-0000-0000-0000-000000000000" > "$ST/etc/nvme/hostid"
echo "root:x:0:0:root:/root:/bin/sh" > "$ST/etc/passwd"
echo "root:x:0:" > "$ST/etc/group"
mknod -m 600 "$ST/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ST/dev/null" c 1 3 2>/dev/null || true

# Shell functions shared by /init, test scripts and self-check hooks
cat > "$ST/etc/basalt-lib.sh" <<LIB
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export LD_LIBRARY_PATH=$LIBDIRS
KVER=$KVER
LIB
cat >> "$ST/etc/basalt-lib.sh" <<'LIB'
# modload NAME: insmod NAME and its dependencies in the order build-guest.sh recorded
modload() {
    [ -f "/etc/modload/$1" ] || { echo "modload: no module $1"; return 1; }
    while read -r rel; do
        m="$(basename "$rel" .ko | tr - _)"
        [ -d "/sys/module/$m" ] && continue
        insmod "/lib/modules/$KVER/$rel" || { echo "modload: insmod $rel failed"; return 1; }
    done < "/etc/modload/$1"
    return 0
}
LIB

cat > "$ST/init" <<'INIT'
#!/bin/sh
# Basalt guest /init. The per-test cpio supplies /test.sh and /params (shell KEY='value' lines:
# HOSTNQN, HOSTID and whatever the test script needs), optionally /test-hooks.sh.
. /etc/basalt-lib.sh
export HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t tmpfs -o size=64m tmpfs /tmp
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1
echo 1 > /proc/sys/kernel/printk_devkmsg 2>/dev/null

finish() {
    echo "BASALT-GUEST-EXIT $1"
    sync
    poweroff -f
    sleep 5
    echo o > /proc/sysrq-trigger
}

echo "BASALT-GUEST-BOOTED $(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
[ -f /params ] || { echo "BASALT-GUEST-ERROR no /params in the initramfs"; finish 250; }
[ -f /test.sh ] || { echo "BASALT-GUEST-ERROR no /test.sh in the initramfs"; finish 250; }
. /params

modload virtio_pci && modload virtio_net || { echo "BASALT-GUEST-ERROR cannot load virtio modules"; finish 251; }
ip link set lo up
n=0
while ! ip link show eth0 >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -gt 100 ] && { echo "BASALT-GUEST-ERROR no eth0"; finish 251; }
    sleep 0.1
done
ip link set eth0 up
ip addr add "${GUEST_IP:-10.0.2.15/24}" dev eth0
ip route add default via "${GUEST_GW:-10.0.2.2}"

# CRC32C implementations first: header/data digests need them (nvme connect -g -G).
modload crc32c_generic || { echo "BASALT-GUEST-ERROR cannot load crc32c_generic"; finish 252; }
modload crc32c-intel 2>/dev/null || echo "note: crc32c-intel not loaded"
modload nvme-tcp || { echo "BASALT-GUEST-ERROR cannot load nvme-tcp"; finish 252; }

mkdir -p /etc/nvme
[ -n "${HOSTNQN:-}" ] && echo "$HOSTNQN" > /etc/nvme/hostnqn
[ -n "${HOSTID:-}" ] && echo "$HOSTID" > /etc/nvme/hostid

echo "BASALT-GUEST-READY uptime=$(cut -d' ' -f1 /proc/uptime) hostnqn=$(cat /etc/nvme/hostnqn)"
cd /tmp
sh /test.sh
rc=$?
finish $rc
INIT
chmod 755 "$ST/init"

# --- pack --------------------------------------------------------------------------------
log "packing initramfs ($(du -sh "$ST" | cut -f1) unpacked)"
if command -v zstd >/dev/null 2>&1; then
    COMPRESS="zstd -q -T0 -10"
else
    COMPRESS="gzip -6"
fi
( cd "$ST" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet ) | $COMPRESS > "$WORK/initramfs.img"
# Pad to a 512-byte multiple: the kernel accepts an appended uncompressed cpio only at a
# 4-byte aligned offset, and skips zero padding between archives.
size=$(stat -c %s "$WORK/initramfs.img")
pad=$(( (512 - size % 512) % 512 ))
[ "$pad" -gt 0 ] && head -c "$pad" /dev/zero >> "$WORK/initramfs.img"

mkdir -p "$WORK/out"
cp "$KROOT/boot/vmlinuz-$KVER" "$WORK/out/vmlinuz"
mv "$WORK/initramfs.img" "$WORK/out/initramfs.img"
echo "$KVER" > "$WORK/out/kernel-version"
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
# drop entries of this kernel built by older versions of this script (other kernels stay)
for old in "$CACHE_ROOT/$KVER"-*; do
    [ -d "$old" ] && [ "$old" != "$OUT" ] && [ -f "$old/kernel-version" ] && rm -rf "$old"
done
log "built $OUT ($(du -sh "$OUT/initramfs.img" | cut -f1) initramfs)"
echo "GUEST_DIR=$OUT"
