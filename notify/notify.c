/*
 * notify.c — the registry of channels and what they share: reading a notifier entry, HTTP
 * set-up and answers, redacted URLs, the JSON form of an alerted paper, the sample alert.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify.h"
#include "xmalloc.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

/* The system's CA directory, trusted beside a notifier's own ca_file. */
#define SYSTEM_CA_PATH "/etc/ssl/certs"

#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_TIMEOUT         30.0

/* Adding a channel is one file and one line here. */
static const struct notifier_ops *const registry[] = {
	&notifier_webhook,
	&notifier_file,
};

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

const struct conf_key notify_common_keys[] = {
	{"name", CONF_ANY, true, 0, 0, 0, NULL},
	{"type", CONF_ANY, true, 0, 0, 0, NULL},
	{NULL, CONF_ANY, false, 0, 0, 0, NULL},
};

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
	if (n->ops->check(&inner, entry, &n->conf) != 0 || c->diag->n_errors > errors) {
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
	free(n->name);
	memset(n, 0, sizeof(*n));
}

void message_list_add(struct message_list *l, const struct alert_batch *b, char *body, size_t len,
		      size_t n_papers)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].key = xasprintf("%s-%zu", b->key, l->n);
	l->v[l->n].body = body;
	l->v[l->n].len = len;
	l->v[l->n].n_papers = n_papers;
	l->n++;
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

/* Seconds from a Retry-After header: delta-seconds (dates are rare and read as "unknown"). */
static double retry_after_seconds(const char *v)
{
	char *end;
	double s;

	if (v == NULL)
		return 0;
	s = strtod(v, &end);
	return end != v && isfinite(s) && s > 0 ? s : 0;
}

void notify_classify_http(const struct send_response *r, struct send_result *out)
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

const struct conf_key notify_http_keys[] = {
	{"url", CONF_SECRET, true, offsetof(struct http_conf, url), 0, 0, NULL},
	{"ca_file", CONF_STRING, false, offsetof(struct http_conf, ca_file), 0, 0, NULL},
	{"connect_timeout", CONF_DURATION, false, offsetof(struct http_conf, connect_timeout), 0,
	 600, NULL},
	{"timeout", CONF_DURATION, false, offsetof(struct http_conf, timeout), 0, 3600, NULL},
	{NULL, CONF_ANY, false, 0, 0, 0, NULL},
};

bool notify_check_http(struct conf_ctx *c, const config_setting_t *entry, struct http_conf *h,
		       const char *const *allowed)
{
	if (h->connect_timeout <= 0)
		h->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	if (h->timeout <= 0)
		h->timeout = DEFAULT_TIMEOUT;
	return h->url != NULL && conf_check_url(c, entry, h->url, allowed);
}

void notify_setup_http(CURL *easy, const struct http_conf *h, const char *body, size_t len)
{
	/* Only the URL's own protocol: a configured https:// can never go out as http://. */
	const char *proto = strncasecmp(h->url, "https:", 6) == 0 ? "https" : "http";

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

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *notify_paper_json(const struct alert *a)
{
	const struct paper *p = a->paper;
	json_t *o = json_object(), *authors = json_array(), *rules = json_array();

	for (size_t i = 0; i < p->n_authors; i++)
		json_array_append_new(authors, json_string(p->authors[i]));
	for (size_t i = 0; i < a->n_rules; i++)
		json_array_append_new(rules, json_string(a->rules[i]));
	json_object_set_new(o, "id", json_str_or_null(p->id));
	json_object_set_new(o, "version", json_str_or_null(p->version));
	json_object_set_new(o, "title", json_string(p->title));
	json_object_set_new(o, "authors", authors);
	json_object_set_new(o, "abstract", json_str_or_null(p->abstract));
	json_object_set_new(o, "date", json_str_or_null(p->date));
	json_object_set_new(o, "url", json_str_or_null(p->url));
	json_object_set_new(o, "rules", rules);
	return o;
}
