/*
 * notify.c — the registry of channels, reading a notifier entry, and the toolkit channel.h
 * declares: HTTP set-up and answers, redacted URLs, text escaped and highlighted by a channel's
 * rules, the JSON form of an alerted paper; and the sample alert.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "channel.h"
#include "utf8.h"
#include "xmalloc.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

/* The system's CA directory, trusted beside a notifier's own ca_file. */
#define SYSTEM_CA_PATH "/etc/ssl/certs"

/* The channels, each in its notify_<type>.c. */
extern const struct notifier_ops notifier_slack;
extern const struct notifier_ops notifier_discord;
extern const struct notifier_ops notifier_webhook;
extern const struct notifier_ops notifier_email;
extern const struct notifier_ops notifier_file;

/* Adding a channel is one file, its line above and one line here (kept one a line against
 * clang-format). */
/* clang-format off */
static const struct notifier_ops *const registry[] = {
	&notifier_slack,
	&notifier_discord,
	&notifier_webhook,
	&notifier_email,
	&notifier_file,
};
/* clang-format on */

const struct notifier_ops *notify_find(const char *type)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
		if (strcmp(registry[i]->type, type) == 0)
			return registry[i];
	}
	return NULL;
}

const char *notify_types(void)
{
	static char list[128];

	if (list[0] == '\0') {
		for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", registry[i]->type);
	}
	return list;
}

/* A scheduled message shows this many papers unless the notifier says otherwise. */
#define MAX_PAPERS_DEFAULT 30
#define MAX_PAPERS_MAX     1000

/* When messages go out: read by notify_check for every channel. */
static const struct conf_key notify_cadence_keys[] = {
	{
		.name = "schedule",
		.type = CONF_STRING,
		.offset = offsetof(struct notifier_cadence, schedule),
		.def_str = "instant",
		.desc = "\"instant\", \"daily HH:MM\" or \"weekly DAY HH:MM\"",
	},
	{
		.name = "timezone",
		.type = CONF_STRING,
		.offset = offsetof(struct notifier_cadence, timezone),
		.def_str = "",
		.desc = "the schedule's IANA zone; left out, the file's timezone",
	},
	{
		.name = "max_papers",
		.type = CONF_INT,
		.offset = offsetof(struct notifier_cadence, max_papers),
		.def_num = MAX_PAPERS_DEFAULT,
		.min = 1,
		.max = MAX_PAPERS_MAX,
		.desc = "papers a scheduled message shows before \"and N more\"",
	},
	{
		.name = "send_empty",
		.type = CONF_BOOL,
		.offset = offsetof(struct notifier_cadence, send_empty),
		.desc = "a scheduled period without papers still sends a message",
	},
	{.name = NULL},
};

/* Read by notify_check before the channel's own table is. */
const struct conf_key notify_common_keys[] = {
	{
		.name = "name",
		.type = CONF_ANY,
		.required = true,
		.desc = "the notifier's unique name: letters, digits, '-', '_', '.'",
	},
	{
		.name = "type",
		.type = CONF_ANY,
		.required = true,
		.desc = "the channel: slack, discord, webhook, email or file",
	},
	{
		.name = "",
		.type = CONF_ELSEWHERE,
		.sub = notify_cadence_keys,
		.desc = "schedule, timezone, max_papers and send_empty: notify_check reads them",
	},
	{.name = NULL},
};

/* Reads and checks the keys every notifier has beside its channel's. */
static int check_cadence(struct conf_ctx *c, const config_setting_t *entry, struct notifier *n)
{
	struct notifier_cadence *k = &n->cadence;
	struct err err;

	if (conf_read_some(c, entry, notify_cadence_keys, k) != 0)
		return -1;
	if (schedule_parse(k->schedule, &n->when, &err) != 0) {
		conf_error(c, config_setting_get_member(entry, "schedule"), "%s", err.msg);
		return -1;
	}
	if (k->timezone[0] != '\0' && schedule_zone_check(k->timezone, &err) != 0) {
		conf_error(c, config_setting_get_member(entry, "timezone"), "timezone: %s",
			   err.msg);
		return -1;
	}
	snprintf(n->when.zone, sizeof(n->when.zone), "%s", k->timezone);
	if (n->when.kind == SCHEDULE_INSTANT) {
		static const char *const scheduled_only[] = {"timezone", "max_papers",
							     "send_empty"};

		for (size_t i = 0; i < sizeof(scheduled_only) / sizeof(scheduled_only[0]); i++) {
			const config_setting_t *s =
				config_setting_get_member(entry, scheduled_only[i]);

			if (s != NULL)
				conf_warn(c, s,
					  "%s has no effect without a schedule (\"daily 08:00\")",
					  scheduled_only[i]);
		}
	}
	return 0;
}

/* Names go into logs, file names and message headers: keep them plain. */
static bool valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	}
	return true;
}

int notify_check(struct conf_ctx *c, const config_setting_t *entry, struct notifier *n)
{
	const char *name = NULL, *type = NULL;
	struct conf_ctx inner = *c;
	char what[96];
	size_t errors = c->diag->n_errors;
	bool failed;

	memset(n, 0, sizeof(*n));
	if (config_setting_type(entry) != CONFIG_TYPE_GROUP) {
		conf_error(c, entry, "each notifier must be a group { name = ...; type = ...; }");
		return -1;
	}
	if (!config_setting_lookup_string(entry, "name", &name) || !valid_name(name)) {
		conf_error(c, entry, "a notifier needs a name of letters, digits, '-', '_' or '.'");
		return -1;
	}
	snprintf(what, sizeof(what), "notifier \"%s\"", name);
	inner.what = what;
	if (!config_setting_lookup_string(entry, "type", &type) || notify_find(type) == NULL) {
		conf_error(&inner, entry, "type must be one of %s", notify_types());
		return -1;
	}
	n->name = xstrdup(name);
	n->ops = notify_find(type);
	n->line = config_setting_source_line(entry);
	/* The schedule is checked even when the channel's settings failed: both are said. */
	failed = n->ops->check(&inner, entry, &n->conf) != 0;
	if (check_cadence(&inner, entry, n) != 0 || failed || c->diag->n_errors > errors) {
		notify_free(n);
		return -1;
	}
	return 0;
}

void notify_free(struct notifier *n)
{
	if (n == NULL)
		return;
	if (n->ops != NULL && n->conf != NULL)
		n->ops->free(n->conf);
	conf_free_group(notify_cadence_keys, &n->cadence);
	free(n->name);
	memset(n, 0, sizeof(*n));
}

char *message_list_next_key(const struct message_list *l, const struct alert_batch *b)
{
	return xasprintf("%s-%zu", b->key, l->n);
}

void message_list_add(struct message_list *l, const struct alert_batch *b, char *body, size_t len,
		      size_t n_papers)
{
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].key = message_list_next_key(l, b);
	l->v[l->n].body = body;
	l->v[l->n].len = len;
	l->v[l->n].n_papers = n_papers;
	l->n++;
}

void message_list_add_notice(struct message_list *l, const struct notice *nt, char *body,
			     size_t len)
{
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].key = xasprintf("%s-%zu", nt->key, l->n);
	l->v[l->n].body = body;
	l->v[l->n].len = len;
	l->v[l->n].n_papers = 0;
	l->n++;
}

json_t *notify_notice_json(const struct notice *nt)
{
	time_t t = (time_t)(nt->created_ms / 1000);
	char at[40] = "";
	struct tm tm;
	json_t *o = json_object();

	if (gmtime_r(&t, &tm) == NULL || strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		at[0] = '\0';
	json_object_set_new(o, "type", json_string(nt->type));
	json_object_set_new(o, "condition",
			    nt->condition ? json_string(nt->condition) : json_null());
	json_object_set_new(o, "subject", nt->subject ? json_string(nt->subject) : json_null());
	json_object_set_new(o, "state",
			    nt->condition ? json_string(nt->clears ? "cleared" : "raised")
					  : json_null());
	json_object_set_new(o, "title", json_string(nt->title));
	json_object_set_new(o, "detail", json_string(nt->detail ? nt->detail : ""));
	json_object_set_new(o, "at", json_string(at));
	return o;
}

void message_list_free(struct message_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].body);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A Retry-After is taken up to this (a year); the outbox caps it further at retry_max. */
#define RETRY_AFTER_MAX (365.0 * 86400)

/* Seconds from a Retry-After header: delta-seconds, or an HTTP-date (RFC 9110: IMF-fixdate,
 * "Sun, 06 Nov 1994 08:49:37 GMT"); 0 when it says neither, or a time already past. */
static double retry_after_seconds(const char *v)
{
	struct tm tm = {0};
	const char *rest;
	char *end;
	double s;

	if (v == NULL)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	s = strtod(v, &end);
	if (end != v && isfinite(s)) {
		s = s > 0 ? s : 0;
	} else {
		rest = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (rest == NULL)
			return 0;
		s = difftime(timegm(&tm), time(NULL));
		s = s > 0 ? s : 0;
	}
	return s < RETRY_AFTER_MAX ? s : RETRY_AFTER_MAX;
}

static void classify_http(const struct send_response *r, struct send_result *out);

void notify_classify_http(const struct http_conf *h, const struct send_response *r,
			  struct send_result *out)
{
	classify_http(r, out);
	/* An error page may quote the request: its URL's tokens never reach status or the log. */
	notify_scrub(out->detail, h->url);
}

double notify_attempt_max(const struct notifier *n)
{
	const struct http_conf *h = n->conf;

	return n->ops->prepare != NULL && h != NULL ? h->timeout : 0;
}

const char *notify_config_fault(CURLcode code)
{
	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return "the server's certificate is not trusted here: a private CA's certificate "
		       "goes in the notifier's ca_file";
	case CURLE_SSL_CERTPROBLEM:
		return "a certificate problem: check the notifier's ca_file";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "unknown host: check the host name in the notifier's url";
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return "check the notifier's url";
	default:
		return NULL;
	}
}

/* What an HTTP answer means for the message, and the words that say why. */
static void classify_http(const struct send_response *r, struct send_result *out)
{
	memset(out, 0, sizeof(*out));
	if (r->code != CURLE_OK) {
		out->status = SEND_RETRY;
		snprintf(out->detail, sizeof(out->detail), "%s",
			 r->error && *r->error ? r->error : curl_easy_strerror(r->code));
		return;
	}
	if (r->status >= 200 && r->status < 300) {
		out->status = SEND_DELIVERED;
		snprintf(out->detail, sizeof(out->detail), "HTTP %ld", r->status);
		return;
	}
	out->status = (r->status == 408 || r->status == 429 || r->status >= 500) ? SEND_RETRY
										 : SEND_FAILED;
	out->retry_after = retry_after_seconds(r->retry_after);
	/* The answer's start tells the user why; printable bytes only. */
	snprintf(out->detail, sizeof(out->detail), "HTTP %ld: %.*s", r->status,
		 (int)(r->body_len < 160 ? r->body_len : 160), r->body ? r->body : "");
	for (char *p = out->detail; *p; p++) {
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	}
}

/* A timeout of 0 has always meant the default: files that say so keep working. */
const struct conf_key notify_http_keys[] = {
	{
		.name = "url",
		.type = CONF_SECRET,
		.required = true,
		.offset = offsetof(struct http_conf, url),
		.desc = "where to send; url_file names a file holding it",
	},
	{
		.name = "ca_file",
		.type = CONF_STRING,
		.offset = offsetof(struct http_conf, ca_file),
		.desc = "a PEM bundle trusted besides the system's",
	},
	{
		.name = "connect_timeout",
		.type = CONF_DURATION,
		.offset = offsetof(struct http_conf, connect_timeout),
		.def_num = 10,
		.zero_is_default = true,
		.max = 600,
		.desc = "longest wait for a connection",
	},
	{
		.name = "timeout",
		.type = CONF_DURATION,
		.offset = offsetof(struct http_conf, timeout),
		.def_num = 30,
		.zero_is_default = true,
		.max = 3600,
		.desc = "longest a whole attempt may take",
	},
	{.name = NULL},
};

/* An attempt shorter than this cannot connect, shake hands and hear an answer. */
#define HTTP_TIMEOUT_MIN 1.0

bool notify_check_http(struct conf_ctx *c, const config_setting_t *entry, struct http_conf *h,
		       const char *const *allowed)
{
	const config_setting_t *s;
	size_t errors = c->diag->n_errors;
	struct stat st;
	struct err err;
	int fd;

	/* The checks do not depend on each other: each says its problem, and all are counted. */
	if (h->url != NULL)
		conf_check_url(c, entry, h->url, allowed);
	if (h->ca_file != NULL) {
		fd = conf_open_regular(h->ca_file, &st, &err);
		if (fd < 0)
			conf_error(c, config_setting_get_member(entry, "ca_file"), "ca_file %s: %s",
				   h->ca_file, err.msg);
		else
			close(fd);
	}
	s = config_setting_get_member(entry, "timeout");
	if (h->timeout < HTTP_TIMEOUT_MIN)
		conf_error(c, s ? s : entry,
			   "timeout %gs is too short for an attempt ever to succeed (connecting, "
			   "TLS and the answer): give at least %gs",
			   h->timeout, HTTP_TIMEOUT_MIN);
	else if (h->timeout < h->connect_timeout)
		conf_warn(c, s ? s : entry,
			  "timeout %gs is shorter than connect_timeout %gs: an attempt ends before "
			  "its connection may",
			  h->timeout, h->connect_timeout);
	return h->url != NULL && c->diag->n_errors == errors;
}

void notify_setup_transfer(CURL *easy, const struct http_conf *h)
{
	char proto[16] = "";
	size_t n = strcspn(h->url, ":");

	/* Only the URL's own protocol: a configured https:// can never go out as http://, nor
	 * smtp:// as anything else. The scheme was checked when the configuration loaded. */
	for (size_t i = 0; i < n && i < sizeof(proto) - 1; i++)
		proto[i] = (char)tolower((unsigned char)h->url[i]);
	curl_easy_setopt(easy, CURLOPT_URL, h->url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, proto);
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, proto);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL) {
		curl_easy_setopt(easy, CURLOPT_CAINFO, h->ca_file);
		curl_easy_setopt(easy, CURLOPT_CAPATH, SYSTEM_CA_PATH);
	}
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->connect_timeout * 1000));
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(h->timeout * 1000));
}

void notify_setup_http(CURL *easy, const struct http_conf *h, const char *body, size_t len)
{
	notify_setup_transfer(easy, h);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "paperwatch/" PW_VERSION);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
}

void notify_redact_url(const char *url, char *out, size_t size)
{
	const char *host = strstr(url, "://"), *path, *at;
	size_t keep;

	if (host == NULL) {
		snprintf(out, size, "(a URL)");
		return;
	}
	host += 3;
	path = host + strcspn(host, "/?#");
	/* Credentials before the host are dropped too. */
	at = memchr(host, '@', (size_t)(path - host));
	if (at != NULL)
		host = at + 1;
	/* The host and the first path segment; tokens live further on. */
	keep = *path == '/' ? 1 + strcspn(path + 1, "/?#") : 0;
	snprintf(out, size, "%.*s://%.*s%.*s%s", (int)(strstr(url, "://") - url), url,
		 (int)(path - host), host, (int)keep, path, path[keep] != '\0' ? "/…" : "");
}

/* Replaces each occurrence of needle in s with "…"; needles too short to be a token are left,
 * as they would eat ordinary words. */
static void scrub_one(char *s, const char *needle, size_t n)
{
	static const char mark[] = "…";
	char *p = s, *hit;

	if (n < 6)
		return;
	while ((hit = memmem(p, strlen(p), needle, n)) != NULL) {
		memcpy(hit, mark, sizeof(mark) - 1);
		memmove(hit + sizeof(mark) - 1, hit + n, strlen(hit + n) + 1);
		p = hit + sizeof(mark) - 1;
	}
}

void notify_scrub(char *s, const char *secret)
{
	const char *host, *path, *last;

	if (secret == NULL || *secret == '\0')
		return;
	scrub_one(s, secret, strlen(secret));
	host = strstr(secret, "://");
	if (host == NULL)
		return;
	/* Webhook tokens live after the path's first segment, and in its last one. */
	path = host + 3 + strcspn(host + 3, "/?#");
	if (*path == '/')
		path += 1 + strcspn(path + 1, "/?#");
	scrub_one(s, path, strcspn(path, "?#"));
	last = memrchr(path, '/', strcspn(path, "?#"));
	if (last != NULL)
		scrub_one(s, last + 1, strcspn(last + 1, "?#"));
	/* And each value of its query ("?key=..."), which some services take tokens in. */
	for (const char *q = strchr(path, '?'); q != NULL; q = strchr(q + 1, '&')) {
		const char *value = q + 1 + strcspn(q + 1, "=&#");

		if (*value == '=')
			scrub_one(s, value + 1, strcspn(value + 1, "&#"));
	}
}

/* ---- Text for people ---- */

/* How much of a long text each piece may take, in characters, where a channel does not say. */
#define AUTHORS_LEAD    10  /* authors always shown before any "…" */
#define AUTHORS_HIT_MAX 20  /* matched authors shown further on */
#define AUTHOR_NAME_MAX 120 /* a "name" longer than this is a digest's mistake: cut */
#define AUTHORS_TAIL    24  /* room kept for " and 123456 more et al." */
#define SNIPPET_LEAD    80  /* bytes of context before an abstract's first hit, at most */
#define SOURCE_MAX      200 /* a digest's file name in a heading or its details */

static const char ellipsis[] = "…";

void notify_text_add(struct notify_text *t, const char *s, size_t n)
{
	t->s = xgrow(t->s, &t->cap, t->len + n + 1, 1);
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

void notify_text_puts(struct notify_text *t, const char *s)
{
	notify_text_add(t, s, strlen(s));
}

void notify_text_printf(struct notify_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	t->s = xgrow(t->s, &t->cap, t->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

size_t notify_chars(const char *s, size_t n)
{
	size_t chars = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* A byte that is no continuation starts a character; a 4-byte one is 2 units. */
		chars += (c & 0xc0) != 0x80;
		chars += c >= 0xf0;
	}
	return chars;
}

/* The length of the UTF-8 character at s, 0 when the bytes there are not one. */
static size_t char_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;
	size_t want = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	return want <= n && utf8_valid_prefix(s, want) == want ? want : 0;
}

const char *notify_escape_markup(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	default:
		return NULL;
	}
}

/* The unit of output for the character at s: its escape, itself, a space for a control
 * character or U+FFFD for a bad byte. Returns the bytes of s it stands for. */
static size_t unit_at(const char *s, size_t n, const struct notify_style *st, const char **u,
		      size_t *u_len)
{
	unsigned char c = (unsigned char)*s;
	size_t len = char_len(s, n);
	const char *esc;

	if (len == 0) {
		*u = "\xef\xbf\xbd";
		*u_len = 3;
		return 1;
	}
	*u = s;
	*u_len = len;
	if (c < 0x20 || c == 0x7f) {
		*u = " ";
	} else if (c < 0x80 && st->escape != NULL && (esc = st->escape(c)) != NULL) {
		*u = esc;
		*u_len = strlen(esc);
	}
	return len;
}

/* Whether the 16 bytes at s are all printable ASCII, each a character standing for itself. */
static bool printable16(const char *s)
{
#ifdef __SSE2__
	/* Compared as signed bytes, those beyond ASCII are below 0x20. */
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x1f)),
				   _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));

	return _mm_movemask_epi8(ok) == 0xffff;
#else
	(void)s;
	return false;
#endif
}

/* mark_run for a style without markup (JSON's, plain text's): no highlight and no escape, so
 * runs of bytes that stay as they are go out whole instead of a character at a time. */
static size_t plain_run(struct notify_text *out, const char *s, size_t len, size_t budget,
			size_t *taken)
{
	size_t used = 0, i = 0, from = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *u = NULL; /* what stands for the character, when not itself */
		size_t step = 1, chars = 1;

		if (len - i >= 16 && budget - used >= 16 && printable16(s + i)) {
			used += 16;
			i += 16;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			u = " ";
		} else if (c >= 0x80) {
			step = char_len(s + i, len - i);
			chars = 1 + (c >= 0xf0);
			if (step == 0) {
				u = "\xef\xbf\xbd";
				step = 1;
				chars = 1;
			}
		}
		if (used + chars > budget)
			break;
		if (u != NULL) {
			if (out != NULL) {
				notify_text_add(out, s + from, i - from);
				notify_text_puts(out, u);
			}
			from = i + step;
		}
		used += chars;
		i += step;
	}
	if (out != NULL)
		notify_text_add(out, s + from, i - from);
	*taken = i;
	return used;
}

/* Emits s marked up while it fits in budget characters (the closing marker of an open highlight
 * always kept room for); out NULL only counts. Returns the characters, *taken the bytes of s
 * that went. */
static size_t mark_run(struct notify_text *out, const char *s, size_t len,
		       const struct notify_span *sp, size_t n_sp, const struct notify_style *st,
		       size_t budget, size_t *taken)
{
	size_t used = 0, k = 0, i = 0;
	size_t open_c = notify_chars(st->bold_open, strlen(st->bold_open));
	size_t close_c = notify_chars(st->bold_close, strlen(st->bold_close));
	bool bold = false;

	if (open_c + close_c == 0 && st->escape == NULL)
		return plain_run(out, s, len, budget, taken);

	while (i < len) {
		const char *u;
		size_t u_len, step = unit_at(s + i, len - i, st, &u, &u_len), next;
		bool want;

		while (k < n_sp && sp[k].end <= i)
			k++;
		want = k < n_sp && sp[k].start <= i && open_c + close_c > 0;
		next = used + (bold && !want ? close_c : 0) + (want && !bold ? open_c : 0) +
		       notify_chars(u, u_len);
		if (next + (want ? close_c : 0) > budget)
			break;
		if (out != NULL && bold != want)
			notify_text_puts(out, bold ? st->bold_close : st->bold_open);
		if (out != NULL)
			notify_text_add(out, u, u_len);
		bold = want;
		used = next;
		i += step;
	}
	if (bold && out != NULL)
		notify_text_puts(out, st->bold_close);
	*taken = i;
	return used + (bold ? close_c : 0);
}

/* s[0..len) marked up within max characters; when it does not all fit, what does and "…", cut
 * between words when at_word says so and a word takes no more than half of the room. */
static size_t mark_cut(struct notify_text *out, const char *s, size_t len,
		       const struct notify_span *sp, size_t n_sp, const struct notify_style *st,
		       size_t max, bool at_word)
{
	const char *space;
	size_t used, taken;

	mark_run(NULL, s, len, sp, n_sp, st, max, &taken);
	if (taken == len)
		return mark_run(out, s, len, sp, n_sp, st, max, &taken);
	if (max == 0)
		return 0;
	/* It does not all fit: what does, with room for the "…". */
	mark_run(NULL, s, len, sp, n_sp, st, max - 1, &taken);
	space = !at_word || s[taken] == ' ' ? NULL : memrchr(s, ' ', taken);
	if (space != NULL && (size_t)(space - s) >= taken / 2)
		taken = (size_t)(space - s);
	used = mark_run(out, s, taken, sp, n_sp, st, max - 1, &taken);
	notify_text_puts(out, ellipsis);
	return used + 1;
}

size_t notify_mark(struct notify_text *out, const char *s, size_t len,
		   const struct notify_span *spans, size_t n_spans, const struct notify_style *st,
		   size_t max)
{
	return mark_cut(out, s, len, spans, n_spans, st, max, false);
}

size_t notify_plain(struct notify_text *out, const char *s, const struct notify_style *st,
		    size_t max)
{
	return notify_mark(out, s, strlen(s), NULL, 0, st, max);
}

size_t notify_lines(struct notify_text *out, const char *s, const struct notify_style *st,
		    size_t max)
{
	size_t chars = 0;

	for (const char *p = s; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (p > s) {
			notify_text_add(out, "\n", 1);
			chars++;
		}
		chars += notify_mark(out, p, n, NULL, 0, st, max);
		p += n;
		if (*p == '\n')
			p++;
	}
	return chars;
}

static int span_cmp(const void *a, const void *b)
{
	const struct notify_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

size_t notify_spans(const struct alert *a, enum match_field field, unsigned author, size_t len,
		    struct notify_span **out)
{
	struct notify_span *v = xcalloc(a->n_hits + 1, sizeof(*v));
	size_t n = 0, merged = 0;

	for (size_t i = 0; i < a->n_hits; i++) {
		const struct match_hit *h = &a->hits[i];
		size_t end = h->end < len ? h->end : len;

		if (h->field != field || (field == MATCH_AUTHORS && h->author != author) ||
		    h->start >= end)
			continue;
		v[n++] = (struct notify_span){h->start, end};
	}
	qsort(v, n, sizeof(*v), span_cmp);
	/* Overlapping or touching ranges are one highlight: no "**a****b**". */
	for (size_t i = 0; i < n; i++) {
		if (merged > 0 && v[i].start <= v[merged - 1].end) {
			if (v[i].end > v[merged - 1].end)
				v[merged - 1].end = v[i].end;
		} else {
			v[merged++] = v[i];
		}
	}
	*out = v;
	return merged;
}

size_t notify_title(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		    size_t max)
{
	const char *t = a->paper->title;
	struct notify_span *sp;
	size_t n = notify_spans(a, MATCH_TITLE, 0, strlen(t), &sp);
	size_t used = notify_mark(out, t, strlen(t), sp, n, st, max);

	free(sp);
	return used;
}

/* Whether a rule hit author i. */
static bool author_hit(const struct alert *a, size_t i)
{
	for (size_t k = 0; k < a->n_hits; k++) {
		if (a->hits[k].field == MATCH_AUTHORS && a->hits[k].author == i)
			return true;
	}
	return false;
}

/* Author i, its hits in bold, into a scratch text; returns its characters. */
static size_t author_text(struct notify_text *t, const struct alert *a, size_t i,
			  const struct notify_style *st)
{
	const char *name = a->paper->authors[i];
	struct notify_span *sp;
	size_t n = notify_spans(a, MATCH_AUTHORS, (unsigned)i, strlen(name), &sp), used;

	t->len = 0;
	used = notify_mark(t, name, strlen(name), sp, n, st, AUTHOR_NAME_MAX);
	free(sp);
	return used;
}

/* What follows the names: " and N more" for those left out, " et al." when the digest itself
 * cut the list. Returns its characters. */
static size_t authors_tail(struct notify_text *out, size_t left, bool truncated, bool any)
{
	size_t before = out->len;

	if (left > 0)
		notify_text_printf(out, any ? " and %zu more" : "%zu authors", left);
	if (truncated)
		notify_text_puts(out, any || left ? " et al." : "et al.");
	return out->len - before;
}

size_t notify_authors(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		      size_t max)
{
	const struct paper *p = a->paper;
	struct notify_text name = {0};
	size_t used = 0, shown = 0, hits_shown = 0, left = 0;
	bool gap = false;

	if (p->authors == NULL || max <= AUTHORS_TAIL)
		return 0;
	for (size_t i = 0; i < p->n_authors; i++) {
		bool hit = author_hit(a, i);
		size_t c;

		if (i >= AUTHORS_LEAD && !(hit && hits_shown < AUTHORS_HIT_MAX)) {
			gap = true;
			left++;
			continue;
		}
		c = author_text(&name, a, i, st) + (shown ? (gap ? 5 : 2) : 0);
		if (used + c + AUTHORS_TAIL > max) {
			left += p->n_authors - i;
			break;
		}
		notify_text_puts(out, shown ? (gap ? ", …, " : ", ") : "");
		notify_text_add(out, name.s, name.len);
		used += c;
		shown++;
		hits_shown += i >= AUTHORS_LEAD;
		gap = false;
	}
	free(name.s);
	return used + authors_tail(out, left, p->authors_truncated, shown > 0);
}

/* Where an excerpt showing the hit at byte `hit` of abs starts: at most lead bytes before it, at
 * the start of a word. */
static size_t excerpt_start(const char *abs, size_t hit, size_t lead)
{
	const char *space;
	size_t start;

	if (hit <= lead)
		return 0;
	start = hit - lead;
	space = memchr(abs + start, ' ', hit - start);
	if (space != NULL)
		return (size_t)(space - abs) + 1;
	while (start > 0 && ((unsigned char)abs[start] & 0xc0) == 0x80)
		start--;
	return start;
}

/* How many of the bytes at b, of which there are at least 16, squeeze would copy as they are:
 * 16 or 15 when none of them is white space but single spaces between the others, else 0. The
 * last copied is not white, so nothing is pending after them; the first may be a space when
 * lead says one would be kept there (it follows a byte that is not white). */
static size_t squeeze_plain(const char *b, bool lead)
{
#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
	__m128i ctl = _mm_sub_epi8(x, _mm_set1_epi8('\t')); /* \t..\r are 0..4 */
	__m128i sp = _mm_cmpeq_epi8(x, _mm_set1_epi8(' '));
	__m128i white = _mm_or_si128(
		sp, _mm_cmpeq_epi8(_mm_min_epu8(ctl, _mm_set1_epi8('\r' - '\t')), ctl));
	unsigned w = (unsigned)_mm_movemask_epi8(white), n = 16;

	if (w != (unsigned)_mm_movemask_epi8(sp) || ((w & 1) != 0 && !lead))
		return 0;
	if ((w & 0x8000) != 0) {
		n = 15;
		w &= 0x7fff;
		if ((w & 0x4000) != 0)
			return 0;
	}
	return (w & (w >> 1)) == 0 ? n : 0;
#else
	(void)b;
	(void)lead;
	return 0;
#endif
}

/* End k of the spans, in order: span k / 2's start, or its end. */
static size_t *span_point(struct notify_span *sp, size_t k)
{
	return k % 2 == 0 ? &sp[k / 2].start : &sp[k / 2].end;
}

/* The abstract with every run of white space one space and none at either end, in out, and each
 * span moved to the same text there. The spans are notify_spans': in order, apart, never empty,
 * so their ends are met one after the other, one at a time, in a single pass over the bytes.
 * Prose is mostly words and single spaces: sixteen bytes of it are copied at once. */
static void squeeze(const char *abs, struct notify_span *sp, size_t n_sp, struct notify_text *out)
{
	size_t len = strlen(abs), o, k = 0, next = n_sp > 0 ? sp[0].start : SIZE_MAX;
	size_t slow = 0; /* bytes before this are taken one at a time */
	char *d;
	bool space = false;

	/* It never grows: room for all of it at once. */
	out->s = xgrow(out->s, &out->cap, out->len + len + 1, 1);
	d = out->s;
	o = out->len;
	for (size_t i = 0; i < len;) {
		unsigned char c;
		bool white;
		size_t gap, plain;

		if (i >= slow && len - i >= 16) {
			plain = squeeze_plain(abs + i, !space && o > 0);
			if (plain > 0 && next >= i + plain) {
				if (space && o > 0)
					d[o++] = ' ';
				memcpy(d + o, abs + i, plain);
				o += plain;
				i += plain;
				space = false;
				continue;
			}
			slow = i + 16;
		}
		c = (unsigned char)abs[i];
		white = c == ' ' || (unsigned)(c - '\t') <= (unsigned)('\r' - '\t');
		gap = space && !white && o > 0; /* the space this byte is written after */
		if (i == next) {
			*span_point(sp, k++) = o + gap;
			next = k == 2 * n_sp ? SIZE_MAX : *span_point(sp, k);
		}
		i++;
		space = white;
		if (white)
			continue;
		d[o] = ' ';
		o += gap;
		d[o++] = (char)c;
	}
	d[o] = '\0';
	out->len = o;
	for (; k < 2 * n_sp; k++)
		*span_point(sp, k) = o; /* ends at the end of the abstract */
}

/* Whether a sentence ends at s[i]: a full stop, "!" or "?" at the end or before a space and a
 * word that does not go on in lower case ("e.g. the"), though "b)" starts a digest's next point. */
static bool sentence_end(const char *s, size_t len, size_t i)
{
	char next;

	if (s[i] != '.' && s[i] != '!' && s[i] != '?')
		return false;
	if (i + 1 == len)
		return true;
	if (s[i + 1] != ' ' || i + 2 == len)
		return false;
	next = s[i + 2];
	return next < 'a' || next > 'z' || (i + 3 < len && s[i + 3] == ')');
}

/* The end of the sentence that starts at or after from (just past its stop), or len. */
static size_t sentence_after(const char *s, size_t len, size_t from)
{
	for (size_t i = from; i < len; i++) {
		if (sentence_end(s, len, i))
			return i + 1;
	}
	return len;
}

/* Where the sentence holding byte `at` starts. */
static size_t sentence_start(const char *s, size_t len, size_t at)
{
	size_t start = 0;

	for (size_t i = 0; i + 2 <= at; i++) {
		if ((s[i] == '.' || s[i] == '!' || s[i] == '?') && sentence_end(s, len, i))
			start = i + 2;
	}
	return start;
}

/* Whether s[0..n) with its spans fits in max characters marked up by st. */
static bool fits(const char *s, size_t n, const struct notify_span *sp, size_t n_sp,
		 const struct notify_style *st, size_t max)
{
	size_t taken;

	mark_run(NULL, s, n, sp, n_sp, st, max, &taken);
	return taken == n;
}

size_t notify_snippet(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		      size_t max)
{
	const char *abs = a->paper->abstract;
	struct notify_text t = {0};
	struct notify_span *sp;
	size_t n, start = 0, end, used = 0;

	if (abs == NULL || max < 2)
		return 0;
	n = notify_spans(a, MATCH_ABSTRACT, 0, strlen(abs), &sp);
	squeeze(abs, sp, n, &t);
	end = t.len;
	if (t.len > 0 && n == 0) {
		/* Nothing to show around: the first two sentences, or the first, as fits. */
		size_t one = sentence_after(t.s, t.len, 0), two = sentence_after(t.s, t.len, one);

		if (fits(t.s, two, sp, n, st, max))
			end = two;
		else if (fits(t.s, one, sp, n, st, max))
			end = one;
	} else if (t.len > 0) {
		/* From the hit's sentence when it starts close enough, else from a word before the
		 * hit, "…" for what is left out; a third of the room at most goes before it. */
		size_t hit = sp[0].start, lead = max / 3 < SNIPPET_LEAD ? max / 3 : SNIPPET_LEAD;

		start = sentence_start(t.s, t.len, hit);
		if (hit - start > lead) {
			start = excerpt_start(t.s, hit, lead);
			notify_text_puts(out, ellipsis);
			used = 1;
		}
		for (size_t i = 0; i < n; i++) {
			sp[i].start = sp[i].start > start ? sp[i].start - start : 0;
			sp[i].end = sp[i].end > start ? sp[i].end - start : 0;
		}
	}
	if (t.len > 0)
		used += mark_cut(out, t.s + start, end - start, sp, n, st, max - used, true);
	free(t.s);
	free(sp);
	return used;
}

size_t notify_rules(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		    size_t max)
{
	struct notify_text all = {0};
	size_t used;

	for (size_t i = 0; i < a->n_rules; i++)
		notify_text_printf(&all, "%s%s", i ? ", " : "", a->rules[i]);
	if (a->why != NULL)
		notify_text_printf(&all, " (%s)", a->why);
	used = all.s ? notify_plain(out, all.s, st, max) : 0;
	free(all.s);
	return used;
}

bool notify_url_linkable(const char *url)
{
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return false;
	for (const char *p = url; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '|' || c == '"')
			return false;
	}
	return strlen(url) <= 2000;
}

/* Whether d is a date as papers carry it, YYYY-MM-DD: nothing else goes into a heading. */
static bool is_date(const char *d)
{
	if (d == NULL || strlen(d) != 10)
		return false;
	for (size_t i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? d[i] != '-' : !isdigit((unsigned char)d[i]))
			return false;
	}
	return true;
}

/* The earliest and the latest date among the batch's papers (ISO dates sort as strings); false
 * when no paper has one. The whole batch, so that every part of it says the same. */
static bool batch_dates(const struct alert_batch *b, const char **first, const char **last)
{
	*first = *last = NULL;
	for (size_t i = 0; i < b->n_alerts; i++) {
		const char *d = b->alerts[i].paper->date;

		if (!is_date(d))
			continue;
		if (*first == NULL || strcmp(d, *first) < 0)
			*first = d;
		if (*last == NULL || strcmp(d, *last) > 0)
			*last = d;
	}
	return *first != NULL;
}

/* The papers past the cap, by rule, within this many characters. */
#define MORE_MAX 400

/* What a scheduled message leaves out, and why it is late: "and 12 more: agents 8, robots 4 ·
 * late: due ...". */
static size_t period_details(struct notify_text *out, const struct alert_period *p,
			     const struct notify_style *st)
{
	size_t start = out->len, more = 0;

	for (size_t i = 0; i < p->n_more; i++)
		more += p->more_counts[i];
	if (more > 0) {
		struct notify_text rules = {0};

		for (size_t i = 0; i < p->n_more; i++)
			notify_text_printf(&rules, "%s%s %zu", i ? ", " : "", p->more_rules[i],
					   p->more_counts[i]);
		notify_text_printf(out, "and %zu more: ", more);
		notify_plain(out, rules.s, st, MORE_MAX);
		free(rules.s);
	}
	if (p->note != NULL) {
		notify_text_puts(out, more > 0 ? " · " : "");
		notify_plain(out, p->note, st, SOURCE_MAX + MORE_MAX);
	}
	return notify_chars(out->s + start, out->len - start);
}

size_t notify_heading(struct notify_text *out, const struct alert_batch *b, size_t from, size_t to,
		      size_t part, size_t parts, const struct notify_style *st)
{
	size_t start = out->len;
	const char *first, *last;

	if (b->period != NULL) {
		notify_text_puts(out, st->bold_open);
		notify_plain(out, b->period->title, st, SOURCE_MAX);
		notify_text_puts(out, st->bold_close);
		if (b->period->total > b->n_alerts)
			notify_text_printf(out, ": %zu of %zu papers", b->n_alerts,
					   b->period->total);
		else
			notify_text_printf(out, ": %zu paper%s", b->n_alerts,
					   b->n_alerts == 1 ? "" : "s");
		if (parts > 1)
			notify_text_printf(out, ", part %zu of %zu (papers %zu–%zu)", part + 1,
					   parts, from + 1, to);
		return notify_chars(out->s + start, out->len - start);
	}
	notify_text_printf(out, "%s%zu new paper%s%s", st->bold_open, b->n_alerts,
			   b->n_alerts == 1 ? "" : "s", st->bold_close);
	/* A date is what a reader knows a digest by; without one, its file name, as nothing is
	 * made up. A date is digits and dashes in the middle of a line: no channel's markup. */
	if (!batch_dates(b, &first, &last)) {
		notify_text_puts(out, " in ");
		notify_plain(out, b->source ? b->source : "", st, SOURCE_MAX);
	} else if (strcmp(first, last) == 0) {
		notify_text_printf(out, " for %s", first);
	} else {
		notify_text_printf(out, " for %s to %s", first, last);
	}
	if (parts > 1)
		notify_text_printf(out, ", part %zu of %zu (papers %zu–%zu)", part + 1, parts,
				   from + 1, to);
	return notify_chars(out->s + start, out->len - start);
}

size_t notify_source(struct notify_text *out, const struct alert_batch *b,
		     const struct notify_style *st)
{
	size_t start = out->len;
	const char *first, *last;

	if (b->period != NULL)
		return period_details(out, b->period, st);
	if (b->source == NULL || !batch_dates(b, &first, &last))
		return 0;
	notify_text_puts(out, "from ");
	notify_plain(out, b->source, st, SOURCE_MAX);
	return notify_chars(out->s + start, out->len - start);
}

size_t notify_pack(const size_t *sizes, size_t n, size_t max_items, size_t max_total,
		   size_t *starts)
{
	size_t runs = 0, items = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		if (items > 0 && (items == max_items || total + sizes[i] > max_total)) {
			items = 0;
			total = 0;
		}
		if (items == 0)
			starts[runs++] = i;
		items++;
		total += sizes[i];
	}
	starts[runs] = n;
	return runs;
}

/* A paper every channel can show, for `paperwatch test-notify`. */
static const char *sample_authors[] = {"Ashish Vaswani", "Noam Shazeer", "Niki Parmar"};
static const char *const sample_rules[] = {"test"};
static const struct paper sample_paper = {
	.id = "1706.03762",
	.version = "v7",
	.title = "Attention Is All You Need",
	.authors = sample_authors,
	.n_authors = 3,
	.authors_truncated = true,
	.abstract = "A test alert from paperwatch: this notifier is set up and reachable.",
	.date = "2017-06-12",
	.url = "https://arxiv.org/abs/1706.03762",
	.source = "paperwatch-test",
	.format = "records",
};
static const struct match_hit sample_hit = {
	.term = 0, .field = MATCH_TITLE, .author = 0, .start = 0, .end = 9};
static const struct alert sample_alert = {
	.paper = &sample_paper,
	.rules = sample_rules,
	.n_rules = 1,
	.hits = &sample_hit,
	.n_hits = 1,
};

struct alert_batch notify_sample_batch(void)
{
	return (struct alert_batch){
		.source = "paperwatch-test", .alerts = &sample_alert, .n_alerts = 1};
}

/* JSON carries text as it is: no markup, no highlights. */
static const struct notify_style json_style = {"", "", NULL};

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *notify_period_json(const struct alert_batch *b)
{
	const struct alert_period *p = b->period;
	json_t *o = json_object(), *more = json_object();

	for (size_t i = 0; i < p->n_more; i++)
		json_object_set_new(more, p->more_rules[i],
				    json_integer((json_int_t)p->more_counts[i]));
	json_object_set_new(o, "title", json_string(p->title));
	json_object_set_new(o, "schedule", json_str_or_null(p->schedule));
	json_object_set_new(o, "due", json_str_or_null(p->due));
	json_object_set_new(o, "late", json_boolean(p->late));
	json_object_set_new(o, "periods", json_integer(p->periods));
	json_object_set_new(o, "total", json_integer((json_int_t)p->total));
	json_object_set_new(o, "shown", json_integer((json_int_t)b->n_alerts));
	json_object_set_new(o, "more", more);
	json_object_set_new(o, "note", json_str_or_null(p->note));
	return o;
}

/* ---- JSON written as text ----
 *
 * The messages of webhooks and files are written straight into their text, the bytes jansson
 * wrote from a tree (JSON_COMPACT, members in order) without the tree: a burst spent a tenth of
 * the daemon's time building and dumping trees it then threw away. */

/* Where the first byte at or after s[i] that a JSON string escapes is (a control character, '"'
 * or '\\'), or n: sixteen bytes at a time where there are as many. */
static size_t json_plain_until(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
	const __m128i control = _mm_set1_epi8(0x1f);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* x <= 0x1f, unsigned, where the smaller of the two is x itself. */
		__m128i esc = _mm_or_si128(
			_mm_cmpeq_epi8(_mm_min_epu8(x, control), x),
			_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
		int bits = _mm_movemask_epi8(esc);

		if (bits != 0)
			return i + (size_t)__builtin_ctz((unsigned)bits);
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == '"' || c == '\\')
			break;
	}
	return i;
}

/* Appends s[0..n), valid UTF-8, as a JSON string with jansson's escapes: \" \\ \b \f \n \r \t,
 * \u00XX for the other control characters, everything else as it is. */
static void json_quote(struct notify_text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	t->s = xgrow(t->s, &t->cap, t->len + n + 3, 1);
	notify_text_add(t, "\"", 1);
	for (size_t i; (i = json_plain_until(s, run, n)) < n; run = i + 1) {
		unsigned char c = (unsigned char)s[i];
		char u[6] = {'\\', 'u', '0', '0', '0', '0'};
		const char *esc = u;
		size_t len = 2;

		notify_text_add(t, s + run, i - run);
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			len = sizeof(u);
			break;
		}
		notify_text_add(t, esc, len);
	}
	notify_text_add(t, s + run, n - run);
	notify_text_add(t, "\"", 1);
}

bool notify_json_string(struct notify_text *t, const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (utf8_valid_prefix(s, n) != n)
		return false;
	json_quote(t, s, n);
	return true;
}

void notify_json_key(struct notify_text *t, bool *first, const char *key)
{
	if (!*first)
		notify_text_add(t, ",", 1);
	*first = false;
	json_quote(t, key, strlen(key));
	notify_text_add(t, ":", 1);
}

void notify_json_member(struct notify_text *t, bool *first, const char *key, const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (utf8_valid_prefix(s, n) != n)
		return;
	notify_json_key(t, first, key);
	json_quote(t, s, n);
}

/* As notify_json_member, but null for a NULL s. */
static void json_member_or_null(struct notify_text *t, bool *first, const char *key, const char *s)
{
	if (s != NULL) {
		notify_json_member(t, first, key, s);
		return;
	}
	notify_json_key(t, first, key);
	notify_text_puts(t, "null");
}

static int json_append(const char *buf, size_t size, void *data)
{
	notify_text_add(data, buf, size);
	return 0;
}

void notify_json_value(struct notify_text *t, bool *first, const char *key, const json_t *v)
{
	if (v == NULL)
		return;
	notify_json_key(t, first, key);
	json_dump_callback(v, json_append, t, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* An array of the strings that are UTF-8, as jansson's would hold them. */
static void json_strings(struct notify_text *t, const char *const *v, size_t n)
{
	bool any = false;

	notify_text_add(t, "[", 1);
	for (size_t i = 0; i < n; i++) {
		size_t at = t->len;

		if (any)
			notify_text_add(t, ",", 1);
		if (notify_json_string(t, v[i]))
			any = true;
		else
			t->len = at;
	}
	notify_text_add(t, "]", 1);
}

void notify_paper_json_members(struct notify_text *t, bool *first, const struct alert *a)
{
	const struct paper *p = a->paper;
	struct notify_text snippet = {0};

	json_member_or_null(t, first, "id", p->id);
	json_member_or_null(t, first, "version", p->version);
	notify_json_member(t, first, "title", p->title);
	/* As `paperwatch parse` says it: null when the digest names nobody, not an empty list. */
	notify_json_key(t, first, "authors");
	if (p->authors != NULL)
		json_strings(t, p->authors, p->n_authors);
	else
		notify_text_puts(t, "null");
	json_member_or_null(t, first, "abstract", p->abstract);
	notify_snippet(&snippet, a, &json_style, NOTIFY_SNIPPET_MAX);
	json_member_or_null(t, first, "snippet", snippet.s);
	json_member_or_null(t, first, "date", p->date);
	json_member_or_null(t, first, "url", p->url);
	notify_json_key(t, first, "rules");
	json_strings(t, a->rules, a->n_rules);
	if (a->why != NULL) {
		/* A real as jansson prints one: the same digits whatever the locale. */
		json_t *score = json_real(a->score);

		notify_json_value(t, first, "score", score);
		json_decref(score);
		notify_json_member(t, first, "why", a->why);
	}
	free(snippet.s);
}

json_t *notify_paper_json(const struct alert *a)
{
	struct notify_text t = {0};
	bool first = true;
	json_t *o;

	notify_text_add(&t, "{", 1);
	notify_paper_json_members(&t, &first, a);
	notify_text_add(&t, "}", 1);
	o = json_loadb(t.s, t.len, 0, NULL);
	free(t.s);
	return o;
}
