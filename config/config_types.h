/*
 * config_types.h — what configuration values are read into (lists of names, durations, sizes)
 * and the problems a load reports. No libconfig here: every unit may include it.
 */
#ifndef PW_CONFIG_TYPES_H
#define PW_CONFIG_TYPES_H

#include <stdbool.h>
#include <stddef.h>

/* What a load found wrong, each as "FILE:LINE: message"; warnings do not stop a load. */
struct config_diag {
	struct {
		bool warning;
		char *text;
	} * items;
	size_t n, n_errors;
};

/* Frees the messages and empties d; d NULL is a no-op. */
void config_diag_free(struct config_diag *d);

/* A list of strings (a single string in the file is taken as a list of one). */
struct conf_strings {
	char **v;
	size_t n;
};

/* Reads "30s", "10m", "72h", "2d", "500ms" or plain seconds; -1 when it is none of these. */
int conf_parse_duration(const char *s, double *seconds);
/* Reads "512K", "64M", "1G" or plain bytes; -1 when it is none of these. */
int conf_parse_size(const char *s, size_t *bytes);

#endif
