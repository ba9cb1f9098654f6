# shellcheck shell=sh
# shellcheck disable=SC2034 # why: read by run.sh's row()
# bench/ldap.sh: the ldap realm's rows (issue 14), sourced by bench/run.sh.
#
#   ldap-read   pam_totp, a realm with store = ldap, ldap_check = read
#   ldap-bind   the same realm, ldap_check = bind (the password, then the
#               code; slapo-otp checks them inside the directory)
#
# One slapd (Debian's, mdb, the otp overlay, docs/ldap.md's ACLs from
# tests/ldap/acl.conf) in the bench's scratch folder, listening on an
# ldapi:// socket only; the host identity is root over that socket (SASL
# EXTERNAL, mapped to cn=host1, a member of cn=otp-hosts).  Its N users and
# their tokens are written by bench_gen ldif (the derived secrets the driver
# answers codes from, and the passwords "pw-NAME") and loaded with slapadd
# before slapd starts.  Both rows share the directory while it has users
# not yet logged in (a code is never accepted twice).  mdb keeps its
# default durability: every accepted code is a synced write.
# Needs slapd and ldap-utils (scripts/deps.sh); the rows are skipped with a
# note without them.

LDAP_SUFFIX="dc=example,dc=org"
LDAP_PW_PREFIX=pw-

# Sets why and fails when the directory cannot be made here.
ldap_ready() {
	for c in /usr/sbin/slapd /usr/sbin/slapadd /usr/bin/ldapwhoami; do
		[ -x "$c" ] || {
			why="$c is not installed (slapd, ldap-utils: scripts/deps.sh)"
			return 1
		}
	done
	[ -e /usr/lib/ldap/otp.so ] || [ -e /usr/lib/ldap/otp.la ] || {
		why="slapd's otp overlay (/usr/lib/ldap/otp.so) is missing"
		return 1
	}
}

ldap_uri() { printf 'ldapi://%s' "$(printf '%s' "$W/ldap/sock" | sed 's|/|%2F|g')"; }

# The realm file, and the service's line.
ldap_service() { # module
	check="read"
	[ "$1" = ldap-bind ] && check=bind
	cat >"$W/conf/$1.conf" <<CONF
[bench]
store = ldap
ldap_uri = $(ldap_uri)
ldap_base = ou=people,$LDAP_SUFFIX
ldap_tokens = ou=tokens,$LDAP_SUFFIX
ldap_params = cn=totp-sha1-6,ou=params,$LDAP_SUFFIX
ldap_check = $check
CONF
	echo "auth required $PAM_TOTP_SO realm=bench conf=$W/conf/$1.conf"
}

# The driver's extra options for a row.
ldap_login_args() { # module
	case $1 in ldap-bind) echo "--password-prefix $LDAP_PW_PREFIX" ;; esac
}

ldap_conf() {
	d=$W/ldap
	cat <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload otp
pidfile $d/slapd.pid
argsfile $d/slapd.args
authz-regexp "gidNumber=0\\\\+uidNumber=0,cn=peercred,cn=external,cn=auth"
	"cn=host1,ou=hosts,$LDAP_SUFFIX"

database mdb
maxsize 4294967296
suffix "$LDAP_SUFFIX"
rootdn "cn=admin,$LDAP_SUFFIX"
directory $d/db
index objectClass,uid eq
overlay otp
CONF
	sed -n '/^# ---- ACL begin/,/^# ---- ACL end/p' "$SRCDIR/tests/ldap/acl.conf"
}

ldap_base_ldif() {
	for ou in people tokens params hosts groups; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$LDAP_SUFFIX" "$ou"
	done
	cat <<LDIF
dn: cn=host1,ou=hosts,$LDAP_SUFFIX
objectClass: organizationalRole
cn: host1

dn: cn=otp-hosts,ou=groups,$LDAP_SUFFIX
objectClass: groupOfNames
cn: otp-hosts
member: cn=host1,ou=hosts,$LDAP_SUFFIX

dn: cn=totp-sha1-6,ou=params,$LDAP_SUFFIX
objectClass: device
objectClass: oathTOTPParams
cn: totp-sha1-6
oathOTPLength: 6
oathHMACAlgorithm: 1.2.840.113549.2.7
oathTOTPTimeStepPeriod: 30
oathTOTPTimeStepWindow: 1

LDIF
}

# Writes the LDIF, loads it (slapadd), starts slapd; prints the records/s
# of the whole (N users and N tokens are N records), or fails.
ldap_generate() { # n
	d=$W/ldap
	mkdir -p "$d/db"
	t0=$(now_ns)
	ldap_conf >"$d/slapd.conf"
	{
		printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n\n' "$LDAP_SUFFIX"
		ldap_base_ldif
	} >"$d/base.ldif"
	timeout "$BENCH_GEN_BOUND" "$GEN" ldif "$d/users.ldif" "$1" >/dev/null || return 1
	cat "$d/users.ldif" >>"$d/base.ldif"
	rm -f "$d/users.ldif"
	timeout "$BENCH_GEN_BOUND" /usr/sbin/slapadd -q -f "$d/slapd.conf" -l "$d/base.ldif" \
		>"$d/slapadd.log" 2>&1 || {
		cat "$d/slapadd.log" >&2
		return 1
	}
	/usr/sbin/slapd -f "$d/slapd.conf" -h "$(ldap_uri)" >"$d/log" 2>&1 </dev/null || {
		cat "$d/log" >&2
		return 1
	}
	for _ in $(seq 1 100); do
		if ldapwhoami -Q -Y EXTERNAL -H "$(ldap_uri)" >/dev/null 2>&1; then
			awk -v n="$1" -v ns="$(($(now_ns) - t0))" 'BEGIN { printf "%.0f\n", n * 1e9 / ns }'
			return 0
		fi
		sleep 0.1
	done
	echo "bench: slapd did not start" >&2
	cat "$d/log" >&2
	return 1
}

# Stops the slapd (by its pid file) and moves its folder aside.
ldap_stop() {
	f=$W/ldap/slapd.pid
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$f"
}

ldap_clean() {
	ldap_stop
	[ -e "$W/ldap" ] && mv "$W/ldap" "$W/trash/$(now_ns).ldap"
	return 0
}
