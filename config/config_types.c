/*
 * config_types.c — the problems a load reports, and how durations and sizes are written.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_types.h"

void config_diag_free(struct config_diag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].text);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

int conf_parse_duration(const char *s, double *seconds)
{
	static const struct {
		const char *unit;
		double seconds;
	} units[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"", 1}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* strtod reads "nan" and "inf" too: no delay is either, and a NaN passes every range
	 * check, to become timers that never fire and undefined conversions later. */
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*seconds = v * units[i].seconds;
			return isfinite(*seconds) ? 0 : -1;
		}
	}
	return -1;
}

int conf_parse_size(const char *s, size_t *bytes)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0)
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == '\0')
		end++;
	if (*end != '\0' || v > (SIZE_MAX >> shift))
		return -1;
	*bytes = (size_t)(v << shift);
	return 0;
}
