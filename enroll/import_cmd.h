/*
 * import_cmd: moving users over from google-authenticator-libpam and
 * pam_oath without re-enrolling their phones.
 *
 *   import --from google-authenticator [FILE]
 *       FILE (default: the target's ~/.google_authenticator) becomes the
 *       target's ready record: as a user, in their own store; as root with
 *       --user, in whatever store the realm names (a system store, say).
 *       The default file is read with the target's ids, so root never
 *       reads through a user's file something the user could not.
 *   import --from oath FILE            (root only)
 *       every token of a pam_oath users file, into a realm that keeps all
 *       its users in one system database.  Any line that cannot be taken
 *       (lib/import/import_oath.h), any user unknown to this system or outside
 *       the realm's allow_* settings, any user who already has a ready
 *       generator: all are listed with their line numbers, and nothing at
 *       all is written.
 *   --dry-run  says what would happen and writes nothing.
 * The source file is opened O_RDONLY|O_NOFOLLOW and never changed.
 */
#ifndef ENROLL_IMPORT_CMD_H
#define ENROLL_IMPORT_CMD_H

#include "context.h"
#include "opts.h"

/* Runs the import; returns the exit code (sysexits.h). */
int import_command(const struct opts *o, const struct context *x);

#endif
