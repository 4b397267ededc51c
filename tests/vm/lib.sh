# shellcheck shell=bash
# lib.sh - the VM harness, shared by check.sh and demo.sh.
#
# The development machine cannot load modules, so every kernel test runs in
# a QEMU guest (TCG: software emulation) booting a Debian kernel with an
# initramfs we build: busybox, iproute2, the module, the library, the CLI,
# the test programs and the guest scripts of tests/guest/. The guest's
# /init writes test output to the second serial port (results.log); the
# kernel writes its log to the first (console.log), so neither garbles
# the other. The harness judges both.

ZC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ZC_BUILD=$ZC_TOP/build
# What is costly to make (extracted sources, debug kernels) is kept here.
ZC_CACHE=${ZC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcopy}
ZC_VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ZC_TOP/dkms.conf")

# Kernel log lines that fail a run whatever the tests said: WARN and BUG
# (KASAN and sleeping-in-atomic reports start with BUG:), oopses, lockdep's
# reports, kmemleak's, hung tasks.
ZC_BAD_KLOG='WARNING:|BUG:|Oops|Kernel panic|Call Trace|general protection fault|KASAN|UBSAN|kmemleak: [0-9]+ new suspected|unreferenced object|possible circular locking|possible recursive locking|inconsistent lock state|INFO: trying to register non-static key|suspicious RCU usage|INFO: task .* blocked'

# A kernel to test on is three things: its build tree (to build modules
# against), its image (to boot) and where its modules live (modules.dep
# and modules.builtin). A Debian kernel: /lib/modules/KVER/build,
# /boot/vmlinuz-KVER, /lib/modules/KVER. A debug kernel (debug-kernel.sh):
# its tree, the bzImage in it, the tree again (everything is built in).

# build_module KDIR NAME: build zcopy.ko (and zcopy_kunit.ko, where KDIR
# has CONFIG_KUNIT) against the kernel tree KDIR, in a copy of the
# sources of its own (kbuild writes objects next to the sources). Prints
# the directory holding the .ko files. PATCH (optional): a patch applied
# to that copy only, never to the working tree (check.sh's leak-ref
# smoke); if the working tree already has it, the copy is left as it is.
build_module() {
	local kdir=$1 dir=$ZC_BUILD/kmod/$2 patch=${3:-}
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$ZC_TOP/Kbuild" "$ZC_TOP/dkms.conf" "$ZC_TOP/kmod" "$ZC_TOP/uapi" "$dir/"
	if [ -n "$patch" ] && ! patch -s -p1 -R --dry-run -d "$dir" <"$patch" >/dev/null 2>&1; then
		patch -s -p1 -d "$dir" <"$patch" >&2 || return 1
	fi
	make -s -C "$kdir" M="$dir" modules >"$dir/build.log" 2>&1 || {
		cat "$dir/build.log" >&2
		return 1
	}
	# Any compiler warning is a failure: the module must build clean.
	if grep -E 'warning:|error:' "$dir/build.log" >&2; then
		return 1
	fi
	echo "$dir"
}

# copy_elf ROOT FILE...: copy programs and the shared libraries they load
# into ROOT, at the same paths, so the guest runs them as this host does.
copy_elf() {
	local root=$1 f lib
	shift
	for f in "$@"; do
		for lib in $(LD_LIBRARY_PATH=$ZC_BUILD/lib ldd "$f" | grep -o '/[^ ]*'); do
			case $lib in
			"$ZC_BUILD"/*) continue ;; # ours: installed by the caller
			esac
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	done
}

# lighttpd_root: a directory holding Debian's lighttpd package extracted
# (usr/sbin/lighttpd), from the .deb deps.sh downloaded; extracted once per
# package version. Fails if there is no .deb.
lighttpd_root() {
	local deb dir
	deb=$(ls "$ZC_CACHE"/debs/lighttpd_*_amd64.deb 2>/dev/null | tail -n 1)
	[ -n "$deb" ] || return 1
	dir=$ZC_CACHE/lighttpd/$(basename "$deb" .deb)
	if [ ! -x "$dir/usr/sbin/lighttpd" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir" || return 1
	fi
	echo "$dir"
}

# module_file MODDIR PATH-IN-TREE: a kernel module under MODDIR/kernel,
# decompressed.
module_file() {
	local base=$1/kernel/$2
	if [ -f "$base" ]; then
		cat "$base"
	elif [ -f "$base.xz" ]; then
		xz -dc "$base.xz"
	elif [ -f "$base.zst" ]; then
		zstd -dc "$base.zst"
	else
		echo "module $2 missing in $1" >&2
		return 1
	fi
}

# add_modules MODDIR ROOT MODULE...: copy kernel modules and everything
# they depend on (MODDIR/modules.dep) into ROOT/lib/modules/zc,
# decompressed, and list them in load order in ROOT/lib/modules/zc/order.
# Modules built into the kernel (MODDIR/modules.builtin) are skipped; a
# kernel without modules.dep must have all of them built in.
add_modules() {
	local moddir=$1 root=$2 m
	shift 2
	mkdir -p "$root/lib/modules/zc"
	touch "$root/lib/modules/zc/order"
	for m in "$@"; do
		add_module_rec "$moddir" "$root" "$m" || return 1
	done
}
add_module_rec() {
	local moddir=$1 root=$2 name=$3 line="" path dep
	grep -q "^$name\$" "$root/lib/modules/zc/order" && return 0
	[ -f "$moddir/modules.dep" ] &&
		line=$(grep -E "/$name\.ko(\.xz|\.zst)?:" "$moddir/modules.dep")
	if [ -z "$line" ]; then
		grep -qE "/$name\.ko$" "$moddir/modules.builtin" && return 0
		echo "module $name: neither a module nor built into $moddir" >&2
		return 1
	fi
	path=${line%%:*}
	for dep in ${line#*:}; do
		dep=${dep##*/}
		add_module_rec "$moddir" "$root" "${dep%%.ko*}" || return 1
	done
	path=${path#kernel/}
	path=${path%.xz}
	module_file "$moddir" "${path%.zst}" >"$root/lib/modules/zc/$name.ko" || return 1
	echo "$name" >>"$root/lib/modules/zc/order"
}

# build_initramfs MODDIR KODIR MODE OUT [ENV]: the guest's root file
# system, with the modules built in KODIR (build_module) and those of
# MODDIR the tests need. MODE: check, kunit (run.sh's module load and
# KUnit suites only), demo, bench or ab. ENV: more VAR=value lines
# for the guest's /zc/env.
build_initramfs() {
	local moddir=$1 kodir=$2 mode=$3 out=$4 env=${5:-} root v
	root=$(mktemp -d)
	# 0755 as a real root is (mktemp -d makes 0700): the guest's tests
	# that drop to another uid (t_unpriv.c) must reach /dev and /tmp.
	chmod 755 "$root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,zc,lib/modules}
	mkdir -p "$root/usr/lib/x86_64-linux-gnu"

	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	# iproute2 for veth and namespaces (busybox ip cannot create veth),
	# ethtool to turn scatter-gather off, mke2fs for ext4. The guest
	# calls them by full path: busybox sh runs its own applets first.
	cp -L "$(command -v ip)" "$root/sbin/ip"
	cp -L "$(command -v ethtool)" "$root/sbin/ethtool"
	cp -L "$(command -v mke2fs)" "$root/sbin/mke2fs"
	# mkfs.xfs for xfs on a second loop device (t_fsmatrix.c).
	cp -L "$(command -v mkfs.xfs)" "$root/sbin/mkfs.xfs"
	copy_elf "$root" "$root/sbin/mkfs.xfs"
	copy_elf "$root" "$root/sbin/ip" "$root/sbin/ethtool" "$root/sbin/mke2fs" \
		"$ZC_BUILD/bin/zcopy" "$ZC_BUILD/tests/zctest" "$ZC_BUILD/tests/zcbench"
	# Debian's curl, the client of the zchttpd tests (examples/zchttpd.c),
	# with libcurl and what it loads (ldd lists them all, and the loader).
	mkdir -p "$root/usr/bin"
	cp -L /usr/bin/curl "$root/usr/bin/curl"
	copy_elf "$root" /usr/bin/curl "$ZC_BUILD/bin/zchttpd" "$ZC_BUILD/bin/zcnotify"

	# Debian's lighttpd, the real server the guest runs under `zcopy run`:
	# the binary and what it loads. Static files need none of its
	# mod_*.so (the file, index and directory handlers are built in).
	local lt
	if lt=$(lighttpd_root); then
		mkdir -p "$root/usr/sbin"
		cp "$lt/usr/sbin/lighttpd" "$root/usr/sbin/lighttpd"
		copy_elf "$root" "$lt/usr/sbin/lighttpd"
	else
		echo "lib.sh: no lighttpd package in $ZC_CACHE/debs (tests/vm/deps.sh" \
			"downloads it); the guest's lighttpd tests will fail" >&2
	fi

	# The library where a package would install it: found by soname.
	cp -P "$ZC_BUILD"/lib/libzcopy.so* "$ZC_BUILD/lib/libzcopy-preload.so" \
		"$root/usr/lib/x86_64-linux-gnu/"
	cp "$ZC_BUILD/bin/zcopy" "$root/bin/zcopy"
	cp "$ZC_BUILD/bin/zchttpd" "$root/zc/zchttpd"
	cp "$ZC_BUILD/bin/zcnotify" "$root/zc/zcnotify"
	cp "$ZC_BUILD/bin/zcloop" "$root/zc/zcloop"
	cp "$ZC_BUILD/tests/zctest" "$root/zc/zctest"
	cp "$ZC_BUILD/tests/zcbench" "$root/zc/zcbench"
	cp "$ZC_BUILD/tests/zcload" "$root/zc/zcload"
	cp "$kodir"/*.ko "$root/zc/"
	# The third-party program of tests/pkg, built against make install's
	# tree by tests/host.sh (here, if it has not run): shared and static.
	if [ ! -x "$ZC_BUILD/pkg/hello-shared" ] || [ ! -x "$ZC_BUILD/pkg/hello-static" ]; then
		"$ZC_TOP/tests/pkg/build.sh" "$ZC_BUILD/pkg/root" "$ZC_BUILD/pkg" >/dev/null 2>&1 ||
			return 1
	fi
	cp "$ZC_BUILD/pkg/hello-shared" "$ZC_BUILD/pkg/hello-static" "$root/zc/"
	copy_elf "$root" "$ZC_BUILD/pkg/hello-static"
	# ZC_DKMS_KO: a zcopy.ko dkms installed (check.sh), loaded by run.sh
	# after the suite's own; decompressed, as the guest's insmod needs.
	if [ -n "${ZC_DKMS_KO:-}" ]; then
		mkdir -p "$root/zc/dkms"
		case $ZC_DKMS_KO in
		*.xz) xz -dc "$ZC_DKMS_KO" ;;
		*.zst) zstd -dc "$ZC_DKMS_KO" ;;
		*) cat "$ZC_DKMS_KO" ;;
		esac >"$root/zc/dkms/zcopy.ko" || return 1
	fi
	# ZC_EXTRA_BINS: more host programs for the guest, in /usr/bin (perf,
	# for make bench with ZC_BENCH_PERF).
	for f in ${ZC_EXTRA_BINS:-}; do
		mkdir -p "$root/usr/bin"
		cp -L "$f" "$root/usr/bin/${f##*/}"
		copy_elf "$root" "$f"
	done
	# kTLS and the AES-GCM it asks the crypto API for (no modprobe in
	# the guest to load them on demand). xfs, and configfs with netconsole
	# (whose dynamic targets are configfs files), for t_fsmatrix.c; fuse
	# for the suite's FUSE daemon (zcfuse.c).
	add_modules "$moddir" "$root" veth loop overlay tls ctr gcm ghash-generic xfs configfs netconsole fuse || return 1
	# The throttled disk of make_disk (virtio over PCI).
	add_modules "$moddir" "$root" virtio_pci virtio_blk || return 1

	cp "$ZC_TOP"/tests/guest/*.sh "$ZC_TOP"/tests/bench/guest/*.sh "$root/zc/"
	# The docs, whose commands run.sh runs as written.
	mkdir -p "$root/zc/docs"
	cp "$ZC_TOP"/docs/*.md "$root/zc/docs/"
	cp "$ZC_TOP/tests/guest/init.sh" "$root/init"
	chmod +x "$root/init" "$root"/zc/*.sh
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$root/etc/hosts"
	printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
	printf 'ZC_MODE=%s\nZC_VERSION=%s\n%s\n' "$mode" "$ZC_VERSION" "$env" >"$root/zc/env"
	# Passed on to the guest's zctest when set here: ZC_PARTS (only those
	# parts), ZC_NLFUZZ_SEED and ZC_NLFUZZ_COUNT, ZC_FUZZ_SEED and
	# ZC_FUZZ_COUNT (to replay a fuzz run); the long forms of make stress:
	# ZC_FUZZ_SECONDS, ZC_STRESS_SECONDS, ZC_UNLOAD_LOOPS, ZC_WATCHDOG.
	for v in ZC_PARTS ZC_NLFUZZ_SEED ZC_NLFUZZ_COUNT ZC_FUZZ_SEED ZC_FUZZ_COUNT \
		ZC_FUZZ_SECONDS ZC_STRESS_SECONDS ZC_UNLOAD_LOOPS ZC_WATCHDOG; do
		[ -z "${!v:-}" ] || printf "%s='%s'\n" "$v" "${!v}" >>"$root/zc/env"
	done

	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
	rm -rf "$root"
}

# make_disk DIR: DIR/disk.img, an ext4 image made on the host with
# mkfs.ext4 -d, for ZCOPY_SEND_NODISKIO's tests (zctest part nodiskio):
# the guest gets it as /dev/vda, a virtio drive that QEMU throttles to
# ZC_DISK_BPS bytes/s (4 MiB/s) and ZC_DISK_IOPS requests/s (200), so a
# cold read is slow and measurable. Files, from /dev/urandom (the tests
# compare what arrives with what pread(2) and sendfile(2) give): cold.bin,
# part.bin, trunc.bin, unix.bin and hint.bin of 16 MiB, and sparse.bin, 8 MiB with
# data only at [1 MiB, 2 MiB) and [5 MiB, 5 MiB + 4 KiB). Made fresh for
# each boot (under a second), so every boot starts from the same disk.
make_disk() {
	local dir=$1 src f
	src=$(mktemp -d)
	for f in cold part trunc unix hint; do
		head -c $((16 << 20)) /dev/urandom >"$src/$f.bin"
	done
	truncate -s 8M "$src/sparse.bin"
	head -c $((1 << 20)) /dev/urandom | dd of="$src/sparse.bin" bs=1M seek=1 conv=notrunc status=none
	head -c 4096 /dev/urandom | dd of="$src/sparse.bin" bs=4096 seek=1280 conv=notrunc status=none
	# ZC_DISK_BENCH=1 (make bench's "cold file" row): big.bin of 64 MiB
	# and 64 hot files of 4 KiB, hot0.bin .. hot63.bin, too.
	local size=128M
	if [ "${ZC_DISK_BENCH:-0}" = 1 ]; then
		size=256M
		head -c $((64 << 20)) /dev/urandom >"$src/big.bin"
		for f in $(seq 0 63); do
			head -c 4096 /dev/urandom >"$src/hot$f.bin"
		done
	fi
	rm -f "$dir/disk.img"
	mkfs.ext4 -q -F -L zcdisk -d "$src" "$dir/disk.img" $size >/dev/null
	local rc=$?
	rm -rf "$src"
	return $rc
}

# boot_once IMAGE INITRD DIR TIMEOUT [APPEND]: one QEMU run; see boot.
boot_once() {
	local image=$1 initrd=$2 dir=$3 limit=$4 append=${5:-}
	rm -f "$dir/console.log" "$dir/results.log"
	make_disk "$dir" || return 1
	# panic_on_warn and oops=panic turn any kernel WARN or oops into a
	# panic; panic=-1 reboots at once and -no-reboot makes every reboot,
	# the guest's own `reboot -f` at the end included, an exit.
	# shellcheck disable=SC2086 # ZC_QEMU_ARGS is a list
	timeout -k 10 "$limit" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 ${ZC_QEMU_ARGS:-} -m "${ZC_GUEST_MEM:-2048}" \
		-nodefaults -display none -no-reboot \
		-kernel "$image" -initrd "$initrd" \
		-drive "file=$dir/disk.img,if=virtio,format=raw,throttling.bps-total=${ZC_DISK_BPS:-4194304},throttling.iops-total=${ZC_DISK_IOPS:-200}" \
		-append "console=ttyS0 panic=-1 panic_on_warn=1 oops=panic $append" \
		-serial "file:$dir/console.log" -serial "file:$dir/results.log" \
		</dev/null
}

# boot IMAGE INITRD DIR TIMEOUT [APPEND]: boot the guest; its logs land in
# DIR (console.log: the kernel's; results.log: the guest's). ZC_GUEST_MEM:
# its memory in MiB (2048). Returns QEMU's status (124: timed out).
#
# A kernel that dies before the guest's init prints its first line is
# booted once more, and says so: nothing of zcopy has run at that point
# (the module is loaded later, by the guest scripts), and under TCG such
# deaths happen, rarely, in the kernel's own boot-time code patching
# (seen once in ~100 boots: an int3 oops in run_timer_softirq at 1.3 s,
# while async init patched a static key). The first console log is kept
# as console-boot1.log. A second death fails the run as usual.
boot() {
	local dir=$3 rc
	rm -f "$dir/console-boot1.log"
	boot_once "$@"
	rc=$?
	if [ $rc != 124 ] && ! grep -aq '^# guest: Linux' "$dir/results.log" 2>/dev/null; then
		mv "$dir/console.log" "$dir/console-boot1.log"
		echo "# boot: the kernel died before the guest's init ran" \
			"(see $dir/console-boot1.log); booting once more"
		boot_once "$@"
		rc=$?
	fi
	return $rc
}
