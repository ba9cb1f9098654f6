/* clock: the wall clock and date formats (clock.h). */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "clock.h"

int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *clock_format(int64_t ms, enum clock_style style, char *out, size_t sz)
{
	int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int milli = (int)(ms - sec * 1000);
	time_t t = (time_t)sec;
	struct tm tm;
	int n;

	if (sz == 0)
		return out;
	out[0] = '\0';
	if ((style == CLOCK_LOCAL ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)) == NULL)
		return out;
	if (style == CLOCK_LOCAL) {
		if (strftime(out, sz, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
			out[0] = '\0';
		return out;
	}
	n = snprintf(out, sz, "%04lld-%02d-%02dT%02d:%02d:%02d",
		     (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec);
	if (n <= 0 || (size_t)n >= sz)
		out[0] = '\0';
	else if (style == CLOCK_UTC_MS)
		snprintf(out + n, sz - (size_t)n, ".%03dZ", milli);
	else
		snprintf(out + n, sz - (size_t)n, "Z");
	return out;
}
