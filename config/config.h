/*
 * config.h — the configuration file: loading it with libconfig, checking all of it (every
 * problem reported as FILE:LINE: message), and the settings the rest of paperwatch reads.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct matcher;
struct notifier;

/* What a load found wrong, each as "FILE:LINE: message"; warnings do not stop a load. */
struct config_diag {
	struct {
		bool warning;
		char *text;
	} * items;
	size_t n, n_errors;
};

void config_diag_free(struct config_diag *d);

/* ---- Reading groups by table, for config.c and every notifier's options ---- */

enum conf_type {
	CONF_STRING,   /* char * */
	CONF_STRINGS,  /* struct conf_strings: an array of strings (a single string is taken too) */
	CONF_INT,      /* long long */
	CONF_BOOL,     /* bool */
	CONF_DURATION, /* double, seconds: 30, "30s", "10m", "72h", "2d", "500ms" */
	CONF_SIZE,     /* size_t, bytes: 1048576, "512K", "64M", "1G" */
	CONF_SECRET,   /* char *: the key itself, or "<key>_file" naming a file holding it */
	CONF_ANY,      /* not read here (the caller reads it), only allowed */
	CONF_INCLUDE,  /* the rows of sub, for a struct at offset (shared keys of several groups) */
};

struct conf_strings {
	char **v;
	size_t n;
};

/* One key of a group: the one loop in conf_read_group checks every row alike. */
struct conf_key {
	const char *name; /* NULL ends a table */
	enum conf_type type;
	bool required;
	size_t offset;      /* where the value goes in the caller's struct */
	long long min, max; /* for numbers, durations (seconds) and sizes; max 0 means none */
	const struct conf_key *sub; /* for CONF_INCLUDE */
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
void conf_warn(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...) PW_PRINTF(3, 4);

/* Reads group s into target by the table: unknown keys, wrong types, missing required keys and
 * values out of range are reported. Returns the number of problems. */
int conf_read_group(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		    void *target);
/* Frees what conf_read_group stored in target by the same table. */
void conf_free_group(const struct conf_key *keys, void *target);

/* Checks that url uses one of the schemes in allowed (NULL-terminated, "https" ...). */
bool conf_check_url(struct conf_ctx *c, const config_setting_t *s, const char *url,
		    const char *const *allowed);

/* Reads "30s", "10m", "72h", "2d", "500ms" or plain seconds; -1 when it is none of these. */
int conf_parse_duration(const char *s, double *seconds);
/* Reads "512K", "64M", "1G" or plain bytes; -1 when it is none of these. */
int conf_parse_size(const char *s, size_t *bytes);

/* ---- The settings ---- */

struct config_watch {
	char *dir;
	struct conf_strings include; /* names to read ("*.md", "*.txt") */
	struct conf_strings exclude; /* names to leave alone besides hidden and temporary ones */
	size_t max_file_size;
};

struct config_delivery {
	double max_age;        /* how long a message is retried before it is marked failed */
	double retry_base;     /* the first retry's delay; each next one doubles, with jitter */
	double retry_max;      /* the longest delay between two attempts */
	double shutdown_grace; /* how long sends in flight may finish when the daemon stops */
};

struct config_rule {
	char *name;
	char *query;
	struct conf_strings notify; /* notifier names; empty means every notifier */
	size_t *targets;            /* indices into config.notifiers */
	size_t n_targets;
	unsigned line;
};

struct config {
	unsigned refs; /* sends in flight keep the configuration they started with alive */
	char *path;
	struct config_watch watch;
	char *state;
	struct config_delivery delivery;
	struct notifier *notifiers;
	size_t n_notifiers;
	struct config_rule *rules;
	size_t n_rules;
	struct matcher *matcher; /* every rule's query, compiled together (rule i is rule i) */
};

/* Loads and checks the file. Returns NULL when it has errors; d holds them (and any warnings)
 * either way. */
struct config *config_load(const char *path, struct config_diag *d);
/* Same for text in memory (the embedded default), named name in messages. Text in memory may
 * not @include: there is no folder to find the file in. */
struct config *config_load_string(const char *name, const char *text, struct config_diag *d);
/* Takes and drops a reference; the last drop frees. config_load gives the first. */
struct config *config_ref(struct config *c);
void config_unref(struct config *c);

/* The rule called name, or -1. */
int config_rule_index(const struct config *c, const char *name);
/* The notifier called name, or -1. */
int config_notifier_index(const struct config *c, const char *name);

/* The default configuration built into the binary (config/paperwatch.conf.example). */
extern const char config_default_text[];

#endif
