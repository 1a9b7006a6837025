/*
 * config_read.h — reading libconfig groups by table: one row per setting, one loop that reads,
 * checks and defaults every row alike, each problem reported as FILE:LINE: message. For
 * config.c and for every notifier's options.
 */
#ifndef PW_CONFIG_READ_H
#define PW_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config_types.h"
#include "err.h"

enum conf_type {
	CONF_STRING,   /* char * */
	CONF_STRINGS,  /* struct conf_strings: an array of strings (a single string is taken too) */
	CONF_INT,      /* long long */
	CONF_BOOL,     /* bool */
	CONF_DURATION, /* double, seconds: 30, "30s", "10m", "72h", "2d", "500ms" */
	CONF_SIZE,     /* size_t, bytes: 1048576, "512K", "64M", "1G" */
	CONF_REAL,     /* double: 0.25 or 1; its default in def_num too */
	CONF_SECRET,   /* char *: the key itself, or "<key>_file" naming a file holding it */
	CONF_ANY,      /* not read here (the caller reads it), only allowed */
	CONF_INCLUDE,  /* the rows of sub, for a struct at offset (shared keys of several groups) */
	CONF_ELSEWHERE, /* the rows of sub are allowed here, and read by another table (sub) */
};

/* One setting of a group: a row of its table, written with designated initializers. */
struct conf_key {
	const char *name; /* NULL ends a table */
	enum conf_type type;
	bool required;
	size_t offset; /* where the value goes in the caller's struct */
	/* The default, which a key left out takes; by type. */
	double def_num;              /* CONF_INT, CONF_DURATION (seconds), CONF_SIZE (bytes) */
	const char *def_str;         /* CONF_STRING */
	const char *def_state;       /* CONF_STRING: under systemd, $STATE_DIRECTORY/def_state */
	const char *const *def_list; /* CONF_STRINGS, NULL-terminated; an empty list takes it too */
	bool zero_is_default;        /* a number given as 0 takes the default too */
	long long min, max; /* for numbers, durations (seconds) and sizes; max 0 means none */
	const struct conf_key *sub; /* for CONF_INCLUDE */
	const char *desc;           /* what the setting is for, in one line */
};

/* Where a group is being read, for messages. */
struct conf_ctx {
	const char *file;
	struct config_diag *diag;
	const char *what; /* "notifier \"team-slack\"", for the message's start; may be NULL */
};

/* Reports a problem at setting s (its line; the file's start when s is NULL). */
void conf_error(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
	PW_PRINTF(3, 4);
/* The same, as a warning: it does not stop the load. */
void conf_warn(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...) PW_PRINTF(3, 4);

/* Reads group s into target by the table: unknown keys, wrong types, missing required keys and
 * values out of range are reported, and every key left out takes its row's default (all of
 * them when s is NULL, the group being left out). Returns the number of problems. */
int conf_read_group(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		    void *target);
/* Reads only the keys of the table that group s has, leaving every other key to another table
 * (a notifier's common keys beside its channel's own); keys left out take their defaults. */
int conf_read_some(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		   void *target);
/* Frees what conf_read_group stored in target by the same table. */
void conf_free_group(const struct conf_key *keys, void *target);

/* Checks that url uses one of the schemes in allowed (NULL-terminated, "https" ...). */
bool conf_check_url(struct conf_ctx *c, const config_setting_t *s, const char *url,
		    const char *const *allowed);

/* The human name of a libconfig type, for "must be a string, not a group". */
const char *conf_type_name(int type);

/* Opens path for reading if it is a regular file, filling *st: the descriptor, or -1 with err
 * set and errno the reason (EINVAL: not a regular file). Neither a FIFO nor a device is ever
 * opened. */
int conf_open_regular(const char *path, struct stat *st, struct err *err);
/* Reads up to size bytes, as many as there are: the count, or -1 with errno set. */
ssize_t conf_read_up_to(int fd, char *buf, size_t size);

#endif
