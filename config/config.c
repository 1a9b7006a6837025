/*
 * config.c — loading and checking the configuration file. Every group is read by one loop over
 * a table of keys (conf_read_group), so checks are alike everywhere and every problem is found
 * in one pass, not just the first.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "match/match.h"
#include "notify.h"
#include "parse/parse.h"
#include "xmalloc.h"

/* A secret file larger than this is not a secret but a mistake. */
#define SECRET_MAX 65536
/* A configuration file larger than this is refused before libconfig sees it. */
#define CONFIG_MAX ((size_t)4 << 20)

#define DEFAULT_MAX_AGE        (72 * 3600.0)
#define DEFAULT_RETRY_BASE     10.0
#define DEFAULT_RETRY_MAX      1800.0
#define DEFAULT_SHUTDOWN_GRACE 5.0

void config_diag_free(struct config_diag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].text);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static void diag_vadd(struct conf_ctx *c, bool warning, const config_setting_t *s, const char *fmt,
		      va_list ap) PW_PRINTF(4, 0);

static void diag_vadd(struct conf_ctx *c, bool warning, const config_setting_t *s, const char *fmt,
		      va_list ap)
{
	struct config_diag *d = c->diag;
	const char *file = c->file;
	char msg[ERR_MAX];
	unsigned line = 0;

	if (s != NULL) {
		line = config_setting_source_line(s);
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	d->items = xreallocarray(d->items, d->n + 1, sizeof(*d->items));
	d->items[d->n].warning = warning;
	if (line > 0)
		d->items[d->n].text =
			xasprintf("%s:%u: %s%s%s%s", file, line, c->what ? c->what : "",
				  c->what ? ": " : "", warning ? "warning: " : "", msg);
	else
		d->items[d->n].text =
			xasprintf("%s: %s%s%s%s", file, c->what ? c->what : "", c->what ? ": " : "",
				  warning ? "warning: " : "", msg);
	d->n++;
	if (!warning)
		d->n_errors++;
}

void conf_error(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(c, false, s, fmt, ap);
	va_end(ap);
}

void conf_warn(struct conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(c, true, s, fmt, ap);
	va_end(ap);
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

/* The human name of a libconfig type, for "must be a string, not a group". */
static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/* Opens path for reading if it is a regular file, filling *st; -1 with err set otherwise. A FIFO
 * would block the open (and the daemon) until some writer came, and opening a device can do
 * anything, so neither is ever opened: the check comes before the open, and is made again on
 * what was opened in case the name changed hands in between. */
static int open_regular(const char *path, struct stat *st, struct err *err)
{
	int fd;

	if (stat(path, st) != 0)
		return err_set(err, "%s", strerror(errno));
	if (!S_ISREG(st->st_mode))
		return err_set(err, "not a regular file");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_set(err, "%s", strerror(errno));
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return err_set(err, "not a regular file");
	}
	return fd;
}

/* Reads up to size bytes, as many as there are: a read may return fewer than asked. Returns the
 * count, or -1 with errno set. */
static ssize_t read_up_to(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads a file holding a secret: its content without the final line break. */
static char *read_secret_file(struct conf_ctx *c, const config_setting_t *s, const char *path)
{
	char buf[SECRET_MAX + 1], *secret = NULL;
	struct stat st;
	struct err err;
	ssize_t n;
	int fd = open_regular(path, &st, &err);

	if (fd < 0) {
		conf_error(c, s, "%s: cannot open: %s", path, err.msg);
		return NULL;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		conf_warn(c, s, "%s holds a secret but other users may read it (chmod 600)", path);
	/* A file of no size is empty, or one of /proc's, which no secret is: not read at all. */
	n = st.st_size == 0 ? 0 : read_up_to(fd, buf, sizeof(buf));
	if (n < 0 || n > SECRET_MAX) {
		conf_error(c, s, "%s: %s", path,
			   n < 0 ? strerror(errno) : "too large for a secret");
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n == 0) {
		conf_error(c, s, "%s is empty", path);
		goto out;
	}
	secret = xstrndup(buf, (size_t)n);
out:
	close(fd);
	return secret;
}

/* Reads a CONF_SECRET key: inline, or from the file "<name>_file" names. */
static int read_secret(struct conf_ctx *c, const config_setting_t *group, const struct conf_key *k,
		       char **out)
{
	char file_key[64];
	const config_setting_t *inl = config_setting_get_member(group, k->name), *file;

	snprintf(file_key, sizeof(file_key), "%s_file", k->name);
	file = config_setting_get_member(group, file_key);
	if (inl != NULL && file != NULL) {
		conf_error(c, file, "set %s or %s, not both", k->name, file_key);
		return 1;
	}
	if (inl == NULL && file == NULL) {
		if (k->required)
			conf_error(c, group, "%s (or %s) is required", k->name, file_key);
		return k->required;
	}
	if (config_setting_type(inl ? inl : file) != CONFIG_TYPE_STRING) {
		conf_error(c, inl ? inl : file, "%s must be a string, not %s",
			   inl ? k->name : file_key,
			   type_name(config_setting_type(inl ? inl : file)));
		return 1;
	}
	if (inl != NULL) {
		*out = xstrdup(config_setting_get_string(inl));
		return 0;
	}
	*out = read_secret_file(c, file, config_setting_get_string(file));
	return *out == NULL;
}

static int read_strings(struct conf_ctx *c, const config_setting_t *s, const char *name,
			struct conf_strings *out)
{
	int type = config_setting_type(s), n;

	if (type == CONFIG_TYPE_STRING) {
		out->v = xcalloc(1, sizeof(*out->v));
		out->v[0] = xstrdup(config_setting_get_string(s));
		out->n = 1;
		return 0;
	}
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		conf_error(c, s, "%s must be a list of strings, not %s", name, type_name(type));
		return 1;
	}
	n = config_setting_length(s);
	out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_error(c, e, "%s must hold only strings, not %s", name,
				   type_name(config_setting_type(e)));
			return 1;
		}
		out->v[out->n++] = xstrdup(config_setting_get_string(e));
	}
	return 0;
}

/* A number, duration or size as a double, for the range check. */
static int read_number(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *k,
		       double *v)
{
	int type = config_setting_type(s);
	size_t bytes;

	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		*v = (double)config_setting_get_int64(s);
	} else if (type == CONFIG_TYPE_FLOAT && k->type == CONF_DURATION) {
		*v = config_setting_get_float(s);
	} else if (type == CONFIG_TYPE_STRING && k->type == CONF_DURATION) {
		if (conf_parse_duration(config_setting_get_string(s), v) != 0) {
			conf_error(c, s, "%s: \"%s\" is not a duration (30s, 10m, 72h, 2d)",
				   k->name, config_setting_get_string(s));
			return 1;
		}
	} else if (type == CONFIG_TYPE_STRING && k->type == CONF_SIZE) {
		if (conf_parse_size(config_setting_get_string(s), &bytes) != 0) {
			conf_error(c, s, "%s: \"%s\" is not a size (512K, 64M, 1G)", k->name,
				   config_setting_get_string(s));
			return 1;
		}
		*v = (double)bytes;
	} else {
		conf_error(c, s, "%s must be %s, not %s", k->name,
			   k->type == CONF_INT    ? "an integer"
			   : k->type == CONF_SIZE ? "a size"
						  : "a duration",
			   type_name(type));
		return 1;
	}
	if (!isfinite(*v) || *v < (double)k->min || (k->max != 0 && *v > (double)k->max)) {
		if (k->max != 0)
			conf_error(c, s, "%s must be between %lld and %lld", k->name, k->min,
				   k->max);
		else
			conf_error(c, s, "%s must be at least %lld", k->name, k->min);
		return 1;
	}
	return 0;
}

/* Reads one present key of a known type into target. */
static int read_key(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *k,
		    void *target)
{
	char *at = (char *)target + k->offset;
	double v;

	switch (k->type) {
	case CONF_STRING:
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			conf_error(c, s, "%s must be a string, not %s", k->name,
				   type_name(config_setting_type(s)));
			return 1;
		}
		*(char **)(void *)at = xstrdup(config_setting_get_string(s));
		return 0;
	case CONF_STRINGS:
		return read_strings(c, s, k->name, (struct conf_strings *)(void *)at);
	case CONF_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			conf_error(c, s, "%s must be true or false, not %s", k->name,
				   type_name(config_setting_type(s)));
			return 1;
		}
		*(bool *)(void *)at = config_setting_get_bool(s) != 0;
		return 0;
	case CONF_INT:
	case CONF_DURATION:
	case CONF_SIZE:
		if (read_number(c, s, k, &v) != 0)
			return 1;
		/* The largest long long and size_t become 2^63 and 2^64 as doubles, one past what
		 * the types hold: converting those back would be undefined, so they saturate. */
		if (k->type == CONF_INT)
			*(long long *)(void *)at =
				v >= (double)LLONG_MAX ? LLONG_MAX : (long long)v;
		else if (k->type == CONF_DURATION)
			*(double *)(void *)at = v;
		else
			*(size_t *)(void *)at = v >= (double)SIZE_MAX ? SIZE_MAX : (size_t)v;
		return 0;
	case CONF_SECRET:
	case CONF_ANY:
	case CONF_INCLUDE:
		return 0;
	}
	return 0;
}

/* The row of the table (or an included one) for a key name; *base gets the row's struct. */
static const struct conf_key *find_key(const struct conf_key *keys, const char *name, size_t *base)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		size_t n = strlen(k->name);

		if (k->type == CONF_INCLUDE) {
			size_t inner = 0;
			const struct conf_key *f = find_key(k->sub, name, &inner);

			if (f != NULL) {
				*base += k->offset + inner;
				return f;
			}
		} else if (strcmp(k->name, name) == 0 ||
			   (k->type == CONF_SECRET && strncmp(name, k->name, n) == 0 &&
			    strcmp(name + n, "_file") == 0)) {
			return k;
		}
	}
	return NULL;
}

/* Lists a table's keys for "unknown key" messages. */
static void key_names(const struct conf_key *keys, char *out, size_t size)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		size_t used = strlen(out);

		if (k->type == CONF_INCLUDE)
			key_names(k->sub, out, size);
		else if (used + strlen(k->name) + 3 < size)
			snprintf(out + used, size - used, "%s%s", used ? ", " : "", k->name);
	}
}

/* Checks presence of required keys and reads secrets, table by table. */
static int read_rows(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		     char *target)
{
	int problems = 0;

	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		if (k->type == CONF_INCLUDE) {
			problems += read_rows(c, s, k->sub, target + k->offset);
		} else if (k->type == CONF_SECRET) {
			problems += read_secret(c, s, k, (char **)(void *)(target + k->offset));
		} else if (k->required && config_setting_get_member(s, k->name) == NULL) {
			conf_error(c, s, "%s is required", k->name);
			problems++;
		}
	}
	return problems;
}

int conf_read_group(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		    void *target)
{
	int problems = 0;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_error(c, s, "must be a group { ... }, not %s",
			   type_name(config_setting_type(s)));
		return 1;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		size_t base = 0;
		const struct conf_key *k = find_key(keys, name, &base);

		if (k == NULL) {
			char known[512] = "";

			key_names(keys, known, sizeof(known));
			conf_error(c, e, "unknown key '%s' (known: %s)", name, known);
			problems++;
			continue;
		}
		problems += read_key(c, e, k, (char *)target + base);
	}
	return problems + read_rows(c, s, keys, target);
}

void conf_free_group(const struct conf_key *keys, void *target)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		char *at = (char *)target + k->offset;

		if (k->type == CONF_INCLUDE) {
			conf_free_group(k->sub, at);
		} else if (k->type == CONF_STRING || k->type == CONF_SECRET) {
			free(*(char **)(void *)at);
			*(char **)(void *)at = NULL;
		} else if (k->type == CONF_STRINGS) {
			struct conf_strings *l = (struct conf_strings *)(void *)at;

			for (size_t i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
}

bool conf_check_url(struct conf_ctx *c, const config_setting_t *s, const char *url,
		    const char *const *allowed)
{
	const char *colon = strstr(url, "://");
	char list[128] = "";

	for (size_t i = 0; colon != NULL && allowed[i] != NULL; i++) {
		if ((size_t)(colon - url) != strlen(allowed[i]) ||
		    strncasecmp(url, allowed[i], strlen(allowed[i])) != 0)
			continue;
		if (colon[3] == '\0' || colon[3] == '/') {
			conf_error(c, s, "the URL names no host");
			return false;
		}
		return true;
	}
	for (size_t i = 0; allowed[i] != NULL; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s://", i ? ", " : "",
			 allowed[i]);
	/* Never echo the URL: it may carry a token. */
	conf_error(c, s, "the URL must start with %s", list);
	return false;
}

/* ---- The file's own groups ---- */

static const struct conf_key watch_keys[] = {
	{"dir", CONF_STRING, false, offsetof(struct config_watch, dir), 0, 0, NULL},
	{"include", CONF_STRINGS, false, offsetof(struct config_watch, include), 0, 0, NULL},
	{"exclude", CONF_STRINGS, false, offsetof(struct config_watch, exclude), 0, 0, NULL},
	{"max_file_size", CONF_SIZE, false, offsetof(struct config_watch, max_file_size), 1, 0,
	 NULL},
	{NULL, CONF_ANY, false, 0, 0, 0, NULL},
};

static const struct conf_key delivery_keys[] = {
	{"max_age", CONF_DURATION, false, offsetof(struct config_delivery, max_age), 1,
	 365LL * 86400, NULL},
	{"retry_base", CONF_DURATION, false, offsetof(struct config_delivery, retry_base), 0, 86400,
	 NULL},
	{"retry_max", CONF_DURATION, false, offsetof(struct config_delivery, retry_max), 0, 86400,
	 NULL},
	{"shutdown_grace", CONF_DURATION, false, offsetof(struct config_delivery, shutdown_grace),
	 0, 300, NULL},
	{NULL, CONF_ANY, false, 0, 0, 0, NULL},
};

static const struct conf_key rule_keys[] = {
	{"name", CONF_STRING, true, offsetof(struct config_rule, name), 0, 0, NULL},
	{"query", CONF_STRING, true, offsetof(struct config_rule, query), 0, 0, NULL},
	{"notify", CONF_STRINGS, false, offsetof(struct config_rule, notify), 0, 0, NULL},
	{NULL, CONF_ANY, false, 0, 0, 0, NULL},
};

static const struct conf_key top_keys[] = {
	{"watch", CONF_ANY, false, 0, 0, 0, NULL},
	{"state", CONF_STRING, false, offsetof(struct config, state), 0, 0, NULL},
	{"delivery", CONF_ANY, false, 0, 0, 0, NULL},
	{"notifiers", CONF_ANY, false, 0, 0, 0, NULL},
	{"rules", CONF_ANY, false, 0, 0, 0, NULL},
	{NULL, CONF_ANY, false, 0, 0, 0, NULL},
};

/* "$STATE_DIRECTORY/name" under systemd (its first directory), else "./fallback". */
static char *state_dir_path(const char *name, const char *fallback)
{
	const char *dir = getenv("STATE_DIRECTORY");
	size_t n;

	if (dir == NULL || dir[0] == '\0')
		return xstrdup(fallback);
	n = strcspn(dir, ":");
	return xasprintf("%.*s/%s", (int)n, dir, name);
}

/* A list setting's elements as groups; reports anything else. */
static bool is_list_of_groups(struct conf_ctx *c, const config_setting_t *s, const char *what)
{
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_LIST &&
	    !(type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0)) {
		conf_error(c, s, "%s must be a list ( { ... }, { ... } ), not %s", what,
			   type_name(type));
		return false;
	}
	return true;
}

static void load_notifiers(struct conf_ctx *c, const config_t *cf, struct config *cfg)
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

		if (notify_check(c, e, nt) != 0)
			continue;
		if (config_notifier_index(cfg, nt->name) >= 0) {
			conf_error(c, e, "a second notifier named \"%s\"", nt->name);
			notify_free(nt);
			continue;
		}
		cfg->n_notifiers++;
	}
}

/* Resolves a rule's notifier names to indices; every name must exist. */
static void rule_targets(struct conf_ctx *c, const config_setting_t *e, struct config *cfg,
			 struct config_rule *r)
{
	const config_setting_t *notify = config_setting_get_member(e, "notify");

	if (r->notify.n == 0) {
		r->targets = xcalloc(cfg->n_notifiers + 1, sizeof(*r->targets));
		for (size_t i = 0; i < cfg->n_notifiers; i++)
			r->targets[r->n_targets++] = i;
		return;
	}
	r->targets = xcalloc(r->notify.n, sizeof(*r->targets));
	for (size_t i = 0; i < r->notify.n; i++) {
		int k = config_notifier_index(cfg, r->notify.v[i]);

		if (k < 0)
			conf_error(c, notify, "rule \"%s\": no notifier named \"%s\"", r->name,
				   r->notify.v[i]);
		else
			r->targets[r->n_targets++] = (size_t)k;
	}
}

static void load_rule(struct conf_ctx *c, const config_setting_t *e, struct config *cfg)
{
	struct config_rule *r = &cfg->rules[cfg->n_rules];
	struct query_error qe;

	memset(r, 0, sizeof(*r));
	r->line = config_setting_source_line(e);
	if (conf_read_group(c, e, rule_keys, r) != 0) {
		conf_free_group(rule_keys, r);
		return;
	}
	if (r->name[0] == '\0') {
		conf_error(c, e, "a rule's name must not be empty");
	} else if (config_rule_index(cfg, r->name) >= 0) {
		conf_error(c, e, "a second rule named \"%s\"", r->name);
	} else if (matcher_add(cfg->matcher, r->query, &qe) < 0) {
		conf_error(c, config_setting_get_member(e, "query"),
			   "rule \"%s\": query column %u: %s", r->name, qe.column, qe.msg);
	} else {
		rule_targets(c, e, cfg, r);
		cfg->n_rules++;
		return;
	}
	conf_free_group(rule_keys, r);
}

static void load_rules(struct conf_ctx *c, const config_t *cf, struct config *cfg)
{
	const config_setting_t *list = config_lookup(cf, "rules");
	int n;

	cfg->matcher = matcher_new();
	if (list == NULL || !is_list_of_groups(c, list, "rules"))
		return;
	n = config_setting_length(list);
	cfg->rules = xcalloc((size_t)n + 1, sizeof(*cfg->rules));
	for (int i = 0; i < n; i++)
		load_rule(c, config_setting_get_elem(list, (unsigned)i), cfg);
	matcher_compile(cfg->matcher);
}

static void load_groups(struct conf_ctx *c, const config_t *cf, struct config *cfg)
{
	const config_setting_t *s;

	conf_read_group(c, config_root_setting(cf), top_keys, cfg);
	cfg->watch.max_file_size = PARSE_MAX_SIZE_DEFAULT;
	if ((s = config_lookup(cf, "watch")) != NULL)
		conf_read_group(c, s, watch_keys, &cfg->watch);
	if (cfg->watch.dir == NULL)
		cfg->watch.dir = state_dir_path("inbox", "./inbox");
	if (cfg->watch.include.n == 0) {
		/* An empty list (or one refused before its first string) still has its array. */
		free(cfg->watch.include.v);
		cfg->watch.include.v = xcalloc(3, sizeof(char *));
		cfg->watch.include.v[0] = xstrdup("*.md");
		cfg->watch.include.v[1] = xstrdup("*.txt");
		cfg->watch.include.n = 2;
	}
	if (cfg->state == NULL)
		cfg->state = state_dir_path("state.db", "./paperwatch.db");
	cfg->delivery.max_age = DEFAULT_MAX_AGE;
	cfg->delivery.retry_base = DEFAULT_RETRY_BASE;
	cfg->delivery.retry_max = DEFAULT_RETRY_MAX;
	cfg->delivery.shutdown_grace = DEFAULT_SHUTDOWN_GRACE;
	if ((s = config_lookup(cf, "delivery")) != NULL)
		conf_read_group(c, s, delivery_keys, &cfg->delivery);
	if (cfg->delivery.retry_max < cfg->delivery.retry_base)
		cfg->delivery.retry_max = cfg->delivery.retry_base;
}

/* Checks the parsed file into a config; NULL when anything is wrong. */
static struct config *config_build(const char *name, config_t *cf, struct config_diag *d)
{
	struct conf_ctx c = {.file = name, .diag = d};
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	size_t errors = d->n_errors;

	cfg->refs = 1;
	cfg->path = xstrdup(name);
	load_groups(&c, cf, cfg);
	load_notifiers(&c, cf, cfg);
	load_rules(&c, cf, cfg);
	/* The loaders report through c: what they found is counted there. */
	if (c.diag->n_errors == errors && cfg->n_notifiers == 0)
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
		cfg = config_build(name, &cf, d);
	config_destroy(&cf);
	return cfg;
}

struct config *config_load(const char *path, struct config_diag *d)
{
	struct conf_ctx c = {.file = path, .diag = d};
	struct config *cfg = NULL;
	char *text = NULL, *dir, *slash;
	struct stat st;
	struct err err;
	config_t cf;
	int fd = open_regular(path, &st, &err);

	if (fd < 0) {
		conf_error(&c, NULL, "cannot read: %s", err.msg);
		return NULL;
	}
	if ((size_t)st.st_size > CONFIG_MAX) {
		conf_error(&c, NULL, "cannot read: larger than 4 MiB");
		goto out;
	}
	text = xcalloc((size_t)st.st_size + 1, 1);
	if (read_up_to(fd, text, (size_t)st.st_size) < 0) {
		conf_error(&c, NULL, "cannot read: %s", strerror(errno));
		goto out;
	}
	config_init(&cf);
	/* "@include" names files beside this one. */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		config_set_include_dir(&cf, dir);
	}
	if (config_read_string(&cf, text) != CONFIG_TRUE)
		syntax_error(path, &cf, d);
	else
		cfg = config_build(path, &cf, d);
	config_destroy(&cf);
	free(dir);
out:
	free(text);
	close(fd);
	return cfg;
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
	conf_free_group(watch_keys, &c->watch);
	free(c->state);
	for (size_t i = 0; i < c->n_notifiers; i++)
		notify_free(&c->notifiers[i]);
	free(c->notifiers);
	for (size_t i = 0; i < c->n_rules; i++) {
		conf_free_group(rule_keys, &c->rules[i]);
		free(c->rules[i].targets);
	}
	free(c->rules);
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
