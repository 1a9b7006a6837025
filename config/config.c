/*
 * config.c — loading and checking the configuration file: the tables of its settings (each
 * one row: name, type, default, range, what it is for), read by config_read.c, then the
 * notifiers and the rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_libraries.h"
#include "config_read.h"
#include "hmap.h"
#include "state.h"
#include "match/match.h"
#include "notify.h"
#include "parse/parse.h"
#include "schedule.h"
#include "xmalloc.h"

/* A configuration file larger than this is refused before libconfig sees it. */
#define CONFIG_MAX ((size_t)4 << 20)

/* ---- The file's own groups: every setting one row, its default and range in it ---- */

#define HOURS(n)   ((n)*3600.0)
#define MINUTES(n) ((n)*60.0)
#define DAYS(n)    ((n)*86400LL)

static const char *const watch_include_default[] = {"*.md", "*.txt", NULL};

static const struct conf_key watch_keys[] = {
	{
		.name = "dir",
		.type = CONF_STRING,
		.offset = offsetof(struct config_watch, dir),
		.def_str = "./inbox",
		.def_state = "inbox",
		.desc = "the folder of digests",
	},
	{
		.name = "include",
		.type = CONF_STRINGS,
		.offset = offsetof(struct config_watch, include),
		.def_list = watch_include_default,
		.desc = "names read; hidden and temporary files never are",
	},
	{
		.name = "exclude",
		.type = CONF_STRINGS,
		.offset = offsetof(struct config_watch, exclude),
		.desc = "more names to leave alone",
	},
	{
		.name = "max_file_size",
		.type = CONF_SIZE,
		.offset = offsetof(struct config_watch, max_file_size),
		.def_num = (double)PARSE_MAX_SIZE_DEFAULT,
		.min = 1,
		.desc = "larger files are refused with a message",
	},
	{
		.name = "expect",
		.type = CONF_STRINGS,
		.offset = offsetof(struct config_watch, expect),
		.desc = "how often digests come: \"24h\", or [\"PATTERN DURATION\", ...]; "
			"none, not checked",
	},
	{.name = NULL},
};

static const struct conf_key delivery_keys[] = {
	{
		.name = "max_age",
		.type = CONF_DURATION,
		.offset = offsetof(struct config_delivery, max_age),
		.def_num = HOURS(72),
		.min = 1,
		.max = DAYS(365),
		.desc = "a message undelivered after this long is marked failed",
	},
	{
		.name = "retry_base",
		.type = CONF_DURATION,
		.offset = offsetof(struct config_delivery, retry_base),
		.def_num = 10,
		.max = DAYS(1),
		.desc = "the first retry's delay; each next one doubles, with jitter",
	},
	{
		.name = "retry_max",
		.type = CONF_DURATION,
		.offset = offsetof(struct config_delivery, retry_max),
		.def_num = MINUTES(30),
		.max = DAYS(1),
		.desc = "the longest delay between two attempts (never below retry_base)",
	},
	{
		.name = "shutdown_grace",
		.type = CONF_DURATION,
		.offset = offsetof(struct config_delivery, shutdown_grace),
		.def_num = 5,
		.max = 300,
		.desc = "how long sends in flight may finish when the daemon stops",
	},
	{
		.name = "lease",
		.type = CONF_DURATION,
		.offset = offsetof(struct config_delivery, lease),
		.def_num = STATE_LEASE_DEFAULT,
		.min = 1,
		.max = 3600,
		.desc = "how long an instance's claim on a message stands, in a shared state",
	},
	{.name = NULL},
};

/* A digest under a third of the median of the last ones is small. */
#define SMALL_RATIO_DEFAULT (1.0 / 3)
/* The shortest and longest watch.expect durations. */
#define EXPECT_MIN 1
#define EXPECT_MAX DAYS(366)

static const struct conf_key health_keys[] = {
	{
		.name = "notify",
		.type = CONF_STRINGS,
		.offset = offsetof(struct config_health, notify),
		.desc = "the notifiers told when a condition starts or clears; none, only the log",
	},
	{
		.name = "small_ratio",
		.type = CONF_ANY,
		.desc = "a digest with fewer papers than this share of the median is small; 0, off",
	},
	{.name = NULL},
};

static const struct conf_key rule_keys[] = {
	{
		.name = "name",
		.type = CONF_STRING,
		.required = true,
		.offset = offsetof(struct config_rule, name),
		.desc = "the rule's unique name, shown in messages and by match",
	},
	{
		.name = "query",
		.type = CONF_STRING,
		.required = true,
		.offset = offsetof(struct config_rule, query),
		.desc = "what to look for, in the query language",
	},
	{
		.name = "notify",
		.type = CONF_STRINGS,
		.offset = offsetof(struct config_rule, notify),
		.desc = "the notifiers told; left out, every notifier",
	},
	{
		.name = "urgent",
		.type = CONF_BOOL,
		.offset = offsetof(struct config_rule, urgent),
		.desc = "its papers go out at once, even to a notifier with a schedule",
	},
	{
		.name = "min_score",
		.type = CONF_REAL,
		.offset = offsetof(struct config_rule, min_score),
		.def_num = CONFIG_MIN_SCORE_DEFAULT,
		.min = 0,
		.max = 1,
		.desc = "like:NAME holds for a paper whose score reaches this",
	},
	{
		.name = "top",
		.type = CONF_INT,
		.offset = offsetof(struct config_rule, top),
		.min = 0,
		.max = 1000000,
		.desc = "keep only the best this many papers of each digest by score; 0 keeps all",
	},
	{.name = NULL},
};

/* The file's top level: the groups and lists are read by their own tables and loaders. */
static const struct conf_key top_keys[] = {
	{.name = "watch", .type = CONF_ANY, .desc = "what is watched: watch_keys"},
	{
		.name = "state",
		.type = CONF_STRING,
		.offset = offsetof(struct config, state),
		.def_str = "./paperwatch.db",
		.def_state = "state.db",
		.desc = "the state: an SQLite file, or a postgresql:// URI several instances share",
	},
	{
		.name = "state_password",
		.type = CONF_SECRET,
		.offset = offsetof(struct config, state_password),
		.desc = "the shared state's database password (state_password_file: a file with "
			"it)",
	},
	{
		.name = "timezone",
		.type = CONF_STRING,
		.offset = offsetof(struct config, timezone),
		.def_str = "",
		.desc = "the IANA zone of schedules; left out, the machine's local time",
	},
	{.name = "delivery", .type = CONF_ANY, .desc = "retries and their limits: delivery_keys"},
	{.name = "health", .type = CONF_ANY, .desc = "the health checks: health_keys"},
	{.name = "notifiers", .type = CONF_ANY, .desc = "where alerts go: load_notifiers"},
	{.name = "rules", .type = CONF_ANY, .desc = "what to look for: load_rules"},
	{.name = "libraries", .type = CONF_ANY, .desc = "papers like:NAME compares with"},
	{
		.name = "papers_kept",
		.type = CONF_INT,
		.offset = offsetof(struct config, papers_kept),
		.def_num = 100000,
		.min = 0,
		.max = 100000000,
		.desc = "papers read whose text the state keeps, for libraries that list ids",
	},
	{.name = NULL},
};

/* A list setting's elements as groups; reports anything else. */
static bool is_list_of_groups(struct conf_ctx *c, const config_setting_t *s, const char *what)
{
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_LIST &&
	    !(type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0)) {
		conf_error(c, s, "%s must be a list ( { ... }, { ... } ), not %s", what,
			   conf_type_name(type));
		return false;
	}
	return true;
}

/* Loads the notifiers; the names of those that failed to load go into broken. With rules_only,
 * none is loaded (nor its secrets read): every name goes into broken. */
static void load_notifiers(struct conf_ctx *c, const config_t *cf, struct config *cfg,
			   struct hmap *broken, bool rules_only)
{
	const config_setting_t *list = config_lookup(cf, "notifiers");
	int n;

	if (list == NULL || !is_list_of_groups(c, list, "notifiers"))
		return;
	n = config_setting_length(list);
	cfg->notifiers = xcalloc((size_t)n + 1, sizeof(*cfg->notifiers));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct notifier *nt = &cfg->notifiers[cfg->n_notifiers];

		const char *name = NULL;
		bool existed;

		if (rules_only || notify_check(c, e, nt) != 0) {
			if (config_setting_lookup_string(e, "name", &name))
				hmap_put(broken, name, strlen(name), &existed);
			continue;
		}
		if (config_notifier_index(cfg, nt->name) >= 0) {
			conf_error(c, e, "a second notifier named \"%s\"", nt->name);
			notify_free(nt);
			continue;
		}
		cfg->n_notifiers++;
	}
}

/* Resolves a rule's notifier names to indices; every name must exist, or be one of a notifier
 * that failed to load (broken), which has been reported. */
static void rule_targets(struct conf_ctx *c, const config_setting_t *e, struct config *cfg,
			 struct config_rule *r, const struct hmap *broken)
{
	const config_setting_t *notify = config_setting_get_member(e, "notify");

	if (r->notify.n == 0 && notify != NULL) {
		conf_error(c, notify,
			   "rule \"%s\": notify = [] names no notifier; leave it out for every "
			   "notifier",
			   r->name);
		return;
	}
	if (r->notify.n == 0) {
		r->targets = xcalloc(cfg->n_notifiers + 1, sizeof(*r->targets));
		for (size_t i = 0; i < cfg->n_notifiers; i++)
			r->targets[r->n_targets++] = i;
		return;
	}
	r->targets = xcalloc(r->notify.n, sizeof(*r->targets));
	for (size_t i = 0; i < r->notify.n; i++) {
		int k = config_notifier_index(cfg, r->notify.v[i]);

		/* A notifier that failed to load has said so already. */
		if (k < 0 && hmap_get(broken, r->notify.v[i], strlen(r->notify.v[i])) == NULL)
			conf_error(c, notify, "rule \"%s\": no notifier named \"%s\"", r->name,
				   r->notify.v[i]);
		else
			r->targets[r->n_targets++] = (size_t)k;
	}
}

/* Loads one rule; names holds the names of the rules loaded so far, so that a second rule of a
 * name is found at once however many rules there are. */
static void load_rule(struct conf_ctx *c, const config_setting_t *e, struct config *cfg,
		      struct hmap *names, const struct hmap *broken)
{
	struct config_rule *r = &cfg->rules[cfg->n_rules];
	struct query_error qe;
	bool existed = false;

	memset(r, 0, sizeof(*r));
	r->line = config_setting_source_line(e);
	if (conf_read_group(c, e, rule_keys, r) != 0) {
		conf_free_group(rule_keys, r);
		return;
	}
	if (r->name[0] == '\0') {
		conf_error(c, e, "a rule's name must not be empty");
	} else if (hmap_get(names, r->name, strlen(r->name)) != NULL) {
		conf_error(c, e, "a second rule named \"%s\"", r->name);
	} else if (matcher_add(cfg->matcher, r->query, &qe) < 0) {
		conf_error(c, config_setting_get_member(e, "query"),
			   "rule \"%s\": query column %u: %s", r->name, qe.column, qe.msg);
	} else {
		if (qe.warning[0] != '\0')
			conf_warn(c, config_setting_get_member(e, "query"),
				  "rule \"%s\": query column %u: %s", r->name, qe.warning_column,
				  qe.warning);
		rule_targets(c, e, cfg, r, broken);
		/* Kept once the rule is: the key is the rule's own name, which lives as long. */
		hmap_put(names, r->name, strlen(r->name), &existed);
		cfg->n_rules++;
		return;
	}
	conf_free_group(rule_keys, r);
}

static void load_rules(struct conf_ctx *c, const config_t *cf, struct config *cfg,
		       const struct hmap *broken)
{
	const config_setting_t *list = config_lookup(cf, "rules");
	struct hmap names;
	int n;

	cfg->matcher = matcher_new();
	if (list == NULL || !is_list_of_groups(c, list, "rules"))
		return;
	n = config_setting_length(list);
	cfg->rules = xcalloc((size_t)n + 1, sizeof(*cfg->rules));
	hmap_init(&names);
	hmap_reserve(&names, (size_t)n);
	for (int i = 0; i < n; i++)
		load_rule(c, config_setting_get_elem(list, (unsigned)i), cfg, &names, broken);
	hmap_free(&names);
	matcher_compile(cfg->matcher);
}

/* The top level, watch and delivery: every key the file leaves out takes its row's default. */
static void load_groups(struct conf_ctx *c, const config_t *cf, struct config *cfg)
{
	conf_read_group(c, config_root_setting(cf), top_keys, cfg);
	conf_read_group(c, config_lookup(cf, "watch"), watch_keys, &cfg->watch);
	conf_read_group(c, config_lookup(cf, "delivery"), delivery_keys, &cfg->delivery);
	/* One setting bounding another is more than a row can say. */
	if (cfg->delivery.retry_max < cfg->delivery.retry_base)
		cfg->delivery.retry_max = cfg->delivery.retry_base;
	if (cfg->timezone[0] != '\0') {
		struct err err;

		if (schedule_zone_check(cfg->timezone, &err) != 0)
			conf_error(c, config_lookup(cf, "timezone"), "timezone: %s", err.msg);
	}
}

/* A notifier that names no zone of its own keeps its schedule in the file's. */
static void notifier_zones(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		struct notifier *n = &cfg->notifiers[i];

		if (n->when.zone[0] == '\0')
			snprintf(n->when.zone, sizeof(n->when.zone), "%s", cfg->timezone);
	}
}

/* ---- Health: watch.expect and the health group ---- */

/* Why a file-name pattern cannot be meant, or NULL for a good one. */
static const char *bad_pattern(const char *p)
{
	if (p[0] == '\0')
		return "the pattern is empty";
	if (strchr(p, '/') != NULL)
		return "a pattern matches names in the folder, never a path with '/'";
	for (const char *c = p; *c != '\0'; c++) {
		if (*c == '\\' && c[1] == '\0')
			return "the pattern ends in a lone '\\'";
		if (*c == '\\') {
			c++;
		} else if (*c == '[') {
			const char *close = strchr(c + (c[1] == '!' || c[1] == '^' ? 3 : 2), ']');

			if (c[1] == '\0' || close == NULL)
				return "a '[' is never closed by ']'";
			c = close;
		}
	}
	return NULL;
}

/* One watch.expect entry: "DURATION" for any digest, or "PATTERN DURATION". */
static void load_expect(struct conf_ctx *c, const config_setting_t *s, const char *text,
			struct config_watch *w)
{
	const char *start = text + strspn(text, " \t"), *end = text + strlen(text), *word;
	char *pattern, *dur;
	const char *why;
	double every;

	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	word = end;
	while (word > start && word[-1] != ' ' && word[-1] != '\t')
		word--;
	dur = xstrndup(word, (size_t)(end - word));
	pattern = xstrndup(start, (size_t)(word - start));
	for (size_t n = strlen(pattern);
	     n > 0 && (pattern[n - 1] == ' ' || pattern[n - 1] == '\t');)
		pattern[--n] = '\0';
	if (pattern[0] == '\0') {
		free(pattern);
		pattern = xstrdup("*");
	}
	if (conf_parse_duration(dur, &every) != 0 || every < EXPECT_MIN ||
	    every > (double)EXPECT_MAX)
		conf_error(c, s,
			   "watch.expect: \"%s\": \"%s\" is not a duration from 1s to 366d "
			   "(\"24h\", \"7d\"; \"PATTERN DURATION\" for some files)",
			   text, dur);
	else if ((why = bad_pattern(pattern)) != NULL)
		conf_error(c, s, "watch.expect: \"%s\": %s", text, why);
	else {
		for (size_t i = 0; i < w->n_expects; i++) {
			if (strcmp(w->expects[i].pattern, pattern) == 0) {
				conf_error(c, s, "watch.expect: \"%s\": a second entry for %s",
					   text, pattern);
				goto out;
			}
		}
		w->expects[w->n_expects++] =
			(struct config_expect){.pattern = pattern, .every = every};
		pattern = NULL;
	}
out:
	free(pattern);
	free(dur);
}

/* watch.expect, read by load_groups as strings, into its entries. */
static void load_expects(struct conf_ctx *c, const config_t *cf, struct config_watch *w)
{
	const config_setting_t *s = config_lookup(cf, "watch.expect");

	w->expects = xcalloc(w->expect.n + 1, sizeof(*w->expects));
	for (size_t i = 0; i < w->expect.n; i++) {
		const config_setting_t *e = s;

		if (s != NULL && config_setting_is_aggregate(s))
			e = config_setting_get_elem(s, (unsigned)i);
		load_expect(c, e ? e : s, w->expect.v[i], w);
	}
}

/* The health group: its notifiers must exist (or be ones that failed to load, in broken). */
static void load_health(struct conf_ctx *c, const config_t *cf, struct config *cfg,
			const struct hmap *broken)
{
	const config_setting_t *g = config_lookup(cf, "health"), *r;
	struct config_health *h = &cfg->health;
	double ratio = SMALL_RATIO_DEFAULT;

	load_expects(c, cf, &cfg->watch);
	conf_read_group(c, g, health_keys, h);
	h->targets = xcalloc(h->notify.n + 1, sizeof(*h->targets));
	for (size_t i = 0; i < h->notify.n; i++) {
		int k = config_notifier_index(cfg, h->notify.v[i]);

		if (k >= 0)
			h->targets[h->n_targets++] = (size_t)k;
		else if (hmap_get(broken, h->notify.v[i], strlen(h->notify.v[i])) == NULL)
			conf_error(c, config_setting_get_member(g, "notify"),
				   "health.notify: no notifier named \"%s\"", h->notify.v[i]);
	}
	r = g ? config_setting_get_member(g, "small_ratio") : NULL;
	if (r != NULL) {
		int type = config_setting_type(r);

		ratio = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(r)
			: type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64
				? (double)config_setting_get_int64(r)
				: -1;
		if (!(ratio >= 0 && ratio < 1))
			conf_error(c, r,
				   "health.small_ratio must be a number from 0 (off) to under 1, "
				   "like 0.33");
	}
	h->small_ratio = ratio;
}

/* Checks the parsed file into a config; NULL when anything is wrong. */
/* In a shared state a claim must outlast every attempt: one still in flight when its lease ran
 * out would be sent again by another instance. */
static void check_lease(struct conf_ctx *c, const config_t *cf, const struct config *cfg)
{
	if (!state_is_shared(cfg->state))
		return;
	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		double longest = notify_attempt_max(&cfg->notifiers[i]);

		if (longest >= cfg->delivery.lease)
			conf_error(
				c, config_lookup(cf, "delivery"),
				"delivery.lease %gs is not longer than notifier \"%s\"'s timeout "
				"%gs: another instance would send its message again while the "
				"first attempt is still in flight",
				cfg->delivery.lease, cfg->notifiers[i].name, longest);
	}
}

static struct config *config_build(const char *name, config_t *cf, struct config_diag *d,
				   bool rules_only)
{
	struct conf_ctx c = {.file = name, .diag = d};
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	size_t errors = d->n_errors;
	struct hmap broken;

	cfg->refs = 1;
	cfg->path = xstrdup(name);
	load_groups(&c, cf, cfg);
	hmap_init(&broken);
	load_notifiers(&c, cf, cfg, &broken, rules_only);
	notifier_zones(cfg);
	load_health(&c, cf, cfg, &broken);
	load_rules(&c, cf, cfg, &broken);
	check_lease(&c, cf, cfg);
	config_load_libraries(&c, cf, cfg);
	hmap_free(&broken);
	/* The loaders report through c: what they found is counted there. */
	if (c.diag->n_errors == errors && cfg->n_notifiers == 0 && !rules_only)
		conf_warn(&c, NULL, "no notifiers: matches are recorded but go nowhere");
	if (c.diag->n_errors == errors && cfg->n_rules == 0)
		conf_warn(&c, NULL, "no rules: nothing will ever match");
	if (c.diag->n_errors > errors) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

/* Reports an error at a line no setting stands for, in the same FILE:LINE: form. */
static void line_error(struct config_diag *d, const char *file, int line, const char *msg)
{
	char text[ERR_MAX];

	snprintf(text, sizeof(text), "%s:%d: %s", file, line, msg);
	d->items = xreallocarray(d->items, d->n + 1, sizeof(*d->items));
	d->items[d->n].warning = false;
	d->items[d->n++].text = xstrdup(text);
	d->n_errors++;
}

/* Reports libconfig's own syntax error. */
static void syntax_error(const char *name, const config_t *cf, struct config_diag *d)
{
	line_error(d, config_error_file(cf) ? config_error_file(cf) : name, config_error_line(cf),
		   config_error_text(cf));
}

/* The line of text's first @include directive (libconfig takes one at a line's start, after
 * blanks), or 0. Written loosely: a line of a multi-line string or comment that looks like one
 * counts too. */
static int include_line(const char *text)
{
	int line = 1;

	for (const char *p = text;; line++) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) == 0)
			return line;
		p = strchr(p, '\n');
		if (p == NULL)
			return 0;
		p++;
	}
}

struct config *config_load_string(const char *name, const char *text, struct config_diag *d)
{
	struct config *cfg = NULL;
	int line = include_line(text);
	config_t cf;

	/* Text in memory has no folder to include from: libconfig would open the name relative to
	 * the working directory, whatever it is, and wait forever on a FIFO. */
	if (line > 0) {
		line_error(d, name, line, "@include works only in a configuration file");
		return NULL;
	}
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE)
		syntax_error(name, &cf, d);
	else
		cfg = config_build(name, &cf, d, false);
	config_destroy(&cf);
	return cfg;
}

/* Includes nest this deep at most, as libconfig allows. */
#define INCLUDE_DEPTH_MAX 10

/* Reads a whole regular file of at most max bytes into a new string; NULL with the reason. */
static char *read_config_file(const char *path, size_t max, size_t *len, struct err *err)
{
	struct stat st;
	char *text;
	int fd = conf_open_regular(path, &st, err);

	if (fd < 0)
		return NULL;
	if ((size_t)st.st_size > max) {
		close(fd);
		err_set(err, "larger than 4 MiB, with the files it includes");
		return NULL;
	}
	text = xcalloc((size_t)st.st_size + 1, 1);
	if (conf_read_up_to(fd, text, (size_t)st.st_size) < 0) {
		err_set(err, "%s", strerror(errno));
		free(text);
		text = NULL;
	}
	*len = (size_t)st.st_size;
	close(fd);
	return text;
}

/* The line after the one p is on, or NULL after the last. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The file a line's @include directive names (the caller frees it), or NULL for another line;
 * a malformed directive is left to libconfig, which says what is wrong with it. */
static char *include_name(const char *line)
{
	const char *q = line + strspn(line, " \t"), *end;

	if (strncmp(q, "@include", 8) != 0)
		return NULL;
	q += 8 + strspn(q + 8, " \t");
	end = *q == '"' ? strchr(q + 1, '"') : NULL;
	return end ? xasprintf("%.*s", (int)(end - q - 1), q + 1) : NULL;
}

static int check_includes(struct conf_ctx *c, const char *dir, const char *text, size_t *total,
			  int depth);

/* Checks one included file and what it includes in turn. */
static int check_include(struct conf_ctx *c, const char *dir, const char *name, size_t *total,
			 int depth)
{
	char *path = name[0] == '/' || dir == NULL ? xstrdup(name) : xasprintf("%s/%s", dir, name);
	char *text = NULL;
	struct err err;
	size_t len;
	int rc = -1;

	if (depth > INCLUDE_DEPTH_MAX)
		err_set(&err, "@include nested more than %d deep", INCLUDE_DEPTH_MAX);
	else
		text = read_config_file(path, CONFIG_MAX - *total, &len, &err);
	if (text == NULL) {
		conf_error(c, NULL, "@include \"%s\": %s", path, err.msg);
	} else {
		*total += len;
		rc = check_includes(c, dir, text, total, depth + 1);
	}
	free(text);
	free(path);
	return rc;
}

/* Checks, before libconfig opens them, every file text @includes (names relative to dir): each
 * must be a regular file (a FIFO would hang the load, and a reload of the daemon with it), and
 * all of them together no more than CONFIG_MAX bytes, *total counting what was read so far. */
static int check_includes(struct conf_ctx *c, const char *dir, const char *text, size_t *total,
			  int depth)
{
	for (const char *p = text; p != NULL; p = next_line(p)) {
		char *name = include_name(p);
		int rc = name ? check_include(c, dir, name, total, depth) : 0;

		free(name);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static struct config *load_file(const char *path, struct config_diag *d, bool rules_only)
{
	struct conf_ctx c = {.file = path, .diag = d};
	struct config *cfg = NULL;
	char *text, *dir, *slash;
	struct err err;
	config_t cf;
	size_t total;

	text = read_config_file(path, CONFIG_MAX, &total, &err);
	if (text == NULL) {
		conf_error(&c, NULL, "cannot read: %s", err.msg);
		return NULL;
	}
	/* "@include" names files beside this one. */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	if (check_includes(&c, slash ? dir : NULL, text, &total, 1) == 0) {
		config_init(&cf);
		if (slash != NULL)
			config_set_include_dir(&cf, dir);
		if (config_read_string(&cf, text) != CONFIG_TRUE)
			syntax_error(path, &cf, d);
		else
			cfg = config_build(path, &cf, d, rules_only);
		config_destroy(&cf);
	}
	free(dir);
	free(text);
	return cfg;
}

struct config *config_load(const char *path, struct config_diag *d)
{
	return load_file(path, d, false);
}

struct config *config_load_rules(const char *path, struct config_diag *d)
{
	return load_file(path, d, true);
}

struct config *config_ref(struct config *c)
{
	c->refs++;
	return c;
}

void config_unref(struct config *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	free(c->path);
	for (size_t i = 0; i < c->watch.n_expects; i++)
		free(c->watch.expects[i].pattern);
	free(c->watch.expects);
	conf_free_group(watch_keys, &c->watch);
	conf_free_group(health_keys, &c->health);
	free(c->health.targets);
	conf_free_group(top_keys, c); /* state, timezone */
	for (size_t i = 0; i < c->n_notifiers; i++)
		notify_free(&c->notifiers[i]);
	free(c->notifiers);
	for (size_t i = 0; i < c->n_rules; i++) {
		conf_free_group(rule_keys, &c->rules[i]);
		free(c->rules[i].targets);
	}
	free(c->rules);
	config_free_libraries(c);
	matcher_free(c->matcher);
	free(c);
}

int config_rule_index(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		if (strcmp(c->rules[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

int config_notifier_index(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_notifiers; i++) {
		if (strcmp(c->notifiers[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}
