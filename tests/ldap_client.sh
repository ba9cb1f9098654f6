#!/bin/bash
# Runs tests/test_ldap_client (lib/ldap against a real slapd) inside the
# fixture of tests/ldap/fixture.sh: two providers, TLS, a stalled server.
# Skipped (77) when not root or without slapd; says so.
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || { echo "# skipped: $c not installed"; exit 77; }; done; }
need /usr/sbin/slapd /usr/sbin/slaptest ldapadd ldapsearch ldapwhoami openssl oathtool
need /usr/bin/python3
. "${top_srcdir:-.}/tests/ldap/fixture.sh"
ldap_fixture_up || { echo "not ok - the slapd fixture did not start"; exit 1; }
"${top_builddir:-.}/tests/test_ldap_client"
