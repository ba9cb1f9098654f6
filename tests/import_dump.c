/*
 * import_dump: prints what the import parsers make of a file, for the
 * shell tests (tests/import_*.sh).  Test-only: it prints secrets.
 *
 *   import_dump ga FILE | import_dump oath FILE
 *
 * One line per entry: user= line= type= digits= period= window= counter=
 * secret=BASE32 codes=a,b,...; then "problem LINE: message" per report.
 * Exit 0; 1 when the file is refused; 2 when lines were reported.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "import.h"
#include "import_ga.h"
#include "import_oath.h"

static void print_entry(const struct import_entry *e)
{
	char b32[SECRET_B32_MAX];
	struct totp_err err;

	if (base32_encode(e->secret, e->secret_len, b32, sizeof(b32), &err) < 0)
		b32[0] = '\0';
	printf("user=%s line=%u type=%s digits=%u period=%u window=%u counter=%llu "
	       "last_used=%lld secret=%s codes=",
	       e->user, e->line, otp_type_name(e->params.type), e->params.digits,
	       e->params.period, e->window, (unsigned long long)e->counter,
	       (long long)e->last_used, b32);
	for (unsigned i = 0; i < e->n_codes; i++)
		printf("%s%s", i ? "," : "", e->codes[i]);
	printf("\n");
	explicit_bzero(b32, sizeof(b32));
}

static int dump_ga(const char *buf, size_t len)
{
	struct import_entry e;
	struct totp_err err;

	if (import_ga_parse(buf, len, &e, &err) < 0) {
		fprintf(stderr, "import_dump: %s\n", err.msg);
		return 1;
	}
	print_entry(&e);
	import_entry_wipe(&e);
	return 0;
}

static int dump_oath(const char *buf, size_t len)
{
	struct import_oath_result r;
	struct totp_err err;
	int rc;

	if (import_oath_parse(buf, len, &r, &err) < 0) {
		fprintf(stderr, "import_dump: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < r.n_entries; i++)
		print_entry(&r.entries[i]);
	for (size_t i = 0; i < r.n_problems; i++)
		printf("problem %u: %s\n", r.problems[i].line, r.problems[i].msg);
	rc = r.n_problems ? 2 : 0;
	import_oath_result_free(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct totp_err err;
	char *buf;
	size_t len;
	int rc;
	int ga;

	if (argc != 3 || (strcmp(argv[1], "ga") != 0 && strcmp(argv[1], "oath") != 0)) {
		fprintf(stderr, "usage: import_dump ga|oath FILE\n");
		return 64;
	}
	ga = strcmp(argv[1], "ga") == 0;
	if (import_read_file(argv[2], ga ? IMPORT_GA_MAX : IMPORT_OATH_MAX, &buf, &len,
			     &err) < 0) {
		fprintf(stderr, "import_dump: %s\n", err.msg);
		return 1;
	}
	rc = ga ? dump_ga(buf, len) : dump_oath(buf, len);
	import_buf_free(buf, len);
	return rc;
}
