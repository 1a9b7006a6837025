/*
 * test_notify_email.c — the email channel: a complete RFC 5322 message (headers, RFC 2047
 * subject, multipart/alternative in quoted-printable with short lines), SMTP answers judged,
 * and settings that would send in clear or to nobody refused.
 */
#include "unit.h"

#include <openssl/evp.h>

#include "alerts.h"
#include "utf8.h"

#define EMAIL_CONF                                                                                 \
	"{ name = \"me\"; type = \"email\"; url = \"smtp://mail.example.org:587\"; "               \
	"from = \"paperwatch@example.org\"; to = [\"a@example.org\", \"b@example.org\"]; "         \
	"username = \"alerts\"; password = \"EMAILSECRET42\"; }"

/* How the message of batch msg_0123456789abcdef ends. */
#define END "\r\n--=_paperwatch_msg_0123456789abcdef-0--\r\n"

static struct message_list format(const struct notifier *n, struct fake *f)
{
	struct message_list l = {0};
	struct err err;

	assert_int_equal(n->ops->format(n, &f->b, &l, &err), 0);
	return l;
}

/* Decodes quoted-printable s[0..n): soft breaks joined, CRLF as "\n". The caller frees. */
static char *qp_decode(const char *s, size_t n)
{
	char *out = calloc(n + 1, 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n) {
			unsigned v;

			assert_int_equal(sscanf(s + i + 1, "%2X", &v), 1);
			*o++ = (char)v;
			i += 2;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			*o++ = '\n';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	return out;
}

/* The decoded body of the message's text/<type> part. The caller frees. */
static char *part(const char *msg, const char *type)
{
	char head[64];
	const char *start, *end;

	snprintf(head, sizeof(head), "Content-Type: text/%s; charset=utf-8\r\n", type);
	start = strstr(msg, head);
	assert_non_null(start);
	assert_non_null(strstr(start, "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	start = strstr(start, "\r\n\r\n") + 4;
	end = strstr(start, "\r\n--=_paperwatch_");
	assert_non_null(end);
	return qp_decode(start, (size_t)(end - start));
}

/* The value of header name, unfolded; the caller frees. */
static char *header(const char *msg, const char *name)
{
	size_t n = strlen(name);
	const char *p = msg, *end;
	char *v, *o;

	while (strncmp(p, name, n) != 0 || p[n] != ':') {
		p = strstr(p, "\r\n");
		assert_true(p != NULL && p[2] != '\r');
		p += 2;
	}
	p += n + 2;
	for (end = strstr(p, "\r\n"); end[2] == ' ' || end[2] == '\t';
	     end = strstr(end + 2, "\r\n"))
		;
	v = o = calloc((size_t)(end - p) + 1, 1);
	for (; p < end; p++) {
		if (*p != '\r' && *p != '\n')
			*o++ = *p;
	}
	return v;
}

/* How the text part of a batch of digest.md, dated 2024-10-21, starts. */
#define HEAD "2 new papers for 2024-10-21\nfrom digest.md\n\nPaper 0: "

static void a_message_has_the_headers_and_both_parts_a_mail_reader_needs(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	struct fake f;
	struct message_list l, again;
	char *text, *html, *v;

	(void)state;
	fake_batch(&f, 2, "digest.md");
	l = format(&cfg->notifiers[0], &f);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].n_papers, 2);
	assert_true(strncmp(l.v[0].body, "Date: Mon, 21 Oct 2024 08:40:00 +0000\r\n", 39) == 0);
	v = header(l.v[0].body, "Message-ID");
	assert_string_equal(v, "<msg_0123456789abcdef-0@example.org>");
	free(v);
	v = header(l.v[0].body, "To");
	assert_string_equal(v, "a@example.org, b@example.org");
	free(v);
	assert_non_null(strstr(l.v[0].body, "\r\nFrom: paperwatch <paperwatch@example.org>\r\n"));
	assert_non_null(
		strstr(l.v[0].body, "\r\nSubject: paperwatch: 2 new papers for 2024-10-21\r\n"));
	assert_non_null(strstr(l.v[0].body, "\r\nMIME-Version: 1.0\r\n"));
	v = header(l.v[0].body, "Content-Type");
	assert_string_equal(
		v, "multipart/alternative; boundary=\"=_paperwatch_msg_0123456789abcdef-0\"");
	free(v);
	assert_string_equal(l.v[0].body + l.v[0].len - strlen(END), END);
	text = part(l.v[0].body, "plain");
	html = part(l.v[0].body, "html");
	/* The date heads the body as it does the subject; the file name is the line under it. */
	assert_true(strncmp(text, HEAD, strlen(HEAD)) == 0);
	assert_non_null(strstr(html, "<p><b>2 new papers</b> for 2024-10-21<br>\n"
				     "<small>from digest.md</small></p>\n<p "));
	assert_non_null(strstr(text, "Paper 1: *Agents* & <tools> for @everyone_ [x](y) ~~über~~\n"
				     "  Authors: Zoë Ångström, Ada Lovelace, 李小龙\n"
				     "  Rules: agents, tool-use\n"
				     "  https://arxiv.org/abs/2410.00001\n"));
	assert_non_null(strstr(html,
			       "<a href=\"https://arxiv.org/abs/2410.00001\">Paper 1: "
			       "*<b>Agents</b>* &amp; &lt;tools&gt; for @everyone_ [x](y) "
			       "~~über~~</a><br>\nZoë Ångström, Ada Lovelace, 李<b>小龙</b>"));
	assert_non_null(strstr(html, "act as <b>agents</b> in the wild"));
	/* Formatting again gives the same bytes: nothing depends on the moment. */
	again = format(&cfg->notifiers[0], &f);
	assert_string_equal(again.v[0].body, l.v[0].body);
	free(text);
	free(html);
	message_list_free(&again);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

static void every_paper_shows_a_snippet_and_no_line_for_what_it_lacks(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	struct fake f;
	struct message_list l;
	char *text, *html;

	(void)state;
	fake_sparse(&f);
	l = format(&cfg->notifiers[0], &f);
	text = part(l.v[0].body, "plain");
	html = part(l.v[0].body, "html");
	assert_non_null(strstr(text,
			       "  https://arxiv.org/abs/2410.00000\n"
			       "  \"We study how large language models use tools when they act "
			       "as agents in the wild, and what goes wrong when they do.\"\n\n"));
	assert_non_null(
		strstr(text, "  https://arxiv.org/abs/2410.00001\n  \"" FAKE_LEAD "\"\n\n"));
	assert_non_null(strstr(text, "~~über~~\n  Rules: agents, tool-use\n"
				     "  https://arxiv.org/abs/2410.00002\n\n"));
	assert_non_null(
		strstr(html, "2410.00001v1 · 2024-10-21</small><br>\n<i>" FAKE_LEAD "</i></p>"));
	assert_non_null(strstr(html, "~~über~~</a><br>\n<small>Rules: agents, tool-use · "
				     "2410.00002v1 · 2024-10-21</small></p>"));
	free(text);
	free(html);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

/* Decodes one "=?UTF-8?B?...?=" word, which must hold whole characters; appends it to out. */
static void decode_word(const char *w, size_t n, char *out)
{
	unsigned char buf[128];
	int got;
	size_t len, b64 = n - 12;

	assert_true(n <= 75 && strncmp(w, "=?UTF-8?B?", 10) == 0 &&
		    strncmp(w + n - 2, "?=", 2) == 0);
	got = EVP_DecodeBlock(buf, (const unsigned char *)w + 10, (int)b64);
	assert_true(got >= 0);
	len = (size_t)got - (w[n - 3] == '=') - (w[n - 4] == '=');
	assert_int_equal(utf8_valid_prefix((const char *)buf, len), len);
	strncat(out, (const char *)buf, len);
}

static void a_non_ascii_subject_is_encoded_in_words_of_whole_characters(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	struct fake f;
	struct message_list l;
	char *subject, decoded[512] = "";
	const char *line;

	(void)state;
	/* A digest that dates no paper: the subject names its file. */
	fake_batch(&f, 1, "Über-Digest – 日本語のまとめ – ça marche.md");
	f.papers[0].date = NULL;
	l = format(&cfg->notifiers[0], &f);
	line = strstr(l.v[0].body, "\r\nSubject: ") + 2;
	/* Every physical line of the header within 78 characters. */
	for (const char *p = line; p == line || *p == ' '; p = strstr(p, "\r\n") + 2)
		assert_true(strstr(p, "\r\n") - p <= 78);
	subject = header(l.v[0].body, "Subject");
	for (char *at, *w = strtok_r(subject, " ", &at); w != NULL; w = strtok_r(NULL, " ", &at))
		decode_word(w, strlen(w), decoded);
	assert_string_equal(decoded, "paperwatch: 1 new paper in Über-Digest – 日本語のまとめ – ça "
				     "marche.md");
	free(subject);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

static void every_line_is_short_seven_bit_and_decodes_to_every_paper(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	struct fake f;
	struct message_list l;
	char *text, *html;
	const char *body;

	(void)state;
	fake_batch(&f, 300, "big.md");
	fake_enormous(&f, 7);
	l = format(&cfg->notifiers[0], &f);
	assert_int_equal(l.n, 1);
	body = l.v[0].body;
	/* Headers within 78 characters a line, the encoded parts within 76. */
	for (const char *p = body; *p; p = strstr(p, "\r\n") + 2) {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		assert_true(eol - p <= (p < strstr(body, "\r\n\r\n") ? 78 : 76));
		assert_true(*p != '.');
		for (const char *c = p; c < eol; c++)
			assert_true(*c > 0 && (*c >= ' ' || *c == '\t'));
	}
	text = part(body, "plain");
	html = part(body, "html");
	for (size_t k = 0; k < 300; k++) {
		char url[64];

		snprintf(url, sizeof(url), "https://arxiv.org/abs/2410.%05zu\n", k);
		assert_non_null(strstr(text, url));
		snprintf(url, sizeof(url), "<a href=\"https://arxiv.org/abs/2410.%05zu\">", k);
		assert_non_null(strstr(html, url));
	}
	/* The enormous paper: its title cut, its 2,000 authors shortened, the matched one kept. */
	assert_non_null(strstr(text, "Author Number9, …, Author Number1500 and 1989 more"));
	assert_non_null(strstr(html, "Author <b>Number1500</b> and 1989 more"));
	free(text);
	free(html);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

static struct send_result judge(const struct notifier *n, CURLcode code, long status)
{
	struct send_response r = {.code = code, .status = status, .error = ""};
	struct send_result out;

	n->ops->classify(n, &r, &out);
	return out;
}

static void smtp_answers_are_judged_temporary_or_permanent(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	const struct notifier *n = &cfg->notifiers[0];

	(void)state;
	assert_int_equal(judge(n, CURLE_OK, 250).status, SEND_DELIVERED);
	assert_int_equal(judge(n, CURLE_SEND_ERROR, 451).status, SEND_RETRY);
	assert_int_equal(judge(n, CURLE_WEIRD_SERVER_REPLY, 421).status, SEND_RETRY);
	assert_int_equal(judge(n, CURLE_COULDNT_CONNECT, 0).status, SEND_RETRY);
	assert_int_equal(judge(n, CURLE_OPERATION_TIMEDOUT, 0).status, SEND_RETRY);
	/* STARTTLS required but not offered: never in clear, and tried again later. */
	assert_int_equal(judge(n, CURLE_USE_SSL_FAILED, 250).status, SEND_RETRY);
	assert_int_equal(judge(n, CURLE_PEER_FAILED_VERIFICATION, 220).status, SEND_RETRY);
	assert_int_equal(judge(n, CURLE_SEND_ERROR, 550).status, SEND_FAILED);
	assert_int_equal(judge(n, CURLE_WEIRD_SERVER_REPLY, 552).status, SEND_FAILED);
	assert_int_equal(judge(n, CURLE_LOGIN_DENIED, 535).status, SEND_FAILED);
	config_unref(cfg);
}

static void details_never_show_the_password(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	const struct notifier *n = &cfg->notifiers[0];
	struct send_response r = {.code = CURLE_LOGIN_DENIED,
				  .status = 535,
				  .error = "Login denied for alerts:EMAILSECRET42"};
	struct send_result out;

	(void)state;
	n->ops->classify(n, &r, &out);
	assert_int_equal(out.status, SEND_FAILED);
	assert_null(strstr(out.detail, "EMAILSECRET42"));
	config_unref(cfg);
}

/* Whether loading one email notifier with these extra settings fails saying `says`. */
static void refused(const char *url, const char *extra, const char *says)
{
	struct config_diag d = {0};
	char *text = xasprintf("notifiers = ({ name = \"m\"; type = \"email\"; url = \"%s\"; "
			       "from = \"pw@example.org\"; %s });",
			       url, extra);
	struct config *cfg = config_load_string("t.conf", text, &d);
	bool said = false;

	for (size_t i = 0; i < d.n; i++)
		said |= strstr(d.items[i].text, says) != NULL;
	if (cfg != NULL || !said)
		print_message("%s with %s: not refused with \"%s\"\n", url, extra, says);
	assert_null(cfg);
	assert_true(said);
	free(text);
	config_diag_free(&d);
}

static void settings_that_would_send_in_clear_or_to_nobody_are_refused(void **state)
{
	(void)state;
	refused("smtp://h:587", "to = [\"a@x.org\"]; tls = \"starttls\";", "tls must be \"none\"");
	refused("smtps://h:465", "to = [\"a@x.org\"]; tls = \"none\";", "contradicts");
	refused("smtp://h:25",
		"to = [\"a@x.org\"]; tls = \"none\"; username = \"u\"; "
		"password = \"p\";",
		"never sent without TLS");
	refused("smtp://h:587", "to = [\"a@x.org\"]; password = \"p\";", "go together");
	refused("smtp://h:587", "to = [];", "at least one address");
	refused("smtp://h:587", "", "to is required");
	refused("smtp://h:587", "to = [\"a@x.org\", \"Bob <b@x.org>\"];", "not a plain address");
	refused("smtp://h:587", "to = [\"a@x.org\\r\\nBcc: c@x.org\"];", "not a plain address");
	refused("https://h/", "to = [\"a@x.org\"];", "must start with smtps://, smtp://");
}

static void plain_smtp_is_allowed_only_when_asked_for(void **state)
{
	struct config *a = fake_config("{ name = \"m\"; type = \"email\"; url = \"smtp://h:25\"; "
				       "from = \"pw@x.org\"; to = \"a@x.org\"; tls = \"none\"; }");
	struct config *b = fake_config("{ name = \"m\"; type = \"email\"; url = \"smtps://h\"; "
				       "from = \"pw@x.org\"; to = \"a@x.org\"; }");

	(void)state;
	config_unref(a);
	config_unref(b);
}

static void a_notice_is_one_plain_text_message_under_its_title(void **state)
{
	struct config *cfg = fake_config(EMAIL_CONF);
	struct notice nt = fake_notice(false);
	struct message_list l = {0};
	struct err err;
	const char *body;
	char *v, *text;

	(void)state;
	assert_int_equal(cfg->notifiers[0].ops->format_notice(&cfg->notifiers[0], &nt, &l, &err),
			 0);
	assert_int_equal(l.n, 1);
	assert_true(strncmp(l.v[0].body, "Date: Mon, 21 Oct 2024 08:40:00 +0000\r\n", 39) == 0);
	v = header(l.v[0].body, "Message-ID");
	assert_string_equal(v, "<health_0123-0@example.org>");
	free(v);
	v = header(l.v[0].body, "Subject");
	assert_string_equal(v, "paperwatch: no digest matching hf-*.md <for> 24h & @everyone");
	free(v);
	v = header(l.v[0].body, "Content-Type");
	assert_string_equal(v, "text/plain; charset=utf-8");
	free(v);
	body = strstr(l.v[0].body, "\r\n\r\n");
	assert_non_null(body);
	text = qp_decode(body + 4, strlen(body + 4));
	assert_string_equal(text, "paperwatch: no digest matching hf-*.md <for> 24h & @everyone\n\n"
				  "The last came at 2024-10-21 08:40:00 UTC.\nSecond *line*.\n");
	free(text);
	message_list_free(&l);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_message_has_the_headers_and_both_parts_a_mail_reader_needs),
		cmocka_unit_test(a_notice_is_one_plain_text_message_under_its_title),
		cmocka_unit_test(every_paper_shows_a_snippet_and_no_line_for_what_it_lacks),
		cmocka_unit_test(a_non_ascii_subject_is_encoded_in_words_of_whole_characters),
		cmocka_unit_test(every_line_is_short_seven_bit_and_decodes_to_every_paper),
		cmocka_unit_test(smtp_answers_are_judged_temporary_or_permanent),
		cmocka_unit_test(details_never_show_the_password),
		cmocka_unit_test(settings_that_would_send_in_clear_or_to_nobody_are_refused),
		cmocka_unit_test(plain_smtp_is_allowed_only_when_asked_for),
	};

	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	return cmocka_run_group_tests_name("notify_email", tests, NULL, NULL);
}
