#!/bin/sh
# Benchmarks pam_totp against pam_oath, pam_google_authenticator and
# pam_permit, and writes bench/results/results.md and latency.png.
#
#   sudo make bench            (or: sudo sh bench/run.sh, from a build tree)
#
# Needs root (the peers' secrets and pam_totp's system store are root's),
# the built bench/bench_login, bench/bench_gen and pam_module/pam_totp.so,
# and libpam-oath, libpam-google-authenticator and gnuplot (scripts/deps.sh).
#
# Settings (environment):
#   BENCH_NS         realm sizes (1000 10000 100000 1000000)
#   BENCH_ALL_MAX    up to this size every user logs in once (10000)
#   BENCH_SAMPLE     above it, this many users, spread over the store (2000)
#   BENCH_BOUND      seconds of logins a row may take before it stops (20)
#   BENCH_GEN_BOUND  seconds making a row's records may take (150); a size
#                    whose making the last size's rate puts past it is skipped
#   BENCH_K          parallel processes for the throughput rows (1 2 4 8)
#   BENCH_K_N        realm size for them (100000)
#   BENCH_K_LOGINS   logins per throughput row, split over the processes (1000)
#   BENCH_ADDS       registrations timed in each pam_totp store made (3)
#   BENCH_MODULES    rows to run (permit totp totp-sync oath ga ldap-read
#                    ldap-bind; the ldap realm's rows: bench/ldap.sh)
#   BENCH_DIR        where the stores go: a new folder is made (and removed)
#                    in it (/var/tmp; /dev/shm leaves the disk out)
#   BENCH_XFS        yes: after the rows above, the BENCH_XFS_MODULES rows
#                    again with their stores on XFS (reflink=1: a copy of a
#                    shard shares its blocks), a loop-mounted image file of
#                    BENCH_XFS_SIZE (8G, sparse) in the scratch folder;
#                    skipped, with a message, without mkfs.xfs (xfsprogs)
#                    or a loop device (no)
#   BENCH_XFS_MODULES  (permit totp)
#   PAM_TOTP_SO      the module (BUILD/.libs/pam_totp.so)
#   BUILD            the build tree (.), RESULTS the output folder
set -eu

: "${BUILD:=.}"
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${RESULTS:=$SRCDIR/bench/results}"
: "${BENCH_NS:=1000 10000 100000 1000000}"
: "${BENCH_ALL_MAX:=10000}"
: "${BENCH_SAMPLE:=2000}"
: "${BENCH_BOUND:=20}"
: "${BENCH_GEN_BOUND:=150}"
: "${BENCH_K:=1 2 4 8}"
: "${BENCH_K_N:=100000}"
: "${BENCH_K_LOGINS:=1000}"
: "${BENCH_ADDS:=3}"
: "${BENCH_MODULES:=permit totp totp-sync oath ga ldap-read ldap-bind}"
: "${BENCH_XFS:=no}"
: "${BENCH_XFS_MODULES:=permit totp}"
: "${BENCH_XFS_SIZE:=8G}"
: "${PAM_TOTP_SO:=$BUILD/.libs/pam_totp.so}"

LOGIN=$BUILD/bench/bench_login
GEN=$BUILD/bench/bench_gen
# The ldap realm's rows (ldap-read, ldap-bind): their slapd, realm and LDIF.
# shellcheck source=bench/ldap.sh
. "$SRCDIR/bench/ldap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root: the stores under test are root's" >&2
	exit 77
fi

# Without a syslog daemon, glibc's syslog falls back to writing
# /dev/console, a slow serial line here (about 1 ms a message), which no
# real system pays.  So, when /dev/log is missing, re-run in a private
# mount namespace where /dev/console is /dev/null.  With a logger running,
# its cost is part of every row, as on a real system.
if [ ! -S /dev/log ] && [ -z "${BENCH_IN_NS:-}" ]; then
	BENCH_IN_NS=1 exec unshare --mount --propagation private sh -c \
		'mount --bind /dev/null /dev/console && exec sh "$0"' "$0"
fi

for f in "$LOGIN" "$GEN"; do
	[ -x "$f" ] || {
		echo "bench: $f is not built: run make bench" >&2
		exit 1
	}
done
case " $BENCH_MODULES " in
*" totp"* | *" ldap-"*)
	[ -f "$PAM_TOTP_SO" ] || {
		echo "bench: $PAM_TOTP_SO is not built" >&2
		exit 1
	}
	PAM_TOTP_SO=$(cd "$(dirname "$PAM_TOTP_SO")" && pwd)/$(basename "$PAM_TOTP_SO")
	;;
esac

# An earlier run's folder still being removed (in the background, below):
# ext4 passes over inodes freed in the last minutes when it makes new
# files, so the imports and pam_google_authenticator's files would be
# timed against that.  Wait for the removal, then five minutes more.
settled=""
if pgrep -f '^rm -rf .*/pam_totp-bench[.]' >/dev/null 2>&1; then
	echo "bench: an earlier run's folder is being removed: waiting for it, then 300 s" >&2
	while pgrep -f '^rm -rf .*/pam_totp-bench[.]' >/dev/null 2>&1; do sleep 5; done
	sleep 300
	settled="An earlier run's folder was being removed at the start: the run waited for it, then 300 s."
fi

W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/pam_totp-bench.XXXXXX")
mkdir -p "$W/conf" "$RESULTS"
# A million files take minutes to delete: the scratch folder goes in the
# background once the report is written.
trap 'ldap_stop; xfs_umount 2>/dev/null || true; echo "bench: removing $W in the background" >&2; (setsid rm -rf "$W" >/dev/null 2>&1 &)' EXIT
trap 'exit 1' INT TERM
S=$W # where the stores go: $W, or the XFS image's mount (BENCH_XFS)
XFS_MNT=""
ROWS=$W/rows.tsv   # module n logins p50 p99 lps rss_kb gen_rate status note
KROWS=$W/krows.tsv # module k logins lps
RROWS=$W/register.tsv # n store_bytes ms apparent_bytes disk_bytes journal_bytes (see register_cost)
: >"$ROWS"
: >"$KROWS"
: >"$RROWS"

now_ns() { date +%s%N; }

# key=value out of the driver's line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# The PAM service file, and the store, of a module for n users.
service() { # module n
	case $1 in
	permit) echo "auth required pam_permit.so" ;;
	totp | totp-sync)
		sync=no # the default
		[ "$1" = totp-sync ] && sync=yes
		printf '[bench]\nstore = %s/totp/%%r.db\nsync_login = %s\n' "$S" "$sync" \
			>"$W/conf/$1.conf"
		echo "auth required $PAM_TOTP_SO realm=bench conf=$W/conf/$1.conf"
		;;
	oath) echo "auth required pam_oath.so usersfile=$S/users.oath window=1" ;;
	ga) echo "auth required pam_google_authenticator.so secret=$S/ga/\${USER} user=root" ;;
	ldap-*) ldap_service "$1" ;;
	esac >"$W/conf/bench-$1"
}

# Writes the records; prints the generator's records/s, or fails.
generate() { # module n
	case $1 in
	permit) echo "-" ;;
	totp | totp-sync)
		mkdir -p "$S/totp"
		out=$(timeout "$BENCH_GEN_BOUND" "$GEN" totp "$S/totp/bench.db" "$2") || return 1
		field "$out" records_per_s
		;;
	oath)
		out=$(timeout "$BENCH_GEN_BOUND" "$GEN" oath "$S/users.oath" "$2") || return 1
		field "$out" records_per_s
		;;
	ga)
		out=$(timeout "$BENCH_GEN_BOUND" "$GEN" ga "$S/ga" "$2") || return 1
		field "$out" records_per_s
		;;
	ldap-*) ldap_generate "$2" ;;
	esac
}

# What one more registration costs in a pam_totp store of n users (a new
# key is made in memory and written through a redo journal), and the
# store's bytes on disk before it: every file under $S/totp (the legacy
# file, or the shards and their lock files), summed by du both ways:
# --apparent-size (the files' lengths) and real (blocks allocated).
# Adds users n, n+1, ... (outside the logins' range), each in its own
# synced open, registered as a realm with emergency_codes = 0 does: no
# emergency codes, so no hashing is timed.
register_cost() { # n
	# once a size: the pam_totp rows may make a store of one size twice
	grep -q "^$1	" "$RROWS" && return 0
	db=$S/totp/bench.db
	apparent=$(du -s -B1 --apparent-size "$S/totp" | cut -f1)
	disk=$(du -s -B1 "$S/totp" | cut -f1)
	size=$apparent
	: >"$W/adds"
	: >"$W/journals"
	i=0
	while [ "$i" -lt "$BENCH_ADDS" ]; do
		out=$(timeout "$BENCH_GEN_BOUND" "$GEN" totp-add "$db" "$(($1 + i))") || break
		field "$out" seconds >>"$W/adds"
		field "$out" journal_bytes >>"$W/journals"
		i=$((i + 1))
	done
	ms=$(sort -n "$W/adds" | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", 1000 * v[int((NR + 1) / 2)]; else print "-" }')
	# the free space one registration needed besides the growth: its journal
	jb=$(sort -n "$W/journals" | awk '{ v[NR] = $1 } END { if (NR) print v[NR]; else print "-" }')
	echo "bench: totp, a new user in a store of $1 users ($apparent bytes apparent, $disk on disk): $ms ms (median of $i), journal up to $jb bytes" >&2
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$size" "$ms" "$apparent" "$disk" "$jb" >>"$RROWS"
	sync
}

# Moves the store aside (deleted with the scratch folder at the end).
clean_store() {
	mkdir -p "$S/trash"
	ldap_clean
	for f in totp users.oath users.oath.lock ga; do
		[ -e "$S/$f" ] && mv "$S/$f" "$S/trash/$(now_ns).$f"
	done
	have=""
}

# Puts a store of n users for module m in place, unless the one in place
# will do: the two pam_totp rows (and the parallel rows) share a store
# while it has users nobody has logged in yet, since pam_totp rightly
# refuses a second login with one step's code.  Sets rate and next (the
# first unused position of synth_pick's walk); fails when making the
# records passes the bound.
store_for() { # module n count
	kind=$1
	case $1 in totp*) kind=totp ;; ldap-*) kind=ldap ;; esac
	if [ "$have" = "$kind@$2" ] && [ $((next + $3)) -le "$2" ]; then
		return 0
	fi
	clean_store
	[ "$kind" = ldap ] && ! ldap_ready && return 1
	# Not started when the rate at the last size says it would pass the bound.
	eval "last=\${rate_$kind:-}"
	if [ -n "$last" ] && [ "$last" != - ] &&
		[ "$(awk -v n="$2" -v r="$last" -v b="$BENCH_GEN_BOUND" 'BEGIN { print (n / r > b) }')" = 1 ]; then
		why="making $2 records would take about $(awk -v n="$2" -v r="$last" 'BEGIN { printf "%.0f", n / r }') s at the last size's $last records/s, over the $BENCH_GEN_BOUND s bound"
		return 1
	fi
	why="making $2 records took over $BENCH_GEN_BOUND s"
	t0=$(now_ns)
	rate=$(generate "$1" "$2") || return 1
	eval "rate_$kind=\$rate"
	echo "bench: $kind, $2 records in $((($(now_ns) - t0) / 1000000)) ms" >&2
	sync
	[ "$kind" = totp ] && register_cost "$2"
	have="$kind@$2"
	next=0
}

row() { # module n
	m=$1
	n=$2
	count=$n
	[ "$n" -gt "$BENCH_ALL_MAX" ] && count=$BENCH_SAMPLE
	service "$m" "$n"
	if ! store_for "$m" "$n" "$count"; then
		printf '%s\t%s\t-\t-\t-\t-\t-\t-\tskipped\t%s\n' "$m" "$n" "$why" >>"$ROWS"
		clean_store
		return 0
	fi
	echo "bench: $m, $n users: $count logins..." >&2
	st=0
	# shellcheck disable=SC2046 # ldap_login_args: zero or two words
	out=$("$LOGIN" --service "bench-$m" --confdir "$W/conf" --users "$n" \
		--from "$next" --count "$count" --deadline "$BENCH_BOUND" --label "$m" \
		$(ldap_login_args "$m")) || st=$?
	next=$((next + count))
	echo "  $out" >&2
	logins=$(field "$out" logins)
	failed=$(field "$out" failed)
	note=""
	status=ok
	if [ -z "$logins" ] || [ "$st" -gt 1 ]; then
		status=skipped
		note="the driver failed (exit $st)"
	elif [ "$failed" != 0 ]; then
		status=failed
		note="$failed of $logins logins refused"
	elif [ "$(field "$out" stopped)" = deadline ]; then
		status=bounded
		note="stopped at the ${BENCH_BOUND} s bound after $logins of $count logins"
	fi
	[ "$count" -lt "$n" ] && [ "$status" = ok ] &&
		note="sample of $count users"
	if [ "$status" = bounded ] && [ "$logins" -lt 20 ]; then
		status=skipped
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$n" "$logins" \
		"$(field "$out" p50_us)" "$(field "$out" p99_us)" \
		"$(field "$out" logins_per_s)" "$(field "$out" maxrss_kb)" "$rate" \
		"$status" "$note" >>"$ROWS"
}

# K processes log in disjoint users of one realm, started together.
parallel_rows() { # module
	m=$1
	service "$m" "$BENCH_K_N"
	for k in $BENCH_K; do
		per=$((BENCH_K_LOGINS / k))
		store_for "$m" "$BENCH_K_N" "$((k * per))" || return 0
		start=$(($(now_ns) + 1500000000))
		pids=""
		i=0
		while [ "$i" -lt "$k" ]; do
			"$LOGIN" --service "bench-$m" --confdir "$W/conf" --users "$BENCH_K_N" \
				--from "$((next + i * per))" --count "$per" \
				--deadline "$BENCH_BOUND" --start-at "$start" \
				--label "$m-k$k-$i" >"$W/k.$i" &
			pids="$pids $!"
			i=$((i + 1))
		done
		st=0
		for p in $pids; do wait "$p" || st=1; done
		next=$((next + k * per))
		total=0
		last=0
		i=0
		while [ "$i" -lt "$k" ]; do
			out=$(cat "$W/k.$i")
			total=$((total + $(field "$out" logins)))
			e=$(field "$out" end_real_ns)
			[ "$e" -gt "$last" ] && last=$e
			i=$((i + 1))
		done
		lps=$(awk -v n="$total" -v ns="$((last - start))" 'BEGIN { printf "%.0f", n * 1e9 / ns }')
		[ "$st" = 0 ] || lps="$lps (some logins refused)"
		echo "bench: $m, K=$k: $total logins, $lps logins/s" >&2
		printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$BENCH_K_N" "$k" "$total" "$lps" >>"$KROWS"
	done
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
fs=$(df -PT "$W" | awk 'NR == 2 { print $2 }')
{
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) CPUs ($cpu), $(uname -sr), stores on"
	echo "$fs (\`$W\`), as root, by \`sudo ${BENCH_DIR:+BENCH_DIR=$BENCH_DIR }make bench\`"
	echo "(bench/run.sh).  Up to"
	echo "$BENCH_ALL_MAX users every user logs in once; above, a sample of $BENCH_SAMPLE users"
	echo "spread over the whole store.  Each row runs in its own process, on a store"
	echo "of its own (the pam_totp rows share one while it has users not yet logged"
	echo "in), and stops after $BENCH_BOUND s of logins; making a row's records may"
	echo "take $BENCH_GEN_BOUND s.  Users are resolved by the driver's own getpwnam"
	echo "(bench/synth_pwd.c), in O(1), not by NSS."
	[ -n "${BENCH_IN_NS:-}" ] && echo "No syslog daemon ran: /dev/console was /dev/null for the run."
	[ -n "$settled" ] && echo "$settled"
	echo "Load average (1, 5, 15 min) at the start: $(cut -d' ' -f1-3 /proc/loadavg);"
} >"$W/meta"

# The XFS part: a loop-mounted image (reflink=1), or a message why not.
xfs_umount() {
	if [ -n "$XFS_MNT" ]; then
		umount "$XFS_MNT" 2>/dev/null || umount -l "$XFS_MNT" 2>/dev/null || true
		rm -f "$W/xfs.img"
		XFS_MNT=""
	fi
}

xfs_mount() {
	command -v mkfs.xfs >/dev/null 2>&1 || {
		echo "bench: XFS part skipped: no mkfs.xfs (xfsprogs; scripts/deps.sh)" >&2
		return 1
	}
	{ command -v losetup >/dev/null 2>&1 && losetup -f >/dev/null 2>&1; } || {
		echo "bench: XFS part skipped: no free loop device (losetup -f)" >&2
		return 1
	}
	{ truncate -s "$BENCH_XFS_SIZE" "$W/xfs.img" &&
		mkfs.xfs -q -m reflink=1 "$W/xfs.img"; } || {
		echo "bench: XFS part skipped: mkfs.xfs -m reflink=1 failed" >&2
		rm -f "$W/xfs.img"
		return 1
	}
	mkdir -p "$W/xfs"
	mount -o loop "$W/xfs.img" "$W/xfs" || {
		echo "bench: XFS part skipped: cannot loop-mount the image" >&2
		rm -f "$W/xfs.img"
		return 1
	}
	XFS_MNT=$W/xfs
}

have=""
next=0
for n in $BENCH_NS; do
	for m in $BENCH_MODULES; do
		row "$m" "$n"
		case $m in
		totp*) if [ "$n" = "$BENCH_K_N" ]; then parallel_rows "$m"; fi ;;
		esac
	done
done
clean_store

# The XFS part: the BENCH_XFS_MODULES rows again, their stores on XFS.
XROWS=$W/rows-xfs.tsv
XRROWS=$W/register-xfs.tsv
: >"$XROWS"
: >"$XRROWS"
case $BENCH_XFS in
yes | 1) xfs_on=1 ;;
*) xfs_on="" ;;
esac
if [ -n "$xfs_on" ] && xfs_mount; then
	echo "bench: the XFS part: $BENCH_XFS_MODULES, stores on $XFS_MNT" >&2
	xfs_note="The XFS rows: stores on a loop-mounted XFS image (\`mkfs.xfs -m reflink=1\`, $BENCH_XFS_SIZE, in \`$W\`), in the same run."
	S=$XFS_MNT
	ROWS=$XROWS
	RROWS=$XRROWS
	have=""
	next=0
	for n in $BENCH_NS; do
		for m in $BENCH_XFS_MODULES; do row "$m" "$n"; done
	done
	clean_store
	S=$W
	ROWS=$W/rows.tsv
	RROWS=$W/register.tsv
	xfs_umount
fi

echo "at the end: $(cut -d' ' -f1-3 /proc/loadavg) (on $(nproc) CPUs: above $(nproc), other work shared the machine)." >>"$W/meta"
[ -n "${xfs_note:-}" ] && echo "$xfs_note" >>"$W/meta"
# The raw rows too, so that report.sh can redo the page without a rerun.
cp "$ROWS" "$RESULTS/rows.tsv"
cp "$KROWS" "$RESULTS/parallel.tsv"
cp "$RROWS" "$RESULTS/register.tsv"
cp "$XROWS" "$RESULTS/rows-xfs.tsv"
cp "$XRROWS" "$RESULTS/register-xfs.tsv"
cp "$W/meta" "$RESULTS/meta.md"
sh "$SRCDIR/bench/report.sh" "$ROWS" "$KROWS" "$W/meta" "$RESULTS" "$RROWS" "$XROWS" "$XRROWS"
echo "bench: wrote $RESULTS/results.md and $RESULTS/latency.png" >&2
