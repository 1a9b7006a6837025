/*
 * config_read.c — reading libconfig groups by table. Every group is read by one loop over its
 * rows, so checks and defaults are alike everywhere and every problem is found in one pass,
 * not just the first.
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
#include <unistd.h>

#include "config_read.h"
#include "xmalloc.h"

/* A secret file larger than this is not a secret but a mistake. */
#define SECRET_MAX 65536

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
	/* Whether it is a warning is the item's flag, which whoever shows it says (the log's
	 * "warning:"), not its text. */
	if (line > 0)
		d->items[d->n].text = xasprintf("%s:%u: %s%s%s", file, line, c->what ? c->what : "",
						c->what ? ": " : "", msg);
	else
		d->items[d->n].text = xasprintf("%s: %s%s%s", file, c->what ? c->what : "",
						c->what ? ": " : "", msg);
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

const char *conf_type_name(int type)
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

/* Fails the open with the reason in err and in errno (EINVAL for a file that is not regular), so
 * that a caller can tell a missing file from the rest. */
static int open_refused(struct err *err, int error)
{
	err_set(err, "%s", error == EINVAL ? "not a regular file" : strerror(error));
	errno = error;
	return -1;
}

/* A FIFO would block the open (and the daemon) until some writer came, and opening a device can
 * do anything, so neither is ever opened: the check comes before the open, and is made again on
 * what was opened in case the name changed hands in between. */
int conf_open_regular(const char *path, struct stat *st, struct err *err)
{
	int fd;

	if (stat(path, st) != 0)
		return open_refused(err, errno);
	if (!S_ISREG(st->st_mode))
		return open_refused(err, EINVAL);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return open_refused(err, errno);
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return open_refused(err, EINVAL);
	}
	return fd;
}

/* A read may return fewer bytes than asked: it is called again until none are left. */
ssize_t conf_read_up_to(int fd, char *buf, size_t size)
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

/* Where a secret file setting points. Under systemd, LoadCredential=NAME:FILE copies FILE into
 * $CREDENTIALS_DIRECTORY, readable by the service alone whoever owns FILE: a bare name (no '/')
 * is such a credential's when that variable is set, and a path like any other otherwise. */
struct secret_source {
	char *path;          /* what is opened */
	bool credential;     /* path is $CREDENTIALS_DIRECTORY/name */
	bool managed;        /* path is in $CREDENTIALS_DIRECTORY, by name or written out */
	char label[ERR_MAX]; /* how messages name it: the path, or the credential and its folder */
};

/* Whether path names something inside the folder dir (not merely starts like its name). */
static bool path_in(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* Resolves a secret file setting's value into src; the caller frees src->path. */
static void secret_source(struct secret_source *src, const char *name)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");

	if (dir != NULL && dir[0] == '\0')
		dir = NULL;
	src->credential = dir != NULL && strchr(name, '/') == NULL;
	src->managed = src->credential || (dir != NULL && path_in(name, dir));
	if (src->credential) {
		src->path = xasprintf("%s/%s", dir, name);
		snprintf(src->label, sizeof(src->label),
			 "credential \"%s\" in $CREDENTIALS_DIRECTORY (%s)", name, dir);
	} else {
		src->path = xstrdup(name);
		snprintf(src->label, sizeof(src->label), "%s", name);
	}
}

/* Reports a secret file that cannot be opened, with what would mend it when that is known:
 * error is the errno of the failure. */
static void secret_open_error(struct conf_ctx *c, const config_setting_t *s, const char *name,
			      const struct secret_source *src, const char *why, int error)
{
	if (src->credential && error == ENOENT)
		conf_error(c, s,
			   "%s: cannot open: %s (the unit loads no credential of that name: add "
			   "LoadCredential=%s:FILE with systemctl edit paperwatch)",
			   src->label, why, name);
	else if (!src->credential && error == ENOENT && strchr(name, '/') == NULL)
		conf_error(c, s,
			   "%s: cannot open: %s (a name without '/' names a systemd credential "
			   "when paperwatch runs as a service with LoadCredential=%s:FILE; "
			   "$CREDENTIALS_DIRECTORY is not set here, so it is a file in the "
			   "working directory)",
			   src->label, why, name);
	else if (!src->credential && error == EACCES)
		conf_error(c, s,
			   "%s: cannot open: %s (under systemd, give the service a file "
			   "only root may read with LoadCredential=: see the README, "
			   "\"Secrets\")",
			   src->label, why);
	else
		conf_error(c, s, "%s: cannot open: %s", src->label, why);
}

/* Reads a file holding a secret: its content without the final line break. The secret itself
 * is never part of a message. */
static char *read_secret_file(struct conf_ctx *c, const config_setting_t *s, const char *name)
{
	char buf[SECRET_MAX + 1], *secret = NULL;
	struct secret_source src;
	struct stat st;
	struct err err;
	ssize_t n;
	int fd;

	secret_source(&src, name);
	fd = conf_open_regular(src.path, &st, &err);
	if (fd < 0) {
		secret_open_error(c, s, name, &src, err.msg, errno);
		free(src.path);
		return NULL;
	}
	/* A credential's copy is the service's alone, whatever the mode systemd gave it. */
	if (!src.managed && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		conf_warn(c, s,
			  "%s holds a secret but other users may read it: chmod 600 it (the user "
			  "paperwatch runs as must own it), or, for the service, load it with "
			  "LoadCredential= (see the README, \"Secrets\")",
			  src.label);
	/* A file of no size is empty, or one of /proc's, which no secret is: not read at all. */
	n = st.st_size == 0 ? 0 : conf_read_up_to(fd, buf, sizeof(buf));
	if (n < 0 || n > SECRET_MAX) {
		conf_error(c, s, "%s: %s", src.label,
			   n < 0 ? strerror(errno) : "too large for a secret");
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n == 0) {
		conf_error(c, s, "%s is empty", src.label);
		goto out;
	}
	secret = xstrndup(buf, (size_t)n);
out:
	close(fd);
	free(src.path);
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
			   conf_type_name(config_setting_type(inl ? inl : file)));
		return 1;
	}
	if (inl != NULL) {
		*out = xstrdup(config_setting_get_string(inl));
		return 0;
	}
	if (config_setting_get_string(file)[0] == '\0') {
		conf_error(c, file, "%s must name a file or a credential, not be empty", file_key);
		return 1;
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
		conf_error(c, s, "%s must be a list of strings, not %s", name,
			   conf_type_name(type));
		return 1;
	}
	n = config_setting_length(s);
	out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_error(c, e, "%s must hold only strings, not %s", name,
				   conf_type_name(config_setting_type(e)));
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
	} else if (type == CONFIG_TYPE_FLOAT &&
		   (k->type == CONF_DURATION || k->type == CONF_REAL)) {
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
			   : k->type == CONF_REAL ? "a number"
			   : k->type == CONF_SIZE ? "a size"
						  : "a duration",
			   conf_type_name(type));
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

/* Stores v as the row's type at at. */
static void store_number(const struct conf_key *k, char *at, double v)
{
	/* The largest long long and size_t become 2^63 and 2^64 as doubles, one past what the
	 * types hold: converting those back would be undefined, so they saturate. */
	if (k->type == CONF_INT)
		*(long long *)(void *)at = v >= (double)LLONG_MAX ? LLONG_MAX : (long long)v;
	else if (k->type == CONF_DURATION || k->type == CONF_REAL)
		*(double *)(void *)at = v;
	else
		*(size_t *)(void *)at = v >= (double)SIZE_MAX ? SIZE_MAX : (size_t)v;
}

/* The number stored at at, as a double, for zero_is_default. */
static double stored_number(const struct conf_key *k, const char *at)
{
	if (k->type == CONF_INT)
		return (double)*(const long long *)(const void *)at;
	if (k->type == CONF_DURATION || k->type == CONF_REAL)
		return *(const double *)(const void *)at;
	return (double)*(const size_t *)(const void *)at;
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
				   conf_type_name(config_setting_type(s)));
			return 1;
		}
		*(char **)(void *)at = xstrdup(config_setting_get_string(s));
		return 0;
	case CONF_STRINGS:
		return read_strings(c, s, k->name, (struct conf_strings *)(void *)at);
	case CONF_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			conf_error(c, s, "%s must be true or false, not %s", k->name,
				   conf_type_name(config_setting_type(s)));
			return 1;
		}
		*(bool *)(void *)at = config_setting_get_bool(s) != 0;
		return 0;
	case CONF_INT:
	case CONF_DURATION:
	case CONF_SIZE:
	case CONF_REAL:
		if (read_number(c, s, k, &v) != 0)
			return 1;
		store_number(k, at, v);
		return 0;
	case CONF_SECRET:
	case CONF_ANY:
	case CONF_INCLUDE:
	case CONF_ELSEWHERE:
		return 0;
	}
	return 0;
}

/* The row of the table (or an included one) for a key name; *base gets the row's struct. */
/* What find_key gives for a key another table reads: nothing is stored. */
static const struct conf_key read_elsewhere = {.name = "", .type = CONF_ANY};

static const struct conf_key *find_key(const struct conf_key *keys, const char *name, size_t *base)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		size_t n = strlen(k->name);

		if (k->type == CONF_ELSEWHERE) {
			size_t inner = 0;

			if (find_key(k->sub, name, &inner) != NULL)
				return &read_elsewhere;
		} else if (k->type == CONF_INCLUDE) {
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

		if (k->type == CONF_INCLUDE || k->type == CONF_ELSEWHERE)
			key_names(k->sub, out, size);
		else if (used + strlen(k->name) + 3 < size)
			snprintf(out + used, size - used, "%s%s", used ? ", " : "", k->name);
	}
}

/* "$STATE_DIRECTORY/name" under systemd (its first directory), else fallback. */
static char *state_dir_path(const char *name, const char *fallback)
{
	const char *dir = getenv("STATE_DIRECTORY");
	size_t n;

	if (dir == NULL || dir[0] == '\0' || name == NULL)
		return xstrdup(fallback);
	n = strcspn(dir, ":");
	return xasprintf("%.*s/%s", (int)n, dir, name);
}

/* Gives the row's value at at its default where it has none: a key left out (given false) or
 * given as what means the default (an empty list; 0 for zero_is_default). */
static void set_default(const struct conf_key *k, char *at, bool given)
{
	struct conf_strings *l = (struct conf_strings *)(void *)at;
	char **str = (char **)(void *)at;

	switch (k->type) {
	case CONF_STRING:
		if (*str == NULL && k->def_str != NULL)
			*str = state_dir_path(k->def_state, k->def_str);
		return;
	case CONF_STRINGS:
		if (l->n > 0 || k->def_list == NULL)
			return;
		/* An empty list (or one refused before its first string) still has its array. */
		free(l->v);
		while (k->def_list[l->n] != NULL)
			l->n++;
		l->v = xcalloc(l->n + 1, sizeof(*l->v));
		for (size_t i = 0; i < l->n; i++)
			l->v[i] = xstrdup(k->def_list[i]);
		return;
	case CONF_INT:
	case CONF_DURATION:
	case CONF_SIZE:
	case CONF_REAL:
		if (!given || (k->zero_is_default && stored_number(k, at) == 0))
			store_number(k, at, k->def_num);
		return;
	case CONF_BOOL:
	case CONF_SECRET:
	case CONF_ANY:
	case CONF_INCLUDE:
	case CONF_ELSEWHERE:
		return;
	}
}

/* Every row's default, for a group left out altogether (or not a group at all). */
static void set_defaults(const struct conf_key *keys, char *target)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		if (k->type == CONF_INCLUDE)
			set_defaults(k->sub, target + k->offset);
		else
			set_default(k, target + k->offset, false);
	}
}

/* The one loop over every row, once the group's keys are read: a required key left out is
 * reported, a secret read, and any other key given its default where it has none. */
static int read_rows(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		     char *target)
{
	int problems = 0;

	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		bool given = config_setting_get_member(s, k->name) != NULL;

		if (k->type == CONF_ELSEWHERE)
			continue;
		if (k->type == CONF_INCLUDE) {
			problems += read_rows(c, s, k->sub, target + k->offset);
		} else if (k->type == CONF_SECRET) {
			problems += read_secret(c, s, k, (char **)(void *)(target + k->offset));
		} else if (k->required && !given) {
			conf_error(c, s, "%s is required", k->name);
			problems++;
		} else {
			set_default(k, target + k->offset, given);
		}
	}
	return problems;
}

/* Reads group s by the table; with strict, a key the table does not have is a problem. */
static int read_group(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		      void *target, bool strict)
{
	int problems = 0;

	if (s == NULL) {
		set_defaults(keys, target);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_error(c, s, "must be a group { ... }, not %s",
			   conf_type_name(config_setting_type(s)));
		set_defaults(keys, target);
		return 1;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);
		size_t base = 0;
		const struct conf_key *k = find_key(keys, name, &base);

		if (k == NULL && strict) {
			char known[512] = "";

			key_names(keys, known, sizeof(known));
			conf_error(c, e, "unknown key '%s' (known: %s)", name, known);
			problems++;
			continue;
		}
		if (k != NULL)
			problems += read_key(c, e, k, (char *)target + base);
	}
	return problems + read_rows(c, s, keys, target);
}

int conf_read_group(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		    void *target)
{
	return read_group(c, s, keys, target, true);
}

int conf_read_some(struct conf_ctx *c, const config_setting_t *s, const struct conf_key *keys,
		   void *target)
{
	return read_group(c, s, keys, target, false);
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
