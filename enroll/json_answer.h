/*
 * json_answer: totp-enroll's JSON answers, one object on stdout each, in the
 * shapes of ZITADEL's user service:
 *
 *   details   {"sequence":"N","changeDate":"RFC 3339 ms","resourceOwner":REALM}
 *   register  {"details":{...},"uri":"otpauth://...","secret":"BASE32",
 *              "emergencyCodes":["12345678",...]}
 *   codes     {"details":{...},"emergencyCodes":["12345678",...]}
 *   verify, remove, unlock   {"details":{...}}
 *   status    {"details":{...},"user":..,"state":..,"type":..,"algorithm":..,
 *              "digits":N,"period":N,"created":..,"lastSuccess":{..}|null,
 *              "lastFailure":{..}|null,"failures":N,"lockedUntil":..|null,
 *              "emergencyCodesLeft":N}
 *   list      {"details":{"totalResult":"N","resourceOwner":REALM},
 *              "result":[{"user":..,"state":..,...},...]}
 *   error     {"code":GRPC,"message":"...","details":[{"@type":
 *              "type.googleapis.com/google.rpc.ErrorInfo","reason":"symlink",
 *              "domain":"pam_totp"}]}
 *
 * Each returns 0, or -1 when stdout could not be written.
 */
#ifndef ENROLL_ANSWER_H
#define ENROLL_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "errors.h"
#include "json.h"
#include "lifecycle.h"
#include "list.h"

/* Pieces the answers share (export.c uses them too): the "details"
 * member; seconds as an RFC 3339 string or null for "never"; an event as
 * {time, service, rhost, by} or null, `by` naming the generator of r
 * that was used ("emergency" for an emergency code, null for none); the
 * "generators" array, [{name, state, type, algorithm, digits, period
 * (TOTP), created, lastUsed}], and with `steps` (export) window,
 * nextCounter or lastUsedStep and drift (TOTP) too. */
void answer_details_object(struct json *j, const struct record *r, const char *realm);
void answer_time_or_null(struct json *j, const char *key, int64_t seconds);
void answer_event(struct json *j, const char *key, const struct record_event *e,
		  const struct record *r);
void answer_generators(struct json *j, const struct record *r, bool steps);
/* A generator's state, type, algorithm, digits and period (TOTP); and
 * its window (null: the realm's) and nextCounter (HOTP) or lastUsedStep
 * (TOTP, null before the first). */
void answer_gen_kind(struct json *j, const struct record_gen *g);
void answer_gen_steps(struct json *j, const struct record_gen *g);

int answer_error(FILE *f, const struct totp_err *e);

/* Opens the error object answer_error writes: code, message and a
 * "details" array holding the ErrorInfo, both left open for the caller
 * to add details to and close (array, then object). */
void answer_error_open(struct json *j, const struct totp_err *e);
int answer_register(FILE *f, const struct registration *r, const char *realm);
int answer_codes(FILE *f, const struct new_codes *n, const char *realm);
int answer_details(FILE *f, const struct record *r, const char *realm);
int answer_status(FILE *f, const char *user, const struct record *r, const char *realm);
int answer_list(FILE *f, const char *realm, const struct list_entry *v, size_t n);

#endif
