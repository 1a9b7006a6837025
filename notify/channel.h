/*
 * channel.h — the toolkit for writing a channel: reading its options, HTTP set-up and answer
 * judging, redaction, text escaped, highlighted and shortened by the channel's rules, the JSON
 * form of an alerted paper. A new channel is one notify_<name>.c including this header, one
 * line in notify.c's registry and one in the Makefile.
 */
#ifndef PW_CHANNEL_H
#define PW_CHANNEL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config_read.h"
#include "err.h"
#include "match/match.h"
#include "notify.h"
#include "paper.h"

/* The key the next message added to l gets, for a channel whose body carries it; the caller
 * frees it. */
char *message_list_next_key(const struct message_list *l, const struct alert_batch *b);
/* Appends a message; the list takes ownership of body. Its key is "<batch key>-<n>". */
void message_list_add(struct message_list *l, const struct alert_batch *b, char *body, size_t len,
		      size_t n_papers);

/* Appends a message carrying a notice, and no paper; the list takes ownership of body. Its key
 * is "<notice key>-<n>". */
void message_list_add_notice(struct message_list *l, const struct notice *nt, char *body,
			     size_t len);
/* The JSON form of a notice that webhooks and files carry: type, condition, subject, state
 * ("raised" or "cleared"; null without a condition), title, detail, at (RFC 3339, UTC). The
 * caller owns it. */
json_t *notify_notice_json(const struct notice *nt);

/* ---- Options ---- */

/* The keys every notifier entry has (name, type): a channel's table includes them. */
extern const struct conf_key notify_common_keys[];

/* ---- HTTP ---- */

/* Network options every HTTP channel shares: url, ca_file, timeouts; read by notify_check_http. */
/* Every network channel's options begin with one (notify_attempt_max reads it there). */
struct http_conf {
	char *url;     /* a secret: may come from url_file */
	char *ca_file; /* extra CA bundle to trust besides the system's */
	double connect_timeout, timeout;
};

/* The keys of struct http_conf: a channel's table includes them with one CONF_INCLUDE row. */
extern const struct conf_key notify_http_keys[];

/* Judges an HTTP answer: 2xx delivered; transport errors, 408, 429 and 5xx retried (honouring
 * Retry-After); other 4xx failed for good. What the answer says is scrubbed of h's URL and its
 * tokens, which an error page may quote. */
void notify_classify_http(const struct http_conf *h, const struct send_response *r,
			  struct send_result *out);

/* Checks the URL's scheme among allowed, that ca_file can be opened and that the timeout can
 * be met (the table gave every other key its default); every problem is said through c, and
 * false says there was one. */
bool notify_check_http(struct conf_ctx *c, const config_setting_t *entry, struct http_conf *h,
		       const char *const *allowed);
/* Sets easy up to reach h->url: only the URL's own protocol, no redirects, TLS verified, the CA
 * bundle and timeouts applied. What to send is the caller's business. */
void notify_setup_transfer(CURL *easy, const struct http_conf *h);
/* Sets easy up for a POST of body to h->url: protocols limited to the URL's own, no redirects,
 * TLS verified, the CA bundle and timeouts applied. */
void notify_setup_http(CURL *easy, const struct http_conf *h, const char *body, size_t len);

/* A URL for logs with its secret part hidden: "https://hooks.slack.com/services/T0/…". */
void notify_redact_url(const char *url, char *out, size_t size);
/* Replaces every occurrence of secret in the string s (and of a URL's path after its first
 * segment, where webhook tokens live) with "…": a last guard for details that quote a transport's
 * words. A NULL or empty secret is ignored. */
void notify_scrub(char *s, const char *secret);

/* ---- Standard Webhooks signing (notify_webhook.c), public for its tests ---- */

/* Decodes a Standard Webhooks secret ("whsec_" + base64 of 24 to 64 bytes) into key; -1 when it
 * is not one. */
int notify_webhook_key(const char *secret, unsigned char *key, size_t *len);
/* The webhook-signature value for a message: "v1," + base64(HMAC-SHA256(key, id.ts.body)). */
void notify_webhook_sign(const unsigned char *key, size_t key_len, const char *id, long long ts,
			 const char *body, size_t len, char *out, size_t size);

/* ---- Text for people: escaping, highlighting and shortening, by each channel's rules ---- */

/* A growable string, NUL-terminated once anything was added; free s when done. */
struct notify_text {
	char *s;
	size_t len, cap;
};

void notify_text_add(struct notify_text *t, const char *s, size_t n);
void notify_text_puts(struct notify_text *t, const char *s);
void notify_text_printf(struct notify_text *t, const char *fmt, ...) PW_PRINTF(2, 3);

/* How a channel marks text up. Every ASCII control character becomes a space whatever the style,
 * so no field can break a line or a header. */
struct notify_style {
	const char *bold_open, *bold_close; /* around highlighted text: "*", "**", "<b>"; "" none */
	/* The escaped form of an ASCII character, or NULL to keep it (NULL escape: keep all). */
	const char *(*escape)(unsigned char c);
};

/* The escape of the characters that start markup, & < and >, as character references; NULL for
 * any other. Slack's mrkdwn needs exactly these; HTML adds quotes on top. */
const char *notify_escape_markup(unsigned char c);

/* Characters as the chat services count them, in UTF-16 units: a character beyond U+FFFF counts
 * two, so a limit holds whether a service counts code points or UTF-16 units. */
size_t notify_chars(const char *s, size_t n);

/* A byte range to highlight, start < end. */
struct notify_span {
	size_t start, end;
};

/* The ranges a's hits cover in one field (for MATCH_AUTHORS, in author number `author`), sorted
 * and merged, clipped to len bytes; *out is the caller's to free. */
size_t notify_spans(const struct alert *a, enum match_field field, unsigned author, size_t len,
		    struct notify_span **out);

/* Appends s[0..len) escaped by st, its spans in bold, and returns the characters appended. When
 * all of it would be longer than max characters it is cut to at most max with "…" at the end:
 * never inside a character or an escape, and a highlight open at the cut is closed. Bytes that
 * are not UTF-8 become U+FFFD. */
size_t notify_mark(struct notify_text *out, const char *s, size_t len,
		   const struct notify_span *spans, size_t n_spans, const struct notify_style *st,
		   size_t max);
/* The same for text with nothing to highlight. */
size_t notify_plain(struct notify_text *out, const char *s, const struct notify_style *st,
		    size_t max);

/* Text of several lines ("\n" apart) escaped by st, each line as notify_plain has it (at most
 * max characters), the lines kept apart by "\n". Returns the characters appended. */
size_t notify_lines(struct notify_text *out, const char *s, const struct notify_style *st,
		    size_t max);

/* The paper's title, its hits in bold, at most max characters. */
size_t notify_title(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		    size_t max);
/* The authors within max characters: the first ones, then any further one a rule hit (so a
 * matched name is never hidden), "…" over the gaps, and "and N more" for those left out. A very
 * long name is cut. Nothing when the digest names none. */
size_t notify_authors(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		      size_t max);
/* How long an abstract's snippet is in every channel, in characters: two lines or so. */
#define NOTIFY_SNIPPET_MAX 280

/* The abstract in short, within max characters: the piece around its first hit when a rule
 * matched the abstract (from the hit's sentence when it starts close enough), otherwise its first
 * sentence or two. It is cut between words where it can be, "…" standing for what is left out,
 * and every run of white space is one space. Nothing when the paper has no abstract. */
size_t notify_snippet(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		      size_t max);
/* The names of the rules the paper matched, ", " between, within max characters. */
size_t notify_rules(struct notify_text *out, const struct alert *a, const struct notify_style *st,
		    size_t max);
/* The line a message opens with: "12 new papers for 2024-10-21", the count in bold, and with
 * parts > 1 ", part 2 of 7 (papers 50–98)" for the papers from..to-1 of part number `part` (from
 * 0). The date is the one the batch's papers carry, "2024-10-01 to 2024-10-31" when they carry
 * several; when none has one, "in FILE" names the digest's file instead, cut at 200
 * characters. A scheduled message's opens with its title: "Daily papers, Tue 2027-03-30: 12 of 40
 * papers". Returns the characters appended. */
size_t notify_heading(struct notify_text *out, const struct alert_batch *b, size_t from, size_t to,
		      size_t part, size_t parts, const struct notify_style *st);
/* The line of details under a heading that names a date: "from FILE", the digest's file name cut
 * at 200 characters. Nothing when the heading names the file itself. A scheduled message's says
 * what it leaves out ("and 12 more: agents 8, robots 4") and when it is late. Returns the
 * characters appended. */
size_t notify_source(struct notify_text *out, const struct alert_batch *b,
		     const struct notify_style *st);
/* Splits n items (papers) of the given sizes into runs (messages) of at most max_items items
 * and max_total in sum, in order; an item alone is a run whatever its size. starts[r] is where
 * run r begins and starts[runs] is n, so starts needs room for n + 1. Returns the runs. */
size_t notify_pack(const size_t *sizes, size_t n, size_t max_items, size_t max_total,
		   size_t *starts);
/* Whether url may be a link target: http:// or https:// and nothing that ends a link early. */
bool notify_url_linkable(const char *url);

/* ---- JSON written as text: the bytes jansson's json_dumps(JSON_COMPACT) writes, members in
 * the order given, with no tree built ---- */

/* Appends the JSON string s; false, and nothing appended, when s is NULL or not UTF-8 (for
 * which jansson makes no string). */
bool notify_json_string(struct notify_text *t, const char *s);
/* Appends an object's member name: "," first unless *first says it is the object's first
 * member, which clears *first. */
void notify_json_key(struct notify_text *t, bool *first, const char *key);
/* Appends the member "key": s; nothing when s is NULL or not UTF-8, as jansson leaves such a
 * member out. */
void notify_json_member(struct notify_text *t, bool *first, const char *key, const char *s);
/* Appends the member "key": v as jansson dumps it; nothing when v is NULL. */
void notify_json_value(struct notify_text *t, bool *first, const char *key, const json_t *v);

/* The members of the JSON form of an alerted paper that webhooks and files carry, without the
 * braces (a channel may add its own after them): id, version, title, authors (null when the
 * digest names none, as `paperwatch parse` has it), abstract, snippet (the abstract's snippet
 * as plain text, null when there is none), date, url, rules; score and why for a like: rule. */
void notify_paper_json_members(struct notify_text *t, bool *first, const struct alert *a);
/* The same as a jansson object, read back from that text; the caller owns it. */
json_t *notify_paper_json(const struct alert *a);
/* A scheduled message's period as JSON: schedule, due, late, periods, total, shown and more (by
 * rule); the caller owns it. */
json_t *notify_period_json(const struct alert_batch *b);

#endif
