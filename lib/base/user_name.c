/* user_name: the one user-name rule (user_name.h). */
#include "config.h"

#include <string.h>

#include "user_name.h"

int user_name_check(const char *user, struct totp_err *err)
{
	size_t len;

	if (user == NULL || user[0] == '\0')
		return totp_err_set(err, TOTP_R_INVALID, "the user name is empty");
	len = strnlen(user, USER_NAME_MAX + 1);
	if (len > USER_NAME_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the user name is longer than %d bytes",
				    USER_NAME_MAX);
	if (user[0] == '-' || user[0] == '.')
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "the user name starts with '%c', which no user name does", user[0]);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];

		if (c < 0x20 || c == 0x7f)
			return totp_err_set(err, TOTP_R_INVALID,
					    "the user name holds a control character");
		if (c == '/')
			return totp_err_set(err, TOTP_R_INVALID,
					    "the user name holds a '/'");
	}
	return 0;
}
