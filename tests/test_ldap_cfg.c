/* lib/ldap without a server: the realm's keys, RFC 4515 filter escaping,
 * RFC 4514 token DNs, and the checks on the bind password file. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ldap/ldap_cfg.h"
#include "ldap/ldap_conn.h"

static void set_ok(struct ldap_realm_cfg *c, const char *k, const char *v)
{
	struct totp_err e;

	if (ldap_cfg_set(c, k, v, &e) != 0)
		fail_msg("%s=%s refused: %s", k, v, e.msg);
}

static void set_bad(struct ldap_realm_cfg *c, const char *k, const char *v)
{
	struct totp_err e;

	totp_err_clear(&e);
	assert_int_equal(ldap_cfg_set(c, k, v, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CONFIG);
}

static void test_keys(void **state)
{
	struct ldap_realm_cfg c;
	struct totp_err e;

	(void)state;
	ldap_cfg_init(&c);
	assert_true(ldap_cfg_is_key("ldap_uri"));
	assert_true(ldap_cfg_is_key("ldap_check"));
	assert_false(ldap_cfg_is_key("store"));
	assert_string_equal(ldap_cfg_filter(&c), "(uid=%u)");
	assert_int_equal(c.timeout_ms, LDAP_CFG_TIMEOUT_DEFAULT);
	set_ok(&c, "ldap_uri",
	       "ldap://127.0.0.1:389  ldaps://ldap2.example.org "
	       "ldapi://%2Frun%2Fslapd%2Fldapi");
	assert_int_equal(c.n_uri, 3);
	assert_string_equal(c.uri[1], "ldaps://ldap2.example.org");
	set_bad(&c, "ldap_uri", "http://example.org");
	set_bad(&c, "ldap_uri", "ldap://h/dc=example,dc=org?uid");
	set_bad(&c, "ldap_uri", "   ");
	set_bad(&c, "ldap_uri",
		"ldap://a ldap://b ldap://c ldap://d ldap://e ldap://f ldap://g ldap://h "
		"ldap://i");
	assert_int_equal(c.n_uri, 3); /* unchanged by refusals */
	set_ok(&c, "ldap_base", "ou=people,dc=example,dc=org");
	set_bad(&c, "ldap_base", "not a dn");
	set_bad(&c, "ldap_params", "");
	set_ok(&c, "ldap_filter", "(&(objectClass=posixAccount)(uid=%u))");
	set_bad(&c, "ldap_filter", "uid=%u");
	set_bad(&c, "ldap_filter", "(uid=%s)");
	set_bad(&c, "ldap_filter", "(objectClass=*)");
	set_bad(&c, "ldap_filter", "(uid=%u))(");
	set_ok(&c, "ldap_timeout", "1500");
	assert_int_equal(c.timeout_ms, 1500);
	set_bad(&c, "ldap_timeout", "0");
	set_bad(&c, "ldap_timeout", "-5");
	set_bad(&c, "ldap_timeout", "10s");
	set_bad(&c, "ldap_timeout", "99999999999999999999");
	set_ok(&c, "ldap_check", "bind");
	assert_int_equal(c.check, LDAP_CHECK_BIND);
	set_bad(&c, "ldap_check", "compare");
	set_bad(&c, "ldap_tls_ca", "relative/ca.pem");
	set_bad(&c, "ldap_nope", "x");
	set_bad(&c, "ldap_base", "dc=a\n,dc=b");
	/* Together: ldaps:// and a remote ldap:// need a CA; binddn needs a
	 * password file; without binddn every URI must be ldapi://. */
	assert_int_equal(ldap_cfg_check(&c, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CONFIG);
	assert_non_null(strstr(e.msg, "ldap_tls_ca"));
	set_ok(&c, "ldap_tls_ca", "/etc/ssl/certs/ca.pem");
	assert_int_equal(ldap_cfg_check(&c, &e), -1);
	assert_non_null(strstr(e.msg, "SASL EXTERNAL"));
	set_ok(&c, "ldap_binddn", "cn=host1,ou=hosts,dc=example,dc=org");
	assert_int_equal(ldap_cfg_check(&c, &e), -1);
	set_ok(&c, "ldap_bindpw_file", "/etc/pam_totp/ldap.pw");
	assert_int_equal(ldap_cfg_check(&c, &e), 0);
	/* The administrative identity (root's totp-enroll): both or neither. */
	assert_true(ldap_cfg_is_key("ldap_admin_binddn"));
	set_bad(&c, "ldap_admin_binddn", "not a dn");
	set_bad(&c, "ldap_admin_bindpw_file", "relative/admin.pw");
	set_ok(&c, "ldap_admin_binddn", "cn=admin,dc=example,dc=org");
	assert_int_equal(ldap_cfg_check(&c, &e), -1);
	assert_non_null(strstr(e.msg, "ldap_admin_bindpw_file"));
	set_ok(&c, "ldap_admin_bindpw_file", "/etc/pam_totp/ldap-admin.pw");
	assert_int_equal(ldap_cfg_check(&c, &e), 0);
	assert_string_equal(c.admin_binddn, "cn=admin,dc=example,dc=org");
	ldap_cfg_free(&c);
	assert_null(c.admin_binddn);
	assert_int_equal(c.n_uri, 0);
	assert_null(c.base);

	ldap_cfg_init(&c);
	set_ok(&c, "ldap_uri", "ldap://ldap.example.org");
	set_ok(&c, "ldap_base", "dc=example,dc=org");
	set_ok(&c, "ldap_binddn", "cn=h,dc=example,dc=org");
	set_ok(&c, "ldap_bindpw_file", "/p");
	assert_int_equal(ldap_cfg_check(&c, &e), -1); /* clear text to a remote host */
	ldap_cfg_free(&c);
	assert_true(ldap_cfg_uri_is_loopback("ldap://127.0.0.1:10389"));
	assert_true(ldap_cfg_uri_is_loopback("ldap://localhost"));
	assert_false(ldap_cfg_uri_is_loopback("ldap://127.0.0.1.evil.example"));
}

static void test_escape(void **state)
{
	char out[LDAPC_FILTER_MAX];
	struct totp_err e;

	(void)state;
	assert_int_equal(ldapc_filter_escape("a*b(c)\\d", out, sizeof(out), &e), 0);
	assert_string_equal(out, "a\\2ab\\28c\\29\\5cd");
	assert_int_equal(ldapc_filter_escape("j\xc3\xb6rg\x01", out, sizeof(out), &e), 0);
	assert_string_equal(out, "j\\c3\\b6rg\\01");
	assert_int_equal(
	    ldapc_user_filter("(&(uid=%u)(cn=%%x))", "x)(uid=*", out, sizeof(out), &e),
	    0);
	assert_string_equal(out, "(&(uid=x\\29\\28uid=\\2a)(cn=%x))");
	assert_int_equal(ldapc_user_filter("(uid=%u)", "", out, sizeof(out), &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(ldapc_filter_escape("****", out, 12, &e), -1);
	assert_int_equal(
	    ldapc_child_dn("cn", "a,b+c", "ou=tokens,dc=x", out, sizeof(out), &e), 0);
	assert_string_equal(out, "cn=a\\,b\\+c,ou=tokens,dc=x");
	assert_int_equal(ldapc_child_dn("cn", " #x ", "dc=x", out, sizeof(out), &e), 0);
	assert_string_equal(out, "cn=\\ #x\\ ,dc=x");
}

static void test_bindpw(void **state)
{
	char dir[] = "/tmp/ldap_pw.XXXXXX", path[PATH_MAX], link[PATH_MAX], pw[64];
	struct totp_err e;
	int fd;

	(void)state;
	if (geteuid() != 0) {
		print_message("# skipping the owner checks: not root\n");
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pw", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	assert_int_equal(ldapc_read_bindpw(path, pw, sizeof(pw), &e), 0);
	assert_string_equal(pw, "s3cret");
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(ldapc_read_bindpw(path, pw, sizeof(pw), &e), -1);
	assert_int_equal(e.reason, TOTP_R_BAD_MODE);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(ldapc_read_bindpw(path, pw, sizeof(pw), &e), -1);
	assert_int_equal(e.reason, TOTP_R_BAD_OWNER);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ldapc_read_bindpw(link, pw, sizeof(pw), &e), -1);
	assert_int_equal(e.reason, TOTP_R_SYMLINK);
	assert_int_equal(ldapc_read_bindpw(dir, pw, sizeof(pw), &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_REGULAR);
	assert_int_equal(ldapc_read_bindpw(path, pw, 4, &e), -1); /* too long */
	unlink(link);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_bindpw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
