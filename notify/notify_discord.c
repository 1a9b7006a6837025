/*
 * notify_discord.c — Discord through a channel webhook: one embed per paper (its title linking
 * the paper, authors, the abstract's snippet, the rules) under a content of the heading and the
 * digest's file name. Discord takes 10 embeds and 6,000 embed characters a message, so a large
 * batch goes as several messages. Paper text is Markdown-escaped and allowed_mentions is empty,
 * so no title can format the message or ping.
 */
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "xmalloc.h"

/* Discord's limits, in characters. */
#define DISCORD_CONTENT_MAX     2000
#define DISCORD_EMBEDS_MAX      10
#define DISCORD_EMBED_TOTAL_MAX 6000 /* every embed of a message together */
#define DISCORD_TITLE_MAX       256
#define DISCORD_FIELD_VALUE_MAX 1024

/* The pieces of a paper's description: with NOTIFY_SNIPPET_MAX, the title and fields, one embed
 * stays well under DISCORD_EMBED_TOTAL_MAX (and its description under Discord's 4,096), so a
 * message always has room for at least one. */
#define AUTHORS_MAX 1500
#define URL_MAX     500
#define ID_MAX      40

struct discord_conf {
	struct http_conf http;
	char *send_url; /* the URL with wait=true */
};

static const struct conf_key discord_keys[] = {
	{.name = "", .type = CONF_INCLUDE, .sub = notify_common_keys, .desc = "name and type"},
	{
		.name = "",
		.type = CONF_INCLUDE,
		.offset = offsetof(struct discord_conf, http),
		.sub = notify_http_keys,
		.desc = "url, ca_file and the timeouts",
	},
	{.name = NULL},
};

/* A backslash makes any Markdown character literal; "@" gets a zero-width space after it, so
 * "@everyone" in a title is text even where mentions were allowed. A lookup table. */
static const char *discord_escape(unsigned char c)
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '*':
		return "\\*";
	case '_':
		return "\\_";
	case '~':
		return "\\~";
	case '`':
		return "\\`";
	case '|':
		return "\\|";
	case '<':
		return "\\<";
	case '>':
		return "\\>";
	case '#':
		return "\\#";
	case '-':
		return "\\-";
	case '[':
		return "\\[";
	case ']':
		return "\\]";
	case '(':
		return "\\(";
	case ')':
		return "\\)";
	case '@':
		return "@\xe2\x80\x8b";
	default:
		return NULL;
	}
}

static const struct notify_style discord_md = {"**", "**", discord_escape};

/* The webhook URL with wait=true in its query, the user's other parameters (thread_id...) kept,
 * so that Discord confirms the message with 200 and its id. The caller owns it. */
static char *discord_send_url(const char *url)
{
	size_t q = strcspn(url, "?#");
	const char *p = url + q, *end = url + strcspn(url, "#");
	struct notify_text t = {0};
	char sep = '?';

	notify_text_add(&t, url, q);
	while (*p == '?' || *p == '&') {
		size_t n;

		p++;
		n = strcspn(p, "&#");
		if (p + n > end)
			n = (size_t)(end - p);
		if (n > 0 && !(strncmp(p, "wait", 4) == 0 && (n == 4 || p[4] == '='))) {
			notify_text_printf(&t, "%c%.*s", sep, (int)n, p);
			sep = '&';
		}
		p += n;
	}
	notify_text_printf(&t, "%cwait=true", sep);
	return t.s;
}

static int discord_check(struct conf_ctx *c, const config_setting_t *entry, void **conf)
{
	static const char *const schemes[] = {"https", NULL};
	struct discord_conf *d = xcalloc(1, sizeof(*d));

	*conf = d;
	if (conf_read_group(c, entry, discord_keys, d) != 0 ||
	    !notify_check_http(c, entry, &d->http, schemes))
		return -1;
	d->send_url = discord_send_url(d->http.url);
	return 0;
}

/* The description: authors, the URL when it cannot be the title's link, the abstract's snippet;
 * a line each, none for what the paper lacks. */
static void discord_description(struct notify_text *t, const struct alert *a, bool linked)
{
	struct notify_text snippet = {0};

	notify_authors(t, a, &discord_md, AUTHORS_MAX);
	if (!linked && a->paper->url != NULL) {
		notify_text_puts(t, t->len ? "\n" : "");
		notify_plain(t, a->paper->url, &discord_md, URL_MAX);
	}
	if (notify_snippet(&snippet, a, &discord_md, NOTIFY_SNIPPET_MAX) > 0) {
		notify_text_puts(t, t->len ? "\n" : "");
		notify_text_add(t, snippet.s, snippet.len);
	}
	free(snippet.s);
}

/* Adds a field; returns the characters Discord counts for it. */
static size_t discord_field(json_t *fields, const char *name, const struct notify_text *value)
{
	json_array_append_new(
		fields, json_pack("{s:s, s:s, s:b}", "name", name, "value", value->s, "inline", 1));
	return notify_chars(name, strlen(name)) + notify_chars(value->s, value->len);
}

/* The arXiv field's value: id, version and date. */
static void discord_id(struct notify_text *t, const struct paper *p)
{
	notify_plain(t, p->id, &discord_md, ID_MAX);
	if (p->version != NULL)
		notify_plain(t, p->version, &discord_md, ID_MAX);
	if (p->date != NULL) {
		notify_text_puts(t, " · ");
		notify_plain(t, p->date, &discord_md, ID_MAX);
	}
}

/* One paper as an embed; *chars gets the characters Discord counts in it. */
static json_t *discord_embed(const struct alert *a, size_t *chars)
{
	const struct paper *p = a->paper;
	bool linked = p->url != NULL && notify_url_linkable(p->url);
	struct notify_text title = {0}, desc = {0}, rules = {0}, id = {0};
	json_t *e = json_object(), *fields = json_array();

	*chars = notify_title(&title, a, &discord_md, DISCORD_TITLE_MAX);
	json_object_set_new(e, "title", json_string(title.s ? title.s : ""));
	if (linked)
		json_object_set_new(e, "url", json_string(p->url));
	discord_description(&desc, a, linked);
	if (desc.len > 0) {
		json_object_set_new(e, "description", json_string(desc.s));
		*chars += notify_chars(desc.s, desc.len);
	}
	notify_rules(&rules, a, &discord_md, DISCORD_FIELD_VALUE_MAX);
	*chars += discord_field(fields, "Rules", &rules);
	if (p->id != NULL) {
		discord_id(&id, p);
		*chars += discord_field(fields, "arXiv", &id);
	}
	json_object_set_new(e, "fields", fields);
	free(title.s);
	free(desc.s);
	free(rules.s);
	free(id.s);
	return e;
}

/* One message: the heading as content, the file name as its subtext line when the heading names
 * a date, then the embeds of papers from..to-1. */
static char *discord_message(const struct alert_batch *b, json_t **embeds, size_t from, size_t to,
			     size_t part, size_t parts)
{
	struct notify_text content = {0}, source = {0};
	json_t *list = json_array(), *o;
	char *body;

	notify_heading(&content, b, from, to, part, parts, &discord_md);
	notify_text_puts(&source, "\n-# ");
	if (notify_source(&source, b, &discord_md) > 0)
		notify_text_add(&content, source.s, source.len);
	for (size_t i = from; i < to; i++)
		json_array_append(list, embeds[i]);
	/* No parse types: nothing in the message may mention anyone. */
	o = json_pack("{s:s, s:o, s:{s:[]}}", "content", content.s, "embeds", list,
		      "allowed_mentions", "parse");
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(content.s);
	free(source.s);
	return body;
}

/* Every paper gets its own embed; messages take as many as Discord's limits allow. */
static int discord_format(const struct notifier *n, const struct alert_batch *b,
			  struct message_list *out, struct err *err)
{
	json_t **embeds = xcalloc(b->n_alerts + 1, sizeof(json_t *));
	size_t *chars = xcalloc(b->n_alerts + 1, sizeof(*chars));
	size_t *starts = xcalloc(b->n_alerts + 1, sizeof(*starts)), parts;
	int rc = 0;

	(void)n;
	for (size_t i = 0; i < b->n_alerts; i++)
		embeds[i] = discord_embed(&b->alerts[i], &chars[i]);
	parts = notify_pack(chars, b->n_alerts, DISCORD_EMBEDS_MAX, DISCORD_EMBED_TOTAL_MAX,
			    starts);
	for (size_t k = 0; k < parts && rc == 0; k++) {
		char *body = discord_message(b, embeds, starts[k], starts[k + 1], k, parts);

		if (body == NULL)
			rc = err_set(err, "cannot encode the message");
		else
			message_list_add(out, b, body, strlen(body), starts[k + 1] - starts[k]);
	}
	for (size_t i = 0; i < b->n_alerts; i++)
		json_decref(embeds[i]);
	free(embeds);
	free(chars);
	free(starts);
	return rc;
}

/* A notice: its title in bold and its detail, as the content alone. */
static int discord_format_notice(const struct notifier *n, const struct notice *nt,
				 struct message_list *out, struct err *err)
{
	struct notify_text content = {0};
	json_t *o;
	char *body;

	(void)n;
	notify_text_puts(&content, "**paperwatch: ");
	notify_plain(&content, nt->title, &discord_md, DISCORD_TITLE_MAX);
	notify_text_puts(&content, "**");
	if (nt->detail != NULL && nt->detail[0] != '\0') {
		notify_text_puts(&content, "\n");
		/* Each line within a share of the content's limit, so the whole stays under it. */
		notify_lines(&content, nt->detail, &discord_md, DISCORD_CONTENT_MAX / 8);
	}
	o = json_pack("{s:s, s:{s:[]}}", "content", content.s, "allowed_mentions", "parse");
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(content.s);
	if (body == NULL)
		return err_set(err, "cannot encode the message");
	message_list_add_notice(out, nt, body, strlen(body));
	return 0;
}

static int discord_prepare(const struct notifier *n, const struct message *m, CURL *easy,
			   struct curl_slist **headers, struct err *err)
{
	const struct discord_conf *d = n->conf;
	struct http_conf h = d->http;

	(void)err;
	h.url = d->send_url;
	notify_setup_http(easy, &h, m->body, m->len);
	*headers = curl_slist_append(*headers, "Content-Type: application/json");
	return 0;
}

/* The seconds a 429's JSON body asks for ({"retry_after": 0.35, ...}), 0 when it says none. */
static double discord_retry_after(const struct send_response *r)
{
	json_t *o = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	json_t *v = json_object_get(o, "retry_after");
	double s = json_is_number(v) ? json_number_value(v) : 0;

	json_decref(o);
	return s > 0 && s < 86400 ? s : 0;
}

/* 2xx delivered; 429 retried after the longer of the Retry-After header and the body's
 * retry_after; 5xx retried; 400, 401, 403, 404 failed for good. */
static void discord_classify(const struct notifier *n, const struct send_response *r,
			     struct send_result *out)
{
	const struct discord_conf *d = n->conf;

	notify_classify_http(&d->http, r, out);
	if (r->code == CURLE_OK && r->status == 429) {
		double s = discord_retry_after(r);

		if (s > out->retry_after)
			out->retry_after = s;
	}
}

static void discord_free(void *conf)
{
	struct discord_conf *d = conf;

	conf_free_group(discord_keys, d);
	free(d->send_url);
	free(d);
}

const struct notifier_ops notifier_discord = {
	.type = "discord",
	.check = discord_check,
	.format = discord_format,
	.format_notice = discord_format_notice,
	.prepare = discord_prepare,
	.classify = discord_classify,
	.free = discord_free,
};
