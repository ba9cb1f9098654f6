/*
 * fixture: the import tests' sample files, tests/data/NAME under
 * $top_srcdir (make check sets it; "." otherwise), read with the import's
 * own reader and its size limit.  Fails the test when the file cannot be
 * read; the caller frees the buffer with import_buf_free.
 */
#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H

#include <stddef.h>

char *fixture(const char *name, size_t max, size_t *len);

#endif
