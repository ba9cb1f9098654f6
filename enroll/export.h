/*
 * export: `totp-enroll export --user NAME` (root only), one user's record
 * for an audit: every field the record keeps except the secret and the
 * emergency codes' hashes (only how many there are and how many are left).
 *
 * JSON:
 *   {"details":{"sequence":"N","changeDate":..,"resourceOwner":REALM},
 *    "user":..,"record":{"version":1,"state":..,"type":..,"algorithm":..,
 *    "digits":N,"period":N,"window":N|null (null: the realm's),
 *    "nextCounter":"N" (hotp) | "lastUsedStep":"N"|null (totp),
 *    "failures":N,"lockedUntil":..|null,"created":..|null,
 *    "lastSuccess":{"time":..,"service":..,"rhost":..}|null,
 *    "lastFailure":{...}|null,
 *    "emergencyCodes":{"total":N,"left":N}}}
 * Text: the same, one "key value" line each.
 */
#ifndef ENROLL_EXPORT_H
#define ENROLL_EXPORT_H

#include "context.h"
#include "opts.h"

/* Runs the export; returns the exit code (sysexits.h). */
int export_command(const struct opts *o, const struct context *x);

#endif
