/*
 * notify_email.c — email over SMTP with libcurl. A batch is one multipart/alternative message
 * (plain text and HTML, UTF-8, quoted-printable), built whole when the batch is recorded, so
 * every retry sends the same bytes under the same Message-ID. TLS is required — implicit with
 * smtps://, STARTTLS with smtp:// — unless the configuration says tls = "none".
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channel.h"
#include "xmalloc.h"

/* Text and HTML of one message before encoding: quoted-printable at most triples it, so a
 * message stays under the 10 MB that the most frugal common servers accept. */
#define EMAIL_MAX_RAW ((size_t)2 << 20)
#define QP_LINE_MAX   76 /* RFC 2045 */
#define HEADER_LINE   78 /* RFC 5322's recommended line length */
#define WORD_BYTES    42 /* text per RFC 2047 encoded-word: "=?UTF-8?B?" 56 chars "?=" */
#define ADDRESS_MAX   254
#define REPLY_MAX     200

/* How much of each piece a paper shows, in characters. */
#define TITLE_MAX   1000
#define AUTHORS_MAX 2000
#define URL_MAX     2000
#define RULES_MAX   1000
#define ID_MAX      40

/* The transfer in flight. The outbox sends one message at a time per notifier, so one per
 * notifier is enough, and it lives as long as the notifier the transfer holds. */
struct email_send {
	const char *body;
	size_t len, off;
	char reply[REPLY_MAX]; /* the server's last refusal, for the detail */
};

struct email_conf {
	struct http_conf http; /* url, ca_file and timeouts, as every network channel has */
	char *from;
	struct conf_strings to;
	char *username;
	char *password;
	char *tls; /* "none", or NULL for TLS required */
	char *mail_from;
	struct curl_slist *rcpt;
	struct email_send send;
};

static const struct conf_key email_keys[] = {
	{.name = "", .type = CONF_INCLUDE, .sub = notify_common_keys, .desc = "name and type"},
	{
		.name = "",
		.type = CONF_INCLUDE,
		.offset = offsetof(struct email_conf, http),
		.sub = notify_http_keys,
		.desc = "url, ca_file and the timeouts",
	},
	{
		.name = "from",
		.type = CONF_STRING,
		.required = true,
		.offset = offsetof(struct email_conf, from),
		.desc = "the sender, a plain address",
	},
	{
		.name = "to",
		.type = CONF_STRINGS,
		.required = true,
		.offset = offsetof(struct email_conf, to),
		.desc = "one address or a list of them, at least one",
	},
	{
		.name = "username",
		.type = CONF_STRING,
		.offset = offsetof(struct email_conf, username),
		.desc = "SMTP AUTH, with password; none, no AUTH",
	},
	{
		.name = "password",
		.type = CONF_SECRET,
		.offset = offsetof(struct email_conf, password),
		.desc = "SMTP AUTH, with username; password_file names a file holding it",
	},
	{
		.name = "tls",
		.type = CONF_STRING,
		.offset = offsetof(struct email_conf, tls),
		.desc = "only \"none\": no encryption at all; left out, TLS required",
	},
	{.name = NULL},
};

static const char *html_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return notify_escape_markup(c);
	}
}

static const struct notify_style html_style = {"<b>", "</b>", html_escape};
static const struct notify_style plain_style = {"", "", NULL};

/* A plain address, local@domain, in characters that need no quoting in a header or in SMTP. */
static bool valid_address(const char *a)
{
	const char *at = strchr(a, '@');

	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') ||
	    strlen(a) > ADDRESS_MAX)
		return false;
	for (const char *p = a; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f || strchr("<>()[],;:\"\\", c) != NULL)
			return false;
	}
	return true;
}

/* The checks beyond the table: addresses, the TLS choice, credentials. */
static void email_check_values(struct conf_ctx *c, const config_setting_t *entry,
			       const struct email_conf *e)
{
	bool smtps = strncasecmp(e->http.url, "smtps:", 6) == 0;

	if (!valid_address(e->from))
		conf_error(c, entry, "from must be a plain address, like paperwatch@example.org");
	if (e->to.n == 0)
		conf_error(c, entry, "to must name at least one address");
	for (size_t i = 0; i < e->to.n; i++) {
		if (!valid_address(e->to.v[i]))
			conf_error(c, entry,
				   "to: \"%s\" is not a plain address like me@example.org",
				   e->to.v[i]);
	}
	if (e->tls != NULL && strcmp(e->tls, "none") != 0)
		conf_error(c, entry,
			   "tls must be \"none\" (no encryption at all) or left out (TLS "
			   "required: smtps://, or STARTTLS with smtp://)");
	else if (e->tls != NULL && smtps)
		conf_error(c, entry, "tls = \"none\" contradicts an smtps:// URL");
	if ((e->username == NULL) != (e->password == NULL))
		conf_error(c, entry, "username and password (or password_file) go together");
	else if (e->password != NULL && e->tls != NULL)
		conf_error(c, entry, "a password is never sent without TLS: drop tls = \"none\"");
}

static int email_check(struct conf_ctx *c, const config_setting_t *entry, void **conf)
{
	static const char *const schemes[] = {"smtps", "smtp", NULL};
	struct email_conf *e = xcalloc(1, sizeof(*e));
	size_t errors = c->diag->n_errors;

	*conf = e;
	if (conf_read_group(c, entry, email_keys, e) != 0)
		return -1;
	notify_check_http(c, entry, &e->http, schemes); /* its problems are counted below */
	email_check_values(c, entry, e);
	if (c->diag->n_errors > errors)
		return -1;
	e->mail_from = xasprintf("<%s>", e->from);
	return 0;
}

/* ---- The message ---- */

/* Appends s as quoted-printable (RFC 2045): "\n" becomes CRLF, lines stay within 76
 * characters, a character's bytes are never split between two lines, and a line never starts
 * with "." or "From " as itself, which some relays and mailboxes would alter. */
static void qp_encode(struct notify_text *out, const char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n;) {
		size_t len = 1, elen = 0;
		char enc[16];

		if (s[i] == '\n') {
			notify_text_add(out, "\r\n", 2);
			col = 0;
			i++;
			continue;
		}
		while (i + len < n && len < 4 && ((unsigned char)s[i + len] & 0xc0) == 0x80)
			len++;
		for (size_t j = 0; j < len; j++) {
			unsigned char c = (unsigned char)s[i + j];
			bool at_end = i + 1 == n || s[i + 1] == '\n';
			bool literal = (c > ' ' && c < 0x7f && c != '=') ||
				       ((c == ' ' || c == '\t') && !at_end);

			if (col == 0 && j == 0 &&
			    (c == '.' || (c == 'F' && !strncmp(s + i, "From ", 5))))
				literal = false;
			if (literal)
				enc[elen++] = (char)c;
			else
				elen += (size_t)snprintf(enc + elen, sizeof(enc) - elen, "=%02X",
							 c);
		}
		/* A soft break ("=" at the line's end) before the character would pass 76. */
		if (col + elen > QP_LINE_MAX - 1) {
			notify_text_add(out, "=\r\n", 3);
			col = 0;
		}
		notify_text_add(out, enc, elen);
		col += elen;
		i += len;
	}
}

/* A header's value as RFC 2047 encoded-words when it is not short plain ASCII: each word holds
 * whole UTF-8 characters, and words go on lines of their own. */
static void header_encoded(struct notify_text *out, const char *name, const char *v)
{
	size_t n = strlen(v);
	bool plain = strlen(name) + 2 + n <= HEADER_LINE;

	for (size_t i = 0; i < n && plain; i++)
		plain = v[i] >= ' ' && v[i] < 0x7f;
	notify_text_printf(out, "%s: ", name);
	if (plain) {
		notify_text_printf(out, "%s\r\n", v);
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t take = n - i < WORD_BYTES ? n - i : WORD_BYTES;
		unsigned char b64[4 * ((WORD_BYTES + 2) / 3) + 1];

		while (take > 1 && i + take < n && ((unsigned char)v[i + take] & 0xc0) == 0x80)
			take--;
		EVP_EncodeBlock(b64, (const unsigned char *)v + i, (int)take);
		notify_text_printf(out, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", (const char *)b64);
		i += take;
	}
	notify_text_puts(out, "\r\n");
}

/* "Sun, 22 Nov 2026 03:16:16 +0000", in English whatever the locale (RFC 5322). */
static void header_date(struct notify_text *out, long long ms)
{
	static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	notify_text_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
			   tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			   tm.tm_sec);
}

/* One paper in the plain-text part. */
static void text_paper(struct notify_text *t, const struct alert *a)
{
	const struct paper *p = a->paper;
	struct notify_text part = {0};

	notify_title(t, a, &plain_style, TITLE_MAX);
	if (notify_authors(&part, a, &plain_style, AUTHORS_MAX) > 0)
		notify_text_printf(t, "\n  Authors: %s", part.s);
	notify_text_puts(t, "\n  Rules: ");
	notify_rules(t, a, &plain_style, RULES_MAX);
	if (p->url != NULL) {
		notify_text_puts(t, "\n  ");
		notify_plain(t, p->url, &plain_style, URL_MAX);
	}
	part.len = 0;
	if (notify_snippet(&part, a, &plain_style, NOTIFY_SNIPPET_MAX) > 0)
		notify_text_printf(t, "\n  \"%s\"", part.s);
	notify_text_puts(t, "\n\n");
	free(part.s);
}

/* The id, version and date after the rules, in HTML. */
static void html_id(struct notify_text *t, const struct paper *p)
{
	if (p->id != NULL) {
		notify_text_puts(t, " · ");
		notify_plain(t, p->id, &html_style, ID_MAX);
		if (p->version != NULL)
			notify_plain(t, p->version, &html_style, ID_MAX);
	}
	if (p->date != NULL) {
		notify_text_puts(t, " · ");
		notify_plain(t, p->date, &html_style, ID_MAX);
	}
}

/* One paper in the HTML part: the title links the paper, matched words in bold. */
static void html_paper(struct notify_text *t, const struct alert *a)
{
	const struct paper *p = a->paper;
	bool link = p->url != NULL && notify_url_linkable(p->url);
	struct notify_text part = {0};

	notify_text_puts(t, "<p style=\"margin:0 0 1em 0\">");
	if (link) {
		notify_text_puts(t, "<a href=\"");
		notify_plain(t, p->url, &html_style, URL_MAX);
		notify_text_puts(t, "\">");
	}
	notify_title(t, a, &html_style, TITLE_MAX);
	notify_text_puts(t, link ? "</a>" : "");
	if (notify_authors(&part, a, &html_style, AUTHORS_MAX) > 0)
		notify_text_printf(t, "<br>\n%s", part.s);
	if (!link && p->url != NULL) {
		notify_text_puts(t, "<br>\n");
		notify_plain(t, p->url, &html_style, URL_MAX);
	}
	notify_text_puts(t, "<br>\n<small>Rules: ");
	notify_rules(t, a, &html_style, RULES_MAX);
	html_id(t, p);
	notify_text_puts(t, "</small>");
	part.len = 0;
	if (notify_snippet(&part, a, &html_style, NOTIFY_SNIPPET_MAX) > 0)
		notify_text_printf(t, "<br>\n<i>%s</i>", part.s);
	notify_text_puts(t, "</p>\n");
	free(part.s);
}

/* The batch's rendered papers and what a message needs to know about its place in it. */
struct email_parts {
	const struct alert_batch *b;
	struct notify_text *text, *html; /* per paper */
	size_t from, to, part, parts;
};

/* The headers: Date, From, To, Subject, Message-ID and the MIME ones. */
static void email_headers(struct notify_text *m, const struct email_conf *e,
			  const struct email_parts *p, const char *key, const char *boundary)
{
	struct notify_text subject = {0};

	header_date(m, p->b->created_ms);
	notify_text_printf(m, "From: paperwatch <%s>\r\nTo: ", e->from);
	for (size_t i = 0; i < e->to.n; i++)
		notify_text_printf(m, "%s%s", i ? ",\r\n " : "", e->to.v[i]);
	notify_text_puts(&subject, "paperwatch: ");
	notify_heading(&subject, p->b, p->from, p->to, p->part, p->parts, &plain_style);
	notify_text_puts(m, "\r\n");
	header_encoded(m, "Subject", subject.s);
	/* The message's key is stable across retries, so the id is too: a receiver that got a
	 * message whose 250 was lost can tell the second copy is the same. */
	notify_text_printf(m, "Message-ID: <%s@%s>\r\n", key, strchr(e->from, '@') + 1);
	notify_text_printf(m,
			   "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
			   "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
			   boundary);
	free(subject.s);
}

/* A text part's head and its quoted-printable body. */
static void email_part(struct notify_text *m, const char *boundary, const char *type,
		       const struct notify_text *body)
{
	notify_text_printf(m,
			   "--%s\r\nContent-Type: text/%s; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
			   boundary, type);
	qp_encode(m, body->s ? body->s : "", body->len);
	notify_text_puts(m, "\r\n");
}

/* The digest's file name in small print under an HTML heading that names a date. */
static void email_source_html(struct notify_text *html, const struct alert_batch *b)
{
	struct notify_text source = {0};

	if (notify_source(&source, b, &html_style) > 0)
		notify_text_printf(html, "<br>\n<small>%s</small>", source.s);
	free(source.s);
}

/* One whole message for the papers p->from..p->to-1, under key's Message-ID. */
static char *email_message(const struct email_conf *e, const struct email_parts *p, const char *key)
{
	struct notify_text m = {0}, text = {0}, html = {0};
	/* "=_" never occurs in quoted-printable text, so no body can contain the boundary. */
	char *boundary = xasprintf("=_paperwatch_%s", key);

	email_headers(&m, e, p, key, boundary);
	notify_heading(&text, p->b, p->from, p->to, p->part, p->parts, &plain_style);
	notify_text_puts(&text, "\n");
	if (notify_source(&text, p->b, &plain_style) > 0)
		notify_text_puts(&text, "\n");
	notify_text_puts(&text, "\n");
	notify_text_puts(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
				"<body style=\"font-family:sans-serif\">\n<p>");
	notify_heading(&html, p->b, p->from, p->to, p->part, p->parts, &html_style);
	email_source_html(&html, p->b);
	notify_text_puts(&html, "</p>\n");
	for (size_t i = p->from; i < p->to; i++) {
		notify_text_add(&text, p->text[i].s, p->text[i].len);
		notify_text_add(&html, p->html[i].s, p->html[i].len);
	}
	notify_text_puts(&html, "</body></html>\n");
	email_part(&m, boundary, "plain", &text);
	email_part(&m, boundary, "html", &html);
	notify_text_printf(&m, "--%s--\r\n", boundary);
	free(boundary);
	free(text.s);
	free(html.s);
	return m.s;
}

/* Renders every paper once, then makes as few messages as the size bound allows. */
static int email_format(const struct notifier *n, const struct alert_batch *b,
			struct message_list *out, struct err *err)
{
	const struct email_conf *e = n->conf;
	struct email_parts p = {.b = b};
	size_t *sizes = xcalloc(b->n_alerts + 1, sizeof(*sizes));
	size_t *starts = xcalloc(b->n_alerts + 1, sizeof(*starts));

	(void)err;
	p.text = xcalloc(b->n_alerts + 1, sizeof(*p.text));
	p.html = xcalloc(b->n_alerts + 1, sizeof(*p.html));
	for (size_t i = 0; i < b->n_alerts; i++) {
		text_paper(&p.text[i], &b->alerts[i]);
		html_paper(&p.html[i], &b->alerts[i]);
		sizes[i] = p.text[i].len + p.html[i].len;
	}
	p.parts = notify_pack(sizes, b->n_alerts, b->n_alerts, EMAIL_MAX_RAW, starts);
	for (p.part = 0; p.part < p.parts; p.part++) {
		/* The key message_list_add gives this message. */
		char *key = xasprintf("%s-%zu", b->key, out->n), *body;

		p.from = starts[p.part];
		p.to = starts[p.part + 1];
		body = email_message(e, &p, key);
		message_list_add(out, b, body, strlen(body), p.to - p.from);
		free(key);
	}
	for (size_t i = 0; i < b->n_alerts; i++) {
		free(p.text[i].s);
		free(p.html[i].s);
	}
	free(p.text);
	free(p.html);
	free(sizes);
	free(starts);
	return 0;
}

/* A notice: one plain-text message, its title the subject and the body's first line. */
static int email_format_notice(const struct notifier *n, const struct notice *nt,
			       struct message_list *out, struct err *err)
{
	const struct email_conf *e = n->conf;
	char *key = xasprintf("%s-%zu", nt->key, out->n);
	struct notify_text m = {0}, subject = {0}, text = {0};

	(void)err;
	header_date(&m, nt->created_ms);
	notify_text_printf(&m, "From: paperwatch <%s>\r\nTo: ", e->from);
	for (size_t i = 0; i < e->to.n; i++)
		notify_text_printf(&m, "%s%s", i ? ",\r\n " : "", e->to.v[i]);
	notify_text_puts(&m, "\r\n");
	notify_text_puts(&subject, "paperwatch: ");
	notify_plain(&subject, nt->title, &plain_style, TITLE_MAX);
	header_encoded(&m, "Subject", subject.s);
	notify_text_printf(&m,
			   "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
			   "Auto-Submitted: auto-generated\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
			   key, strchr(e->from, '@') + 1);
	notify_text_add(&text, subject.s, subject.len);
	if (nt->detail != NULL && nt->detail[0] != '\0') {
		notify_text_puts(&text, "\n\n");
		notify_lines(&text, nt->detail, &plain_style, TITLE_MAX);
	}
	notify_text_puts(&text, "\n");
	qp_encode(&m, text.s, text.len);
	message_list_add_notice(out, nt, m.s, m.len);
	free(subject.s);
	free(text.s);
	free(key);
	return 0;
}

/* ---- Sending ---- */

static size_t on_read(char *buf, size_t size, size_t n, void *userp)
{
	struct email_send *s = userp;
	size_t room = size * n, take = s->len - s->off < room ? s->len - s->off : room;

	memcpy(buf, s->body + s->off, take);
	s->off += take;
	return take;
}

/* Keeps the server's last refusal (a 4xx or 5xx line): why a command failed, in its own words,
 * not the 221 that answers the QUIT after it. Only what the server says is looked at, never what
 * we send (AUTH carries the password). */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
	struct email_send *s = userp;
	size_t n = size, start;

	(void)easy;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	start = n;
	while (start > 0 && data[start - 1] != '\n')
		start--;
	if (n - start < 3 || (data[start] != '4' && data[start] != '5'))
		return 0;
	snprintf(s->reply, sizeof(s->reply), "%.*s", (int)(n - start), data + start);
	for (char *p = s->reply; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return 0;
}

/* The envelope's recipients as libcurl takes them, made at the first send: reading the
 * configuration, as every command does, never calls into libcurl. */
static int email_recipients(struct email_conf *e, struct err *err)
{
	struct curl_slist *rcpt = NULL;

	if (e->rcpt != NULL)
		return 0;
	for (size_t i = 0; i < e->to.n; i++) {
		char *one = xasprintf("<%s>", e->to.v[i]);
		struct curl_slist *l = curl_slist_append(rcpt, one);

		free(one);
		if (l == NULL) {
			curl_slist_free_all(rcpt);
			return err_set(err, "out of memory for the recipients");
		}
		rcpt = l;
	}
	e->rcpt = rcpt;
	return 0;
}

static int email_prepare(const struct notifier *n, const struct message *m, CURL *easy,
			 struct curl_slist **headers, struct err *err)
{
	struct email_conf *e = n->conf;

	(void)headers;
	if (email_recipients(e, err) != 0)
		return -1;
	e->send = (struct email_send){.body = m->body, .len = m->len};
	notify_setup_transfer(easy, &e->http);
	/* Required TLS: a server that offers no STARTTLS fails the send, never gets plain text. */
	curl_easy_setopt(easy, CURLOPT_USE_SSL, (long)(e->tls ? CURLUSESSL_NONE : CURLUSESSL_ALL));
	curl_easy_setopt(easy, CURLOPT_MAIL_FROM, e->mail_from);
	curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, e->rcpt);
	if (e->username != NULL) {
		curl_easy_setopt(easy, CURLOPT_USERNAME, e->username);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, e->password);
	}
	curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(easy, CURLOPT_READDATA, &e->send);
	curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len);
	curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(easy, CURLOPT_DEBUGDATA, &e->send);
	curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
	return 0;
}

/* Delivered when the server took the data; a refused login or a 5xx answer fails for good;
 * anything else — 4xx, no TLS on offer, a dropped connection — is tried again. */
static void email_classify(const struct notifier *n, const struct send_response *r,
			   struct send_result *out)
{
	const struct email_conf *e = n->conf;
	const char *why = r->error && *r->error ? r->error : curl_easy_strerror(r->code);

	memset(out, 0, sizeof(*out));
	if (r->code == CURLE_OK)
		out->status = SEND_DELIVERED;
	else if (r->code == CURLE_LOGIN_DENIED || r->status >= 500)
		out->status = SEND_FAILED;
	else
		out->status = SEND_RETRY;
	if (r->code == CURLE_OK)
		snprintf(out->detail, sizeof(out->detail), "SMTP %ld", r->status);
	else if (e->send.reply[0] != '\0')
		snprintf(out->detail, sizeof(out->detail), "%.80s; the server said: %.150s", why,
			 e->send.reply);
	else
		snprintf(out->detail, sizeof(out->detail), "%s", why);
	notify_scrub(out->detail, e->password);
	notify_scrub(out->detail, e->http.url);
}

static void email_free(void *conf)
{
	struct email_conf *e = conf;

	curl_slist_free_all(e->rcpt);
	free(e->mail_from);
	conf_free_group(email_keys, e);
	free(e);
}

const struct notifier_ops notifier_email = {
	.type = "email",
	.check = email_check,
	.format = email_format,
	.format_notice = email_format_notice,
	.prepare = email_prepare,
	.classify = email_classify,
	.free = email_free,
};
