#!/usr/bin/env bash
# ynl-check.sh [schema|names] - keep uapi/zcopy.yaml (the family in the
# kernel's YNL spec language) and uapi/linux/zcopy_netlink.h (the same ABI,
# hand-written) honest with each other, with Linux 6.12's own tools. Run by
# tests/host.sh, one step per check; no argument runs both.
#
#   schema  the spec loads in tools/net/ynl's SpecFamily, which validates
#           it (jsonschema) against Documentation/netlink/<protocol>.yaml.
#   names   ynl-gen-c.py --mode uapi --header makes a header from the spec;
#           every #define, enumerator and enum tag of that header must be
#           in ours with the same value, and every one of ours in it. The
#           values are the compiler's: each header is compiled into a
#           program that prints its names' values, and the other header
#           must pass a -fsyntax-only file of _Static_assert()s of them.
#
# The 6.12 tree: the debug kernel's (tests/vm/debug-kernel.sh), else
# tools/net/ynl and Documentation/netlink extracted from linux-source-6.12
# into build/ynl/. Needs python3-yaml and python3-jsonschema (make deps).
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"
cd "$ZC_TOP"

step=${1:-all}
spec=uapi/zcopy.yaml
hdr=uapi/linux/zcopy_netlink.h
# Debian's python3 is the one make deps gives yaml and jsonschema to.
PY=${PYTHON:-/usr/bin/python3}

ksrc=
for d in "$ZC_CACHE"/debug/6.12-*; do
	if [ -f "$d/.zc-done" ] && [ -f "$d/tools/net/ynl/ynl-gen-c.py" ] &&
		[ -d "$d/Documentation/netlink" ]; then
		ksrc=$d
	fi
done
if [ -z "$ksrc" ]; then
	tarball=/usr/src/linux-source-6.12.tar.xz
	[ -f "$tarball" ] || {
		echo "ynl-check: no 6.12 tree and no $tarball (make deps installs linux-source-6.12)" >&2
		exit 1
	}
	ksrc=$ZC_BUILD/ynl/linux-source-6.12-$(dpkg-query -W -f='${Version}' linux-source-6.12)
	if [ ! -f "$ksrc/.zc-done" ]; then
		rm -rf "$ksrc"
		mkdir -p "$ksrc"
		tar -xf "$tarball" -C "$ksrc" --strip-components=1 --wildcards \
			'*/tools/net/ynl/*' '*/Documentation/netlink/*'
		touch "$ksrc/.zc-done"
	fi
fi
echo "ynl-check: Linux tree $ksrc"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

do_schema() {
	"$PY" - "$ksrc" "$spec" <<'EOF'
import sys, yaml
ksrc, spec = sys.argv[1:3]
try:
    import jsonschema  # SpecFamily imports it only when asked to validate
except ImportError:
    sys.exit("ynl-check: python3-jsonschema missing (make deps)")
sys.path.insert(0, ksrc + "/tools/net/ynl")
from lib import SpecFamily
with open(spec) as f:
    proto = yaml.safe_load(f).get("protocol", "genetlink")
schema = f"{ksrc}/Documentation/netlink/{proto}.yaml"
fam = SpecFamily(spec, schema_path=schema)
print(f"ynl-check: {spec} is valid {proto} ({schema}): family {fam.name}, "
      f"{len(fam.msgs)} messages, {len(fam.attr_sets)} attribute sets, "
      f"{len(fam.mcast_groups)} multicast groups")
EOF
}

# names HEADER: "macro NAME BODY", "enumerator NAME" and "tag NAME" lines,
# from the preprocessor: the macros HEADER defines (-dM, less the
# compiler's own) and the enums of its preprocessed text.
names() {
	cc -dM -E -x c /dev/null | sort >"$tmp/predef" || return 1
	cc -dM -E -x c "$1" | sort | comm -23 - "$tmp/predef" >"$tmp/macros" || return 1
	cc -E -P -x c "$1" >"$tmp/pp" || return 1
	"$PY" - "$tmp/macros" "$tmp/pp" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"#define (\w+)(?:\s+(.*))?$", line.rstrip("\n"))
    if m and not m.group(1).startswith("__STDC"):
        print("macro", m.group(1), m.group(2) or "")
for tag, body in re.findall(r"\benum\s*(\w*)\s*\{([^}]*)\}", open(sys.argv[2]).read()):
    if tag:
        print("tag", tag)
    for item in body.split(","):
        name = item.split("=")[0].strip()
        if name:
            print("enumerator", name)
EOF
}

# values HEADER_DIR NAMES: the value of each name, as a program including
# <linux/zcopy_netlink.h> from HEADER_DIR prints it: "NAME int N",
# "NAME str HEX" (the string's bytes), "NAME empty" or "NAME tag".
values() {
	local dir=$1 list=$2 kind name body
	{
		echo '#include <stdio.h>'
		echo '#include <linux/zcopy_netlink.h>'
		echo '#define S(n, v) _Generic((v), char *: pstr, default: pint)(n, (v))'
		echo 'static void pstr(const char *n, const char *v) {'
		echo '	printf("%s str ", n);'
		echo '	for (; *v; v++) printf("%02x", (unsigned char)*v);'
		echo '	printf("\n"); }'
		echo 'static void pint(const char *n, long long v) { printf("%s int %lld\n", n, v); }'
		echo 'int main(void) {'
		while read -r kind name body; do
			case $kind in
			tag) echo "	printf(\"$name tag\\n\");" ;;
			macro) [ -z "$body" ] && echo "	printf(\"$name empty\\n\");" ||
				echo "	S(\"$name\", $name);" ;;
			enumerator) echo "	S(\"$name\", $name);" ;;
			esac
		done <"$list"
		echo '	return 0; }'
	} >"$tmp/print.c"
	cc -std=gnu11 -Wall -Werror -I"$dir" -o "$tmp/print" "$tmp/print.c" || return 1
	"$tmp/print"
}

# agree FROM_DIR TO_DIR WHAT: every name of FROM's header is in TO's, the
# same kind of name (a macro a macro), with FROM's value. Called in an
# || list, where set -e does not act: every step says whether it failed.
agree() {
	local from=$1 to=$2 what=$3 n
	names "$from/linux/zcopy_netlink.h" >"$tmp/names" || return 1
	values "$from" "$tmp/names" >"$tmp/values" || return 1
	n=$(wc -l <"$tmp/values")
	[ "$n" -gt 0 ] && [ "$n" = "$(wc -l <"$tmp/names")" ] || {
		echo "ynl-check: $what: $n values for $(wc -l <"$tmp/names") names" >&2
		return 1
	}
	{
		echo '#include <linux/zcopy_netlink.h>'
		awk '$1 == "macro" { print "#ifndef " $2 "\n#error \"" $2 ": not #defined in this header\"\n#endif" }
		     $1 == "enumerator" { print "#ifdef " $2 "\n#error \"" $2 ": a #define, not an enumerator\"\n#endif" }' \
			"$tmp/names"
		while read -r name kind val; do
			case $kind in
			int) echo "_Static_assert(($name) == ($val), \"$name == $val\");" ;;
			str)
				lit=$(echo "$val" | sed 's/../\\x&/g')
				shown=$(printf '%b' "$lit" | tr -c 'A-Za-z0-9_.-' '?')
				echo "_Static_assert(__builtin_strcmp($name, \"$lit\") == 0, \"$name == \\\"$shown\\\"\");"
				;;
			tag) echo "_Static_assert(sizeof(enum $name) > 0, \"enum $name\");" ;;
			esac
		done <"$tmp/values"
	} >"$tmp/agree.c" || return 1
	if ! cc -std=gnu11 -Werror -fsyntax-only -I"$to" "$tmp/agree.c"; then
		echo "ynl-check: $what: the names above differ" >&2
		return 1
	fi
	echo "ynl-check: $what: all $n names agree ($(cut -d' ' -f2 "$tmp/values" | sort | uniq -c | xargs))"
}

do_names() {
	# ynl-gen-c.py wants a kernel tree around the spec: it walks up to
	# MAINTAINERS (forever, if there is none) and reads the schema from
	# ../<protocol>.yaml.
	local k=$tmp/k proto
	mkdir -p "$k/Documentation/netlink/specs" "$tmp/gen/linux" "$tmp/ours/linux"
	touch "$k/MAINTAINERS"
	cp "$ksrc"/Documentation/netlink/*.yaml "$k/Documentation/netlink/"
	cp "$spec" "$k/Documentation/netlink/specs/zcopy.yaml"
	timeout 120 "$PY" "$ksrc/tools/net/ynl/ynl-gen-c.py" --mode uapi --header \
		--spec "$k/Documentation/netlink/specs/zcopy.yaml" \
		-o "$tmp/gen/linux/zcopy_netlink.h"
	cp "$hdr" "$tmp/ours/linux/zcopy_netlink.h"
	# Both ways, both reported.
	local rc=0
	agree "$tmp/gen" "$tmp/ours" "spec -> header (ynl-gen-c's names in $hdr)" || rc=1
	agree "$tmp/ours" "$tmp/gen" "header -> spec ($hdr's names in ynl-gen-c's)" || rc=1
	return $rc
}

case $step in
schema) do_schema ;;
names) do_names ;;
all) do_schema && do_names ;;
*)
	echo "usage: ynl-check.sh [schema|names]" >&2
	exit 2
	;;
esac
