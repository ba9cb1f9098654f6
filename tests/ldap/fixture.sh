# tests/ldap/fixture.sh: a real OpenLDAP for the ldap realm's tests
# (issue 14).  Sourced, not run.  Needs root (slapd's ldapi:// socket and
# the root-owned bind password file) and Debian's slapd.
#
#   ldap_fixture_up   makes a temp folder ($LT), a test CA, a second CA,
#                     a server certificate (IP:127.0.0.1 only), and starts
#                     two providers in multi-provider replication, each on
#                     ldap:// and ldaps:// on 127.0.0.1 and 127.0.0.2 and
#                     ldapi://$LT/pN.sock, with the ACLs of docs/ldap.md
#                     and the otp overlay; loads tests/ldap/data.ldif into
#                     provider 1 and waits for provider 2 to have it; and
#                     starts a "stalled server" (accepts, never answers).
#   ldap_kill N       kills provider N (1 or 2).
# Everything it starts is stopped at exit, failure or not (trap EXIT).
# The variables it exports are read by the C tests (tests/test_ldap_*.c).
set -u

: "${top_srcdir:=.}"
LDAP_SRC=$(cd "$top_srcdir" && pwd)/tests/ldap
SLAPD=/usr/sbin/slapd
PY=/usr/bin/python3

ldap_skip() { echo "# skipped: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || ldap_skip "not root (slapd's ldapi:// socket and a root-owned bind password file)"
[ -x "$SLAPD" ] || ldap_skip "$SLAPD missing: install slapd (scripts/deps.sh)"

LT=$(mktemp -d /tmp/ldap_test.XXXXXX)
LDAP_PIDS=""
ldap_cleanup() {
	local f
	for f in "$LT"/p1/slapd.pid "$LT"/p2/slapd.pid "$LT"/stall.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	for f in $LDAP_PIDS; do kill "$f" 2>/dev/null; done
	sleep 0.2
	for f in "$LT"/p1/slapd.pid "$LT"/p2/slapd.pid; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$LT"
}
trap ldap_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# urlencoded ldapi:// URI for a socket path
ldapi_uri() { printf 'ldapi://%s' "$(printf '%s' "$1" | sed 's|/|%2F|g')"; }

make_certs() {
	local d=$LT/tls
	mkdir -p "$d"
	# The test CA, the other CA, and the server's certificate for the
	# address 127.0.0.1 only: 127.0.0.2, where slapd listens too, is the
	# name-mismatch case.  (Not "localhost": libldap checks that name as
	# the machine's host name.)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pam_totp test CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
		-keyout "$d/other.key" -out "$d/other-ca.pem" 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null || return 1
	chmod 600 "$d"/*.key
}

# write_conf N PEER_URI: provider N's slapd.conf, replicating from PEER_URI.
write_conf() {
	local n=$1 peer=$2 d=$LT/p$1
	mkdir -p "$d/db"
	{
		cat <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
moduleload otp
pidfile $d/slapd.pid
argsfile $d/slapd.args
serverID $n
TLSCACertificateFile $LT/tls/ca.pem
TLSCertificateFile $LT/tls/server.pem
TLSCertificateKeyFile $LT/tls/server.key
# The local root over ldapi:// (SASL EXTERNAL) is the host identity.
authz-regexp "gidNumber=0\\\\+uidNumber=0,cn=peercred,cn=external,cn=auth"
	"cn=host1,ou=hosts,dc=example,dc=org"

database mdb
maxsize 67108864
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw secret
directory $d/db
index objectClass,uid,entryCSN,entryUUID eq
syncrepl rid=00$n provider=$peer bindmethod=simple
	binddn="cn=admin,dc=example,dc=org" credentials=secret
	searchbase="dc=example,dc=org" type=refreshAndPersist retry="1 +"
	timeout=2 network-timeout=2
multiprovider on
overlay syncprov
overlay otp
CONF
		sed -n '/^# ---- ACL begin/,/^# ---- ACL end/p' "$LDAP_SRC/acl.conf"
	} >"$d/slapd.conf"
}

start_provider() {
	local n=$1 d=$LT/p$1 port tport
	port=$(eval echo "\$LDAP_PORT$n")
	tport=$(eval echo "\$LDAPS_PORT$n")
	"$SLAPD" -f "$d/slapd.conf" \
		-h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$tport/ ldaps://127.0.0.2:$tport/ ldap://127.0.0.2:$port/ $(ldapi_uri "$d/sock")" \
		>"$d/log" 2>&1 || { cat "$d/log"; return 1; }
	for _ in $(seq 1 100); do
		ldapwhoami -x -H "ldap://127.0.0.1:$port" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "# provider $n did not start"; cat "$d/log"; return 1
}

ldap_kill() {
	local f=$LT/p$1/slapd.pid pid
	pid=$(cat "$f")
	kill "$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$pid"
}

# A socket that accepts connections and never answers.
start_stall() {
	LDAP_STALL_PORT=$(free_port)
	"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$LDAP_STALL_PORT" &
	echo $! >"$LT/stall.pid"
	for _ in $(seq 1 50); do
		"$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' \
			"$LDAP_STALL_PORT" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ldap_fixture_up() {
	make_certs || { echo "# cannot make the test CA"; return 1; }
	LDAP_PORT1=$(free_port) LDAP_PORT2=$(free_port)
	LDAPS_PORT1=$(free_port) LDAPS_PORT2=$(free_port)
	write_conf 1 "ldap://127.0.0.1:$LDAP_PORT2"
	write_conf 2 "ldap://127.0.0.1:$LDAP_PORT1"
	/usr/sbin/slaptest -Q -u -f "$LT/p1/slapd.conf" || { echo "# slaptest refused the config"; return 1; }
	start_provider 1 || return 1
	start_provider 2 || return 1
	# The host's bind password: root-owned, 0600.
	printf 'hostpw\n' >"$LT/hostpw"
	chmod 600 "$LT/hostpw"
	ldapadd -x -H "ldap://127.0.0.1:$LDAP_PORT1" -D cn=admin,dc=example,dc=org -w secret \
		-f "$LDAP_SRC/data.ldif" >"$LT/load.log" 2>&1 || { cat "$LT/load.log"; return 1; }
	# Wait until provider 2 has the last entry of data.ldif.
	for _ in $(seq 1 100); do
		ldapsearch -x -LLL -H "ldap://127.0.0.1:$LDAP_PORT2" -D cn=admin,dc=example,dc=org \
			-w secret -b cn=racer,ou=tokens,dc=example,dc=org -s base dn 2>/dev/null |
			grep -q '^dn:' && break
		sleep 0.1
	done
	start_stall || { echo "# the stalled server did not start"; return 1; }
	export LDAPT_DIR=$LT
	export LDAPT_URI1="ldap://127.0.0.1:$LDAP_PORT1" LDAPT_URI2="ldap://127.0.0.1:$LDAP_PORT2"
	export LDAPT_LDAPS1="ldaps://127.0.0.1:$LDAPS_PORT1"
	export LDAPT_LDAPS1_WRONG_NAME="ldaps://127.0.0.2:$LDAPS_PORT1"
	export LDAPT_STARTTLS1_WRONG_NAME="ldap://127.0.0.2:$LDAP_PORT1"
	export LDAPT_LDAPI1 LDAPT_LDAPI2
	LDAPT_LDAPI1=$(ldapi_uri "$LT/p1/sock")
	LDAPT_LDAPI2=$(ldapi_uri "$LT/p2/sock")
	export LDAPT_STALL="ldap://127.0.0.1:$LDAP_STALL_PORT"
	export LDAPT_CA=$LT/tls/ca.pem LDAPT_OTHER_CA=$LT/tls/other-ca.pem
	export LDAPT_PW_FILE=$LT/hostpw
	export LDAPT_P1_PID LDAPT_P2_PID
	LDAPT_P1_PID=$(cat "$LT/p1/slapd.pid")
	LDAPT_P2_PID=$(cat "$LT/p2/slapd.pid")
}
