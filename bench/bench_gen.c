/*
 * bench_gen: writes the records of N synthetic users for one module.
 *
 *   bench_gen oath FILE N    pam_oath's users.oath, one line per user
 *   bench_gen ga DIR N       pam_google_authenticator: DIR/<user>, one
 *                            root-owned 0400 file per user
 *   bench_gen totp DB N      pam_totp: a system store (sharded: DB minus .db
 *                            plus .d/), through
 *                            lib/store/store.h (one locked open, N puts, unsynced,
 *                            one sync at the end)
 *   bench_gen ldif FILE N    the ldap realm: users and their tokens as LDIF
 *                            for slapadd (gen_ldif.c; bench/ldap.sh)
 *   bench_gen totp-add DB I  one more user, number I, added to DB the way a
 *                            registration does (its own open, synced)
 *
 * Each writes in one pass and prints "records=N seconds=S records_per_s=R";
 * totp-add adds "journal_bytes=J", the redo journal its change needed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_gen.h"
#include "synth.h"

static void hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t k = 0; k < len; k++) {
		out[2 * k] = digits[in[k] >> 4];
		out[2 * k + 1] = digits[in[k] & 15];
	}
	out[2 * len] = '\0';
}

/* RFC 4648 base32 of the 20-byte secret: exactly 32 characters, no padding. */
static void base32_20(const uint8_t in[SYNTH_SECRET_LEN], char out[33])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned bits = 0, nbits = 0, o = 0;

	for (size_t k = 0; k < SYNTH_SECRET_LEN; k++) {
		bits = (bits << 8) | in[k];
		nbits += 8;
		while (nbits >= 5) {
			out[o++] = alphabet[(bits >> (nbits - 5)) & 31];
			nbits -= 5;
		}
		bits &= (1u << nbits) - 1;
	}
	out[o] = '\0';
}

/* pam_oath's usersfile: "HOTP/T30 user - hexsecret", one user a line. */
static int gen_oath(const char *path, uint32_t n)
{
	FILE *f = fopen(path, "w");
	char name[SYNTH_NAME_BUF], h[2 * SYNTH_SECRET_LEN + 1];
	uint8_t secret[SYNTH_SECRET_LEN];

	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		synth_name(i, name);
		synth_secret(i, secret);
		hex(secret, sizeof(secret), h);
		fprintf(f, "HOTP/T30 %s - %s\n", name, h);
	}
	if (fchmod(fileno(f), 0600) < 0 || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

/* What google-authenticator -t -d -r 3 -R 30 -w 3 -e 5 writes: the base32
 * secret, the options, five 8-digit scratch codes. */
static int ga_file_text(uint32_t i, char *buf, size_t size)
{
	uint8_t secret[SYNTH_SECRET_LEN];
	char b32[33];
	int len;

	synth_secret(i, secret);
	base32_20(secret, b32);
	len = snprintf(buf, size,
		       "%s\n\" RATE_LIMIT 3 30\n\" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n"
		       "\" TOTP_AUTH\n",
		       b32);
	for (unsigned k = 0; k < 5 && len > 0 && (size_t)len < size; k++)
		len += snprintf(buf + len, size - (size_t)len, "%08u\n",
				10000000u + (i * 7919u + k * 104729u) % 90000000u);
	return len > 0 && (size_t)len < size ? len : -1;
}

static int gen_ga(const char *dir, uint32_t n)
{
	char path[4096], name[SYNTH_NAME_BUF], text[512];
	int dfd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		perror(dir);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(dir);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		int len = ga_file_text(i, text, sizeof(text)), fd;

		synth_name(i, name);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
		if (len < 0 || fd < 0 || write(fd, text, (size_t)len) != len ||
		    close(fd) < 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			perror(path);
			close(dfd);
			return -1;
		}
	}
	close(dfd);
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	struct timespec t0;
	size_t journal = 0;
	unsigned long n;
	char *end;
	int rc;

	if (argc != 4 || (n = strtoul(argv[3], &end, 10)) == 0 || *end != '\0' ||
	    n > SYNTH_MAX_USERS) {
		fprintf(stderr,
			"usage: bench_gen oath|ga|totp|ldif PATH N | totp-add DB I\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(argv[1], "oath") == 0)
		rc = gen_oath(argv[2], (uint32_t)n);
	else if (strcmp(argv[1], "ga") == 0)
		rc = gen_ga(argv[2], (uint32_t)n);
	else if (strcmp(argv[1], "totp") == 0)
		rc = gen_totp(argv[2], (uint32_t)n);
	else if (strcmp(argv[1], "ldif") == 0)
		rc = gen_ldif(argv[2], (uint32_t)n);
	else if (strcmp(argv[1], "totp-add") == 0)
		rc = gen_totp_add(argv[2], (uint32_t)n, &journal), n = 1;
	else
		rc = -1;
	if (rc < 0)
		return 1;
	double s = seconds_since(&t0);
	printf("records=%lu seconds=%.6f records_per_s=%.0f", n, s, (double)n / s);
	if (strcmp(argv[1], "totp-add") == 0)
		printf(" journal_bytes=%zu", journal);
	printf("\n");
	return 0;
}
