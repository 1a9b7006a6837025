/*
 * config.h — the configuration file: loading it, checking all of it (every problem reported as
 * FILE:LINE: message), and the settings the rest of paperwatch reads. Reading libconfig itself
 * is config_read.h's business: this header does not bring libconfig in.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stddef.h>

#include "config_types.h"

struct err;
struct like;
struct matcher;
struct notifier;
struct paper;
struct state;
struct library_file;

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
	double lease;          /* how long a shared state's claim on a message stands */
};

struct config_rule {
	char *name;
	char *query;
	struct conf_strings notify; /* notifier names; empty means every notifier */
	bool urgent;                /* goes out at once even to a notifier with a schedule */
	size_t *targets;            /* indices into config.notifiers */
	size_t n_targets;
	double min_score; /* like:NAME holds from this score on */
	long long top;    /* keep only the best this many papers of a digest by score; 0: all */
	unsigned line;
};

/* A library rules refer to as like:NAME (config_libraries.c). */
struct config_library {
	char *name;
	char *file;
	struct like *like; /* its index; replaced whole when the file changes */
	/* A list of arXiv ids: its entries, given their text by config_libraries_fill. */
	struct library_file *ids;
	unsigned line;
	/* The score of the paper being matched, worked out the first time a rule asks. */
	unsigned long long scored_gen;
	double score;
};

struct config {
	unsigned refs; /* sends in flight keep the configuration they started with alive */
	char *path;
	struct config_watch watch;
	char *state;
	char *state_password; /* a shared state's database password, NULL for libpq's own ways */
	char *timezone; /* schedules' zone where a notifier names none; "" for the machine's */
	struct config_delivery delivery;
	struct config_health health;
	struct notifier *notifiers;
	size_t n_notifiers;
	struct config_rule *rules;
	size_t n_rules;
	struct matcher *matcher; /* every rule's query, compiled together (rule i is rule i) */
	struct config_library *libraries;
	size_t n_libraries;
	bool keeps_papers;     /* a library lists ids: the papers read are kept in the state */
	long long papers_kept; /* at most this many of them, the last seen */
	unsigned long long like_gen; /* the paper being matched, for the libraries' scores */
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

/* ---- Libraries (config_libraries.c) ---- */

/* A rule's min_score when it gives none: see the README, "Papers like yours". */
#define CONFIG_MIN_SCORE_DEFAULT 0.15

/* Before matching p: counts it into every library's IDF and forgets the last paper's scores. */
void config_like_begin(struct config *c, const struct paper *p);
/* The best score of p against the libraries rule's like: terms name, and which library gave
 * it; -1 when the rule has none. Call after config_like_begin(p). */
double config_like_score(struct config *c, unsigned rule, const struct paper *p, size_t *library);
/* Why rule's like: terms hold for p, for messages: "like:mine 0.42, closest “TITLE” (0.61),
 * shared: a, b, c", with the best score in *score; NULL and -1 when the rule has none. Call after
 * config_like_begin(p). The caller frees the text. */
char *config_like_explain(struct config *c, unsigned rule, const struct paper *p, double *score);
/* Reads library i's file again and replaces its index, keeping the old one when the new file
 * has no entry to index or cannot be read: 0 with the papers indexed in *papers, or -1 with
 * err set. Problems with single entries are logged. */
int config_library_reload(struct config *c, size_t i, size_t *papers, struct err *err);
/* Gives the papers of the libraries that list arXiv ids the text the state kept of them,
 * rebuilding the index of each that gained some; *filled counts them. 0, or -1 with err. */
int config_libraries_fill(struct config *c, struct state *st, size_t *filled, struct err *err);
/* The library called name, or -1. */
int config_library_index(const struct config *c, const char *name);
/* 0 when like:name names one of c's libraries; -1 otherwise, with the reason and the setting
 * that would make one in err. A NULL c, no configuration, has no library. */
int config_library_check(const struct config *c, const char *name, struct err *err);

/* The default configuration built into the binary (config/paperwatch.conf.example). */
extern const char config_default_text[];

#endif
