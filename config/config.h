/*
 * config.h — the configuration file: loading it, checking all of it (every problem reported as
 * FILE:LINE: message), and the settings the rest of paperwatch reads. Reading libconfig itself
 * is config_read.h's business: this header does not bring libconfig in.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stddef.h>

#include "config_types.h"

struct matcher;
struct notifier;

/* ---- The settings ---- */

/* One watch.expect entry: a digest whose name matches pattern comes at least every `every`. */
struct config_expect {
	char *pattern; /* in watch.include's glob style; "*" for any digest */
	double every;  /* seconds */
};

struct config_watch {
	char *dir;
	struct conf_strings include; /* names to read ("*.md", "*.txt") */
	struct conf_strings exclude; /* names to leave alone besides hidden and temporary ones */
	size_t max_file_size;
	struct conf_strings expect;    /* as written: "24h", or "PATTERN DURATION" each */
	struct config_expect *expects; /* expect read; none when off */
	size_t n_expects;
};

/* The health checks: where their notices go, and what a small digest is. */
struct config_health {
	struct conf_strings notify; /* notifier names; none: the log and status only */
	size_t *targets;            /* indices into config.notifiers */
	size_t n_targets;
	double small_ratio; /* a digest under this share of the median is small; 0: not judged */
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
	bool urgent;                /* goes out at once even to a notifier with a schedule */
	size_t *targets;            /* indices into config.notifiers */
	size_t n_targets;
	unsigned line;
};

struct config {
	unsigned refs; /* sends in flight keep the configuration they started with alive */
	char *path;
	struct config_watch watch;
	char *state;
	char *timezone; /* schedules' zone where a notifier names none; "" for the machine's */
	struct config_delivery delivery;
	struct config_health health;
	struct notifier *notifiers;
	size_t n_notifiers;
	struct config_rule *rules;
	size_t n_rules;
	struct matcher *matcher; /* every rule's query, compiled together (rule i is rule i) */
};

/* Loads and checks the file. Returns NULL when it has errors; d holds them (and any warnings)
 * either way. */
struct config *config_load(const char *path, struct config_diag *d);
/* Loads only what reading digests needs: the top level, watch and the rules. No notifier is
 * loaded, nor any secret read (cfg->n_notifiers is 0); rules may name any notifier the file has. */
struct config *config_load_rules(const char *path, struct config_diag *d);
/* Same as config_load for text in memory (the embedded default), named name in messages. Text
 * in memory may not @include: there is no folder to find the file in. */
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
