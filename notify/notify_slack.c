/*
 * notify_slack.c — Slack through an incoming webhook: a Block Kit message of one section per
 * paper under a heading section and a context line naming the digest's file, with a plain `text`
 * for notifications and clients without blocks. Slack takes 50 blocks a message and 3,000
 * characters a section, so a large batch goes as several messages, sent a second apart as Slack
 * asks of a webhook.
 */
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "xmalloc.h"

/* Slack's limits. */
#define SLACK_BLOCKS_MAX  50
#define SLACK_SECTION_MAX 3000
/* Our own bound on the text of one message: Slack cuts a message's text past 40,000. */
#define SLACK_MESSAGE_MAX 36000
#define SLACK_TEXT_MAX    3000 /* the notification text: Slack shows about this much */

/* The pieces of a paper's section, in characters: their sum with NOTIFY_SNIPPET_MAX and the glue
 * between them stays under SLACK_SECTION_MAX whatever the paper. */
#define TITLE_MAX   700
#define URL_MAX     600
#define AUTHORS_MAX 700
#define RULES_MAX   400
#define ID_MAX      40

struct slack_conf {
	struct http_conf http;
};

static const struct conf_key slack_keys[] = {
	{.name = "", .type = CONF_INCLUDE, .sub = notify_common_keys, .desc = "name and type"},
	{
		.name = "",
		.type = CONF_INCLUDE,
		.offset = offsetof(struct slack_conf, http),
		.sub = notify_http_keys,
		.desc = "url, ca_file and the timeouts",
	},
	{.name = NULL},
};

/* mrkdwn has three characters to escape, & < >, and no way to escape the others. */
static const struct notify_style slack_mrkdwn = {"*", "*", notify_escape_markup};
static const struct notify_style slack_plain = {"", "", notify_escape_markup};

static int slack_check(struct conf_ctx *c, const config_setting_t *entry, void **conf)
{
	static const char *const schemes[] = {"https", NULL};
	struct slack_conf *s = xcalloc(1, sizeof(*s));

	*conf = s;
	if (conf_read_group(c, entry, slack_keys, s) != 0 ||
	    !notify_check_http(c, entry, &s->http, schemes))
		return -1;
	return 0;
}

/* The paper's last line: the rules it matched, its id and date. */
static void slack_rules_line(struct notify_text *t, const struct alert *a)
{
	const struct paper *p = a->paper;

	notify_text_puts(t, "\n_Rules:_ ");
	notify_rules(t, a, &slack_plain, RULES_MAX);
	if (p->id != NULL) {
		notify_text_puts(t, " · ");
		notify_plain(t, p->id, &slack_plain, ID_MAX);
		if (p->version != NULL)
			notify_plain(t, p->version, &slack_plain, ID_MAX);
	}
	if (p->date != NULL) {
		notify_text_puts(t, " · ");
		notify_plain(t, p->date, &slack_plain, ID_MAX);
	}
}

/* A URL's length once escaped: its link is never cut. */
static size_t escaped_len(const char *url)
{
	size_t n = strlen(url);

	for (const char *p = url; *p; p++)
		n += *p == '&' ? 4 : 0;
	return n;
}

/* One paper as a section's mrkdwn: <url|title>, authors, the abstract's snippet, rules. */
static void slack_paper(struct notify_text *t, const struct alert *a)
{
	const char *url = a->paper->url;
	bool link = url != NULL && notify_url_linkable(url) && escaped_len(url) <= URL_MAX;
	struct notify_text line = {0};

	if (link) {
		/* A linkable URL holds no < > | or space; & is the one left to escape. */
		notify_text_puts(t, "<");
		notify_plain(t, url, &slack_plain, URL_MAX);
		notify_text_puts(t, "|");
	}
	notify_title(t, a, &slack_mrkdwn, TITLE_MAX);
	if (link) {
		notify_text_puts(t, ">");
	} else if (url != NULL) {
		notify_text_puts(t, "\n");
		notify_plain(t, url, &slack_plain, URL_MAX);
	}
	/* A line each for the authors and the snippet, none for what the paper lacks. */
	if (notify_authors(&line, a, &slack_mrkdwn, AUTHORS_MAX) > 0) {
		notify_text_puts(t, "\n");
		notify_text_add(t, line.s, line.len);
	}
	line.len = 0;
	if (notify_snippet(&line, a, &slack_mrkdwn, NOTIFY_SNIPPET_MAX) > 0) {
		notify_text_puts(t, "\n");
		notify_text_add(t, line.s, line.len);
	}
	free(line.s);
	slack_rules_line(t, a);
}

static json_t *slack_section(const char *mrkdwn)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type", "mrkdwn", "text",
			 mrkdwn);
}

/* The notification text: the heading and the titles, plain, within SLACK_TEXT_MAX. */
static char *slack_fallback(const struct alert_batch *b, size_t from, size_t to, size_t part,
			    size_t parts)
{
	struct notify_text raw = {0}, out = {0};

	notify_text_puts(&out, "paperwatch: ");
	notify_heading(&out, b, from, to, part, parts, &slack_plain);
	for (size_t i = from; i < to; i++)
		notify_text_printf(&raw, "%s%s", i > from ? "; " : "", b->alerts[i].paper->title);
	notify_text_puts(&out, ": ");
	notify_plain(&out, raw.s, &slack_plain, SLACK_TEXT_MAX - notify_chars(out.s, out.len));
	free(raw.s);
	return out.s;
}

/* One message: the heading section, the file name's context line when the heading names a date,
 * then the sections of papers from..to-1. */
static char *slack_message(const struct alert_batch *b, char **papers, size_t from, size_t to,
			   size_t part, size_t parts)
{
	struct notify_text head = {0}, source = {0};
	json_t *blocks = json_array(), *o;
	char *fallback = slack_fallback(b, from, to, part, parts), *body;

	notify_text_puts(&head, "paperwatch: ");
	notify_heading(&head, b, from, to, part, parts, &slack_mrkdwn);
	json_array_append_new(blocks, slack_section(head.s));
	if (notify_source(&source, b, &slack_plain) > 0)
		json_array_append_new(blocks,
				      json_pack("{s:s, s:[{s:s, s:s}]}", "type", "context",
						"elements", "type", "mrkdwn", "text", source.s));
	for (size_t i = from; i < to; i++)
		json_array_append_new(blocks, slack_section(papers[i]));
	o = json_pack("{s:s, s:o, s:b, s:b}", "text", fallback, "blocks", blocks, "unfurl_links", 0,
		      "unfurl_media", 0);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(head.s);
	free(source.s);
	free(fallback);
	return body;
}

/* Every paper gets its own section; messages take as many as Slack's limits allow. */
static int slack_format(const struct notifier *n, const struct alert_batch *b,
			struct message_list *out, struct err *err)
{
	char **papers = xcalloc(b->n_alerts + 1, sizeof(*papers));
	size_t *chars = xcalloc(b->n_alerts + 1, sizeof(*chars));
	size_t *starts = xcalloc(b->n_alerts + 1, sizeof(*starts)), parts;
	int rc = 0;

	(void)n;
	for (size_t i = 0; i < b->n_alerts; i++) {
		struct notify_text t = {0};

		slack_paper(&t, &b->alerts[i]);
		papers[i] = t.s;
		chars[i] = notify_chars(t.s, t.len);
	}
	/* Room is kept for the heading and the context line in every message. */
	parts = notify_pack(chars, b->n_alerts, SLACK_BLOCKS_MAX - 2, SLACK_MESSAGE_MAX, starts);
	for (size_t k = 0; k < parts && rc == 0; k++) {
		char *body = slack_message(b, papers, starts[k], starts[k + 1], k, parts);

		if (body == NULL)
			rc = err_set(err, "cannot encode the message");
		else
			message_list_add(out, b, body, strlen(body), starts[k + 1] - starts[k]);
	}
	for (size_t i = 0; i < b->n_alerts; i++)
		free(papers[i]);
	free(papers);
	free(chars);
	free(starts);
	return rc;
}

/* A notice: its title in bold and its detail in one section, the title alone as the text. */
static int slack_format_notice(const struct notifier *n, const struct notice *nt,
			       struct message_list *out, struct err *err)
{
	struct notify_text text = {0}, mrkdwn = {0};
	json_t *o;
	char *body;

	(void)n;
	notify_text_puts(&text, "paperwatch: ");
	notify_plain(&text, nt->title, &slack_plain, SLACK_TEXT_MAX);
	notify_text_puts(&mrkdwn, "*paperwatch: ");
	notify_plain(&mrkdwn, nt->title, &slack_plain, TITLE_MAX);
	notify_text_puts(&mrkdwn, "*");
	if (nt->detail != NULL && nt->detail[0] != '\0') {
		notify_text_puts(&mrkdwn, "\n");
		notify_lines(&mrkdwn, nt->detail, &slack_plain, SLACK_SECTION_MAX / 4);
	}
	o = json_pack("{s:s, s:[o], s:b, s:b}", "text", text.s, "blocks", slack_section(mrkdwn.s),
		      "unfurl_links", 0, "unfurl_media", 0);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(text.s);
	free(mrkdwn.s);
	if (body == NULL)
		return err_set(err, "cannot encode the message");
	message_list_add_notice(out, nt, body, strlen(body));
	return 0;
}

static int slack_prepare(const struct notifier *n, const struct message *m, CURL *easy,
			 struct curl_slist **headers, struct err *err)
{
	const struct slack_conf *s = n->conf;

	(void)err;
	notify_setup_http(easy, &s->http, m->body, m->len);
	*headers = curl_slist_append(*headers, "Content-Type: application/json; charset=utf-8");
	return 0;
}

/* Slack answers 200 "ok"; 429 with Retry-After to slow down; 400 invalid_payload, 403, 404
 * no_service and 410 channel_is_archived for hooks that will never work: the generic judgement
 * of HTTP answers is exactly that, the answer's words kept in the detail. */
static void slack_classify(const struct notifier *n, const struct send_response *r,
			   struct send_result *out)
{
	const struct slack_conf *s = n->conf;

	notify_classify_http(&s->http, r, out);
}

static void slack_free(void *conf)
{
	conf_free_group(slack_keys, conf);
	free(conf);
}

const struct notifier_ops notifier_slack = {
	.type = "slack",
	.check = slack_check,
	.format = slack_format,
	.format_notice = slack_format_notice,
	.prepare = slack_prepare,
	.classify = slack_classify,
	.min_interval = 1.0,
	.free = slack_free,
};
