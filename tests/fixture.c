/* fixture: tests/data files for the import tests (fixture.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"
#include "import.h"

char *fixture(const char *name, size_t max, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct totp_err err;
	char *buf = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", name);
	if (import_read_file(path, max, &buf, len, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return buf;
}
