/*
 * list: every user of a system-store realm, for root.  Only a store that
 * holds every user in one database can be listed; a per-user store (or a
 * template with %u or %h) is refused with TOTP_R_INVALID.
 */
#ifndef ENROLL_LIST_H
#define ENROLL_LIST_H

#include <stddef.h>

#include "account.h"
#include "location.h"
#include "cfg.h"
#include "errors.h"
#include "record.h"

struct list_entry {
	char user[USER_NAME_MAX + 1];
	struct record rec; /* secret and emergency hashes wiped */
};

/* Fills a malloc'd array sorted by user name, removed ones left out;
 * the caller frees *out. */
int list_realm(const struct cfg *c, const struct store_location *loc,
	       struct list_entry **out, size_t *n, struct totp_err *err);

#endif
