#!/bin/sh
# Turns run.sh's rows into results.md and latency.png.
#   report.sh ROWS.tsv KROWS.tsv META OUTDIR [RROWS.tsv [XROWS.tsv XRROWS.tsv]]
# ROWS: module n logins p50 p99 logins/s rss_kb gen_rate status note
# KROWS: module k logins logins/s
# RROWS: n store_bytes ms apparent disk journal (one registration into a pam_totp
#        store of n)
# XROWS, XRROWS: the same rows with the stores on XFS (run.sh, BENCH_XFS)
set -eu
rows=$1
krows=$2
meta=$3
out=$4
rrows=${5:-}
xrows=${6:-}
xrrows=${7:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

label() {
	case $1 in
	permit) echo "pam_permit (floor)" ;;
	totp) echo "pam_totp" ;;
	totp-sync) echo "pam_totp, sync_login=yes" ;;
	oath) echo "pam_oath" ;;
	ga) echo "pam_google_authenticator" ;;
	ldap-read) echo "pam_totp, ldap realm, ldap_check=read" ;;
	ldap-bind) echo "pam_totp, ldap realm, ldap_check=bind" ;;
	*) echo "$1" ;;
	esac
}

# The scale table of one file system's rows: ROWS RROWS.
scale_table() {
	echo "| users | one registration (ms) | free space one registration needs (its journal, largest) | store, apparent | store, on disk | bytes per user, apparent | bytes per user, on disk | login p50 vs pam_permit | bulk records/s |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk -F'\t' '
	FNR == NR { if ($9 == "ok" || $9 == "bounded") p[$1 "@" $2] = $4; if ($1 == "totp") g[$2] = $8; next }
	function mb(b) { return b == "" ? "-" : sprintf("%.1f MB", b / 1e6) }
	function per(b, n) { return b == "" ? "-" : sprintf("%.0f", b / n) }
	{
		n = $1; ms = $3; ap = ($4 != "") ? $4 : $2; dk = $5
		r = "-"
		if (p["totp@" n] + 0 > 0 && p["permit@" n] + 0 > 0)
			r = sprintf("%.2fx (%s vs %s µs)", p["totp@" n] / p["permit@" n], p["totp@" n], p["permit@" n])
		jb = ($6 != "" && $6 != "-") ? sprintf("%.1f KB", $6 / 1e3) : "-"
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, ms, jb, mb(ap), mb(dk), per(ap, n), per(dk, n), r, (n in g) ? g[n] : "-"
	}' "$1" "$2"
}

{
	echo "# Login cost against the number of users"
	echo
	cat "$meta"
	echo
	echo "## Per login"
	echo
	echo "Time of one \`pam_authenticate\` (the module's whole work, the prompt answered"
	echo "at once by the driver); logins/s over the whole loop (\`pam_start\`,"
	echo "\`pam_authenticate\`, \`pam_end\`) in one process; peak RSS of that process."
	echo
	echo "| module | users | logins | p50 µs | p99 µs | logins/s | peak RSS MiB | note |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	while IFS='	' read -r m n logins p50 p99 lps rss rate status note; do
		rssm=-
		[ "$rss" != - ] && rssm=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
		case $status in
		skipped) p50=-; p99=-; lps=-; rssm=-; note="skipped: $note" ;;
		failed) note="FAILED: $note" ;;
		esac
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(label "$m")" "$n" \
			"$logins" "$p50" "$p99" "$lps" "$rssm" "$note"
	done <"$rows"
	echo
	echo "## Targets"
	echo
	echo "Shown, not asserted.  Ratios of p50."
	echo
	echo "| target | measured | met |"
	echo "| --- | --- | --- |"
	awk -F'\t' -v totps="totp totp-sync" '
	$9 == "ok" || $9 == "bounded" { p[$1 "@" $2] = $4; seen[$2] = 1 }
	function have(k) { return (k in p) && p[k] != "" && p[k] + 0 > 0 }
	function name(m) { return m == "totp" ? "pam_totp" : "pam_totp, sync_login=yes" }
	function line(what, a, b, limit, inv,   r) {
		if (!have(a) || !have(b)) { printf "| %s | not measured | - |\n", what; return }
		r = p[a] / p[b]
		if (inv && r <= 1) printf "| %s | 1/%.1f (%s vs %s µs) | %s |\n", what, 1 / r, p[a], p[b], r <= limit ? "yes" : "no"
		else if (inv) printf "| %s | %.2fx, slower (%s vs %s µs) | no |\n", what, r, p[a], p[b]
		else printf "| %s | %.2fx (%s vs %s µs) | %s |\n", what, r, p[a], p[b], r <= limit ? "yes" : "no"
	}
	END {
		split(totps, ts, " ")
		for (i = 1; i <= 2; i++) {
			t = ts[i]; nm = name(t)
			line(nm ": at 100k users, p50 <= 1/50 of pam_oath", t "@100000", "oath@100000", 1 / 50, 1)
			line(nm ": at 100k users, p50 <= 1/4 of pam_google_authenticator", t "@100000", "ga@100000", 1 / 4, 1)
			line(nm ": 1M users within 1.5x of 1k users", t "@1000000", t "@1000", 1.5, 0)
			for (n = 1000; n <= 1000000; n *= 10)
				line(nm ": within 3x of pam_permit, " n " users", t "@" n, "permit@" n, 3, 0)
		}
	}' "$rows"
	echo
	echo "## Enrolment"
	echo
	echo "Records written per second by \`bench_gen\` (pam_totp: one locked open, a"
	echo "\`store_put\` per user with sync off, one sync at the end; the peers: their"
	echo "files written directly)."
	echo
	echo "| module | users | records/s |"
	echo "| --- | ---: | ---: |"
	while IFS='	' read -r m n logins p50 p99 lps rss rate status note; do
		# permit has no records; the sync_login=yes rows share pam_totp's store.
		case $m in permit | totp-sync) continue ;; esac
		[ "$rate" = - ] && rate="- ($note)"
		printf '| %s | %s | %s |\n' "$(label "$m")" "$n" "$rate"
	done <"$rows"
	if [ -n "$rrows" ] && [ -s "$rrows" ]; then
		echo
		echo "## Scale: one registration, bytes per user, login vs pam_permit"
		echo
		echo "One registration: the median time of \`bench_gen totp-add\` (one more"
		echo "user, its own locked and synced open, no emergency codes: what a realm"
		echo "with \`emergency_codes = 0\` pays, no hashing). A new key is written in"
		echo "place in the user's shard through a redo journal in the shard's lock"
		echo "file (crash safety, lib/store/redo.h): the free space it needs is that"
		echo "journal (the largest of the registrations) and the shard's growth, no"
		echo "copy of the shard. Bytes: every file"
		echo "of the store (a sharded store: the sum over its shard files, their lock"
		echo "files and its folder) by \`du -s -B1 --apparent-size\` (the files' lengths) and by"
		echo "\`du -s -B1\` (blocks allocated: what the disk pays), before the"
		echo "registrations, divided by the users. Login vs pam_permit: the ratio of"
		echo "p50s of the pam_totp and pam_permit rows of this run at that size. Bulk:"
		echo "bench_gen's records/s making that store (one batch, as \`import\`)."
		echo
		scale_table "$rows" "$rrows"
		if [ -n "$xrrows" ] && [ -s "$xrrows" ]; then
			echo
			echo "### The same on XFS (reflink=1)"
			echo
			echo "The stores on a loop-mounted XFS image made with \`mkfs.xfs -m reflink=1\`"
			echo "(bench/run.sh, BENCH_XFS=yes), in the same run (a batch's staged copy"
			echo "of a shard is a \`copy_file_range\` that shares its blocks there);"
			echo "login vs pam_permit is against this part's own pam_permit row."
			echo
			scale_table "$xrows" "$xrrows"
		fi
	fi
	if [ -s "$krows" ]; then
		echo
		echo "## Parallel logins"
		echo
		echo "K processes started together, each logging in its own users of one realm;"
		echo "logins/s is all their logins over the time from the common start to the"
		echo "last one's end."
		echo
		echo "| module | users | K | logins | logins/s |"
		echo "| --- | ---: | ---: | ---: | ---: |"
		while IFS='	' read -r m kn k logins lps; do
			printf '| %s | %s | %s | %s | %s |\n' "$(label "$m")" "$kn" "$k" "$logins" "$lps"
		done <"$krows"
	fi
} >"$out/results.md"

# One data file per module: users, p50.
plots=""
for m in $(cut -f1 "$rows" | awk '!seen[$0]++'); do
	awk -F'\t' -v m="$m" '$1 == m && ($9 == "ok" || $9 == "bounded") { print $2, $4 }' \
		"$rows" >"$tmp/$m.dat"
	[ -s "$tmp/$m.dat" ] || continue
	plots="$plots${plots:+, }'$tmp/$m.dat' using 1:2 with linespoints lw 2 title '$(label "$m")'"
done
if [ -n "$plots" ]; then
	gnuplot <<EOF
set terminal pngcairo size 900,560 font ",11" noenhanced
set output '$out/latency.png'
set title 'Login latency (p50 of pam_authenticate) against the number of users'
set xlabel 'users in the store'
set ylabel 'p50 latency, microseconds'
set logscale x
set logscale y
set grid
set key top left
set xrange [500:2000000]
set xtics ("1k" 1000, "10k" 10000, "100k" 100000, "1M" 1000000)
plot $plots
EOF
fi
