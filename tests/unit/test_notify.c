/*
 * test_notify.c — what the channels share: text escaped and highlighted by a channel's rules,
 * cut to a limit without breaking a character, an escape or a highlight; author lists and rules
 * shortened without losing what matched; an abstract's snippet; splitting into messages;
 * scrubbing secrets.
 */
#include "unit.h"

#include "alerts.h"
#include "utf8.h"

/* Brackets as highlight markers, so balance is easy to check. */
static const struct notify_style brackets = {"[", "]", notify_escape_markup};
static const struct notify_style plain = {"", "", NULL};

/* The bytes of word's first occurrence in s. */
static struct notify_span span_of(const char *s, const char *word)
{
	size_t at = (size_t)(strstr(s, word) - s);

	return (struct notify_span){at, at + strlen(word)};
}

/* s marked up with the given spans (pairs of byte offsets) and limit; the caller frees. */
static char *mark(const char *s, const struct notify_span *sp, size_t n, size_t max, size_t *chars)
{
	struct notify_text t = {0};
	size_t c = notify_mark(&t, s, strlen(s), sp, n, &brackets, max);

	if (chars != NULL)
		*chars = c;
	return t.s ? t.s : xstrdup("");
}

static void highlights_cover_hits_in_multibyte_text(void **state)
{
	const char *s = "Über große Sprachmodelle";
	struct notify_span sp = span_of(s, "große");
	char *out = mark(s, &sp, 1, 1000, NULL);

	(void)state;
	assert_string_equal(out, "Über [große] Sprachmodelle");
	free(out);
}

static void escapes_apply_inside_and_outside_highlights(void **state)
{
	struct notify_span sp = {2, 6};
	char *out = mark("a&b <c>", &sp, 1, 1000, NULL);

	(void)state;
	assert_string_equal(out, "a&amp;[b &lt;c]&gt;");
	free(out);
}

/* Every '&' in s starts a whole escape. */
static bool escapes_whole(const char *s)
{
	for (const char *p = strchr(s, '&'); p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p, "&amp;", 5) != 0 && strncmp(p, "&lt;", 4) != 0 &&
		    strncmp(p, "&gt;", 4) != 0)
			return false;
	}
	return true;
}

static void cutting_never_splits_a_character_an_escape_or_a_highlight(void **state)
{
	const char *s = "Zoë & <Ångström> 李小龙 über 😀 end";
	struct notify_span sp[] = {span_of(s, "<Ångström>"), span_of(s, "小龙"), span_of(s, "😀")};
	size_t full;
	char *all = mark(s, sp, 3, 10000, &full);

	(void)state;
	for (size_t max = 0; max <= full + 1; max++) {
		size_t chars, open = 0, close = 0;
		char *out = mark(s, sp, 3, max, &chars);

		assert_int_equal(utf8_valid_prefix(out, strlen(out)), strlen(out));
		assert_true(chars <= max);
		assert_int_equal(chars, notify_chars(out, strlen(out)));
		assert_true(escapes_whole(out));
		for (const char *p = out; *p; p++) {
			open += *p == '[';
			close += *p == ']';
			assert_true(close <= open && open <= close + 1);
		}
		assert_int_equal(open, close);
		if (max < full && max > 0)
			assert_non_null(strstr(out, "…"));
		if (max >= full)
			assert_string_equal(out, all);
		free(out);
	}
	free(all);
}

static void control_characters_become_spaces_and_bad_bytes_become_replacements(void **state)
{
	struct notify_text t = {0};

	(void)state;
	notify_plain(&t,
		     "a\nb\tc\x01"
		     "d\xff"
		     "e\r",
		     &plain, 100);
	assert_string_equal(t.s, "a b c d\xef\xbf\xbd"
				 "e ");
	free(t.s);
}

static void touching_and_overlapping_hits_merge_into_one_highlight(void **state)
{
	static const struct match_hit hits[] = {{.field = MATCH_TITLE, .start = 3, .end = 5},
						{.field = MATCH_TITLE, .start = 0, .end = 3},
						{.field = MATCH_TITLE, .start = 2, .end = 4},
						{.field = MATCH_ABSTRACT, .start = 5, .end = 7},
						{.field = MATCH_TITLE, .start = 9, .end = 99}};
	const struct paper p = {.title = "abcdefghij"};
	const struct alert a = {.paper = &p, .hits = hits, .n_hits = 5};
	struct notify_text t = {0};

	(void)state;
	notify_title(&t, &a, &brackets, 100);
	assert_string_equal(t.s, "[abcde]fghi[j]");
	free(t.s);
}

static void a_title_longer_than_its_limit_is_cut_with_an_ellipsis(void **state)
{
	struct fake f;
	struct notify_text t = {0};
	size_t chars;

	(void)state;
	fake_batch(&f, 1, "d.md");
	fake_enormous(&f, 0);
	chars = notify_title(&t, &f.alerts[0], &brackets, 256);
	assert_true(chars <= 256 && notify_chars(t.s, t.len) == chars);
	assert_string_equal(t.s + t.len - strlen("…"), "…");
	free(t.s);
	fake_free(&f);
}

static void a_huge_author_list_is_shortened_but_keeps_the_matched_author(void **state)
{
	struct fake f;
	struct notify_text t = {0};
	size_t chars;

	(void)state;
	fake_batch(&f, 1, "d.md");
	fake_enormous(&f, 0);
	chars = notify_authors(&t, &f.alerts[0], &brackets, 700);
	assert_true(chars <= 700 && notify_chars(t.s, t.len) == chars);
	assert_true(strncmp(t.s, "Author Number0, Author Number1, ", 32) == 0);
	assert_non_null(strstr(t.s, "Author Number9, …, Author [Number1500]"));
	/* Ten first names and the matched one shown: the other 1,989 counted. */
	assert_non_null(strstr(t.s, " and 1989 more"));
	free(t.s);
	fake_free(&f);
}

static void authors_in_a_tight_budget_count_everyone_left_out(void **state)
{
	struct fake f;
	struct notify_text t = {0};
	size_t chars, shown = 1, more = 0;
	const char *tail;
	char *end;

	(void)state;
	fake_batch(&f, 1, "d.md");
	fake_enormous(&f, 0);
	chars = notify_authors(&t, &f.alerts[0], &brackets, 100);
	assert_true(chars <= 100);
	for (const char *p = t.s; (p = strstr(p, ", ")) != NULL; p += 2)
		shown++;
	tail = strstr(t.s, " and ");
	assert_non_null(tail);
	more = (size_t)strtoul(tail + 5, &end, 10);
	assert_true(end > tail + 5);
	assert_int_equal(strncmp(end, " more", 5), 0);
	assert_int_equal(shown + more, 2000);
	free(t.s);
	fake_free(&f);
}

/* The snippet of paper 0 of f within max characters; the caller frees. */
static char *snippet(struct fake *f, size_t max, size_t *chars)
{
	struct notify_text t = {0};
	size_t c = notify_snippet(&t, &f->alerts[0], &brackets, max);

	if (chars != NULL)
		*chars = c;
	return t.s ? t.s : xstrdup("");
}

static void a_snippet_shows_the_first_abstract_hit_cut_between_words(void **state)
{
	struct fake f;
	size_t chars;
	char *s;

	(void)state;
	fake_batch(&f, 1, "d.md");
	s = snippet(&f, 60, &chars);
	assert_true(chars <= 60);
	assert_string_equal(s, "…when they act as [agents] in the wild, and what goes wrong…");
	free(s);
	/* Room for all of it from the sentence's start: the sentence whole, no "…" on either side.
	 */
	s = snippet(&f, 280, NULL);
	assert_string_equal(s, "We study how large language models use tools when they act as "
			       "[agents] in the wild, and what goes wrong when they do.");
	free(s);
	fake_free(&f);
}

static void a_hit_late_in_a_long_abstract_shows_its_sentence_not_the_start(void **state)
{
	struct fake f;
	struct match_hit hit;
	char *s;

	(void)state;
	fake_batch(&f, 1, "d.md");
	f.papers[0].abstract =
		"Planning has been studied for decades in robotics and operations research, with "
		"search methods that scale poorly and heuristics written by hand for every domain. "
		"We show that language agents learn such heuristics themselves. They transfer.";
	hit = fake_hit(MATCH_ABSTRACT, 0, f.papers[0].abstract, "agents");
	f.alerts[0].hits = &hit;
	f.alerts[0].n_hits = 1;
	s = snippet(&f, 280, NULL);
	assert_string_equal(s, "We show that language [agents] learn such heuristics themselves. "
			       "They transfer.");
	free(s);
	/* Its sentence starts too far back for a small snippet: from a word, "…" before it. */
	s = snippet(&f, 40, NULL);
	assert_string_equal(s, "…language [agents] learn such…");
	free(s);
	fake_free(&f);
}

static void a_snippet_without_an_abstract_hit_is_the_first_sentence_or_two(void **state)
{
	struct fake f;
	char *s;

	(void)state;
	fake_batch(&f, 1, "d.md");
	f.alerts[0].n_hits = 2; /* title and author hits only */
	f.papers[0].abstract = "Sparse attention cuts the cost of long contexts. We review forty "
			       "methods, e.g. the ones in use. The results show that no method "
			       "wins everywhere.";
	s = snippet(&f, 280, NULL);
	assert_string_equal(s, "Sparse attention cuts the cost of long contexts. We review forty "
			       "methods, e.g. the ones in use.");
	free(s);
	s = snippet(&f, 60, NULL);
	assert_string_equal(s, "Sparse attention cuts the cost of long contexts.");
	free(s);
	s = snippet(&f, 30, NULL);
	assert_string_equal(s, "Sparse attention cuts the…");
	free(s);
	/* A digest's "a) ... b) ..." points are sentences too. */
	f.papers[0].abstract = "a) We ask a question. b) We answer it. c) We are done.";
	s = snippet(&f, 280, NULL);
	assert_string_equal(s, "a) We ask a question. b) We answer it.");
	free(s);
	fake_free(&f);
}

/* The snippet, within max characters, of a paper with abstract abs and these hits in it. */
static char *abstract_snippet(const char *abs, struct match_hit *hits, size_t n_hits, size_t max)
{
	struct fake f;
	char *s;

	fake_batch(&f, 1, "d.md");
	f.papers[0].abstract = abs;
	f.alerts[0].hits = hits;
	f.alerts[0].n_hits = n_hits;
	s = snippet(&f, max, NULL);
	fake_free(&f);
	return s;
}

static void a_snippet_joins_runs_of_white_space_and_keeps_its_highlight(void **state)
{
	const char *abs = "Line one\n\n  of  text.\tMore\r\nhere.  ";
	struct match_hit hit = fake_hit(MATCH_ABSTRACT, 0, abs, "text");
	char *s;

	(void)state;
	s = abstract_snippet(abs, &hit, 1, 280);
	assert_string_equal(s, "Line one of [text]. More here.");
	free(s);
}

/* Every highlight moves with the text when white space before, between and after them goes. */
static void a_snippet_moves_every_highlight_past_the_white_space_it_drops(void **state)
{
	const char *abs = "\n  Speech  and\n\nrobot\t arms  for   speech";
	struct match_hit hits[4] = {fake_hit(MATCH_ABSTRACT, 0, abs, "arms"),
				    fake_hit(MATCH_ABSTRACT, 0, abs, "Speech"),
				    fake_hit(MATCH_ABSTRACT, 0, abs, "robot"),
				    fake_hit(MATCH_ABSTRACT, 0, abs, "speech")};
	char *s;

	(void)state;
	s = abstract_snippet(abs, hits, 4, 280);
	assert_string_equal(s, "[Speech] and [robot] [arms] for [speech]");
	free(s);
}

/* Abstracts of words and runs of every kind of white space, some words hits: the snippet of
 * each is its words one space apart, every hit in brackets, wherever the runs fall among the
 * sixteen-byte blocks squeezing copies at once. */
static void a_snippet_of_any_white_space_is_its_words_one_space_apart(void **state)
{
	static const char *const words[] = {"a", "bc", "def", "ghij", "klmnopq", "rstuvwxyzab"};
	static const char *const gaps[] = {" ", " ", " ", "  ", "\n", "\t", " \r\n ", "\f\v"};
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		char abs[600], want[900];
		struct match_hit hits[64];
		size_t n = 0, wn = 0, nh = 0;
		char *got;

		seed = seed * 1103515245u + 12345u;
		if (seed >> 31)
			n += (size_t)sprintf(abs + n, "%s", gaps[(seed >> 16) % 8]);
		for (int w = 0; w < 60; w++) {
			bool hit = w == 0 || (seed >> 20) % 7 == 0;
			const char *word = hit ? "hit" : words[(seed >> 16) % 6];

			if (hit)
				hits[nh++] = (struct match_hit){.field = MATCH_ABSTRACT,
								.start = n,
								.end = n + strlen(word)};
			wn += (size_t)sprintf(want + wn, "%s%s%s%s", w ? " " : "", hit ? "[" : "",
					      word, hit ? "]" : "");
			n += (size_t)sprintf(abs + n, "%s", word);
			seed = seed * 1103515245u + 12345u;
			if (w < 59 || (seed >> 30) != 0)
				n += (size_t)sprintf(abs + n, "%s", gaps[(seed >> 16) % 8]);
		}
		got = abstract_snippet(abs, hits, nh, 10000);
		assert_string_equal(got, want);
		free(got);
	}
}

static void a_snippet_is_whole_characters_and_escapes_within_every_limit(void **state)
{
	struct fake f;
	struct match_hit hits[2];
	const char *abs = "Zoë & <Ångström> met 李小龙 über 😀 the agents. Then all went well "
			  "for them & us, or so 李 says.";
	size_t full;
	char *all;

	(void)state;
	fake_batch(&f, 1, "d.md");
	f.papers[0].abstract = abs;
	hits[0] = fake_hit(MATCH_ABSTRACT, 0, abs, "小龙");
	hits[1] = fake_hit(MATCH_ABSTRACT, 0, abs, "agents");
	f.alerts[0].hits = hits;
	f.alerts[0].n_hits = 2;
	all = snippet(&f, 10000, &full);
	for (size_t max = 0; max <= full + 1; max++) {
		size_t chars, open = 0, close = 0;
		char *out = snippet(&f, max, &chars);

		assert_int_equal(utf8_valid_prefix(out, strlen(out)), strlen(out));
		assert_true(chars <= max);
		assert_int_equal(chars, notify_chars(out, strlen(out)));
		assert_true(escapes_whole(out));
		for (const char *p = out; *p; p++) {
			open += *p == '[';
			close += *p == ']';
		}
		assert_int_equal(open, close);
		if (max >= full)
			assert_string_equal(out, all);
		free(out);
	}
	free(all);
	fake_free(&f);
}

static void a_paper_without_an_abstract_has_no_snippet(void **state)
{
	static const char *const none[] = {NULL, "", "  \n\t "};
	struct fake f;

	(void)state;
	fake_batch(&f, 1, "d.md");
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		struct notify_text t = {0};

		f.papers[0].abstract = none[i];
		f.alerts[0].n_hits = 2;
		assert_int_equal(notify_snippet(&t, &f.alerts[0], &brackets, 280), 0);
		assert_null(t.s);
	}
	fake_free(&f);
}

static void the_json_form_carries_a_plain_snippet_beside_the_whole_abstract(void **state)
{
	struct fake f;
	json_t *o;

	(void)state;
	fake_batch(&f, 1, "d.md");
	o = notify_paper_json(&f.alerts[0]);
	assert_string_equal(json_string_value(json_object_get(o, "snippet")),
			    "We study how large language models use tools when they act as agents "
			    "in the wild, and what goes wrong when they do.");
	assert_string_equal(json_string_value(json_object_get(o, "abstract")),
			    f.papers[0].abstract);
	json_decref(o);
	f.papers[0].abstract = NULL;
	o = notify_paper_json(&f.alerts[0]);
	assert_true(json_is_null(json_object_get(o, "snippet")));
	assert_true(json_is_null(json_object_get(o, "abstract")));
	json_decref(o);
	fake_free(&f);
}

static void rules_are_listed_escaped_and_cut(void **state)
{
	static const char *const rules[] = {"a&b", "second"};
	const struct paper p = {.title = "t"};
	const struct alert a = {.paper = &p, .rules = rules, .n_rules = 2};
	struct notify_text t = {0};

	(void)state;
	notify_rules(&t, &a, &brackets, 100);
	assert_string_equal(t.s, "a&amp;b, second");
	t.len = 0;
	notify_rules(&t, &a, &brackets, 9);
	assert_string_equal(t.s, "a&amp;b,…");
	free(t.s);
}

static void a_heading_counts_the_papers_and_names_the_part(void **state)
{
	struct fake f;
	struct notify_text t = {0};

	(void)state;
	fake_batch(&f, 300, "<digest>.md");
	notify_heading(&t, &f.b, 49, 98, 1, 7, &brackets);
	assert_string_equal(t.s, "[300 new papers] for 2024-10-21, part 2 of 7 (papers 50–98)");
	t.len = 0;
	f.b.n_alerts = 1;
	notify_heading(&t, &f.b, 0, 1, 0, 1, &brackets);
	assert_string_equal(t.s, "[1 new paper] for 2024-10-21");
	free(t.s);
	fake_free(&f);
}

static void a_heading_names_the_papers_dates_and_the_details_name_the_file(void **state)
{
	struct fake f;
	struct notify_text t = {0};

	(void)state;
	fake_batch(&f, 4, "<digest>.md");
	assert_int_equal(notify_source(&t, &f.b, &brackets), strlen("from &lt;digest&gt;.md"));
	assert_string_equal(t.s, "from &lt;digest&gt;.md");
	/* Papers of several days: the first and the last; a paper without a date, or with one
	 * that is no YYYY-MM-DD, does not count. */
	f.papers[0].date = "2024-10-23";
	f.papers[1].date = NULL;
	f.papers[2].date = "2024-10-01";
	f.papers[3].date = "21st October";
	t.len = 0;
	notify_heading(&t, &f.b, 0, 4, 0, 1, &brackets);
	assert_string_equal(t.s, "[4 new papers] for 2024-10-01 to 2024-10-23");
	free(t.s);
	fake_free(&f);
}

static void a_heading_without_a_date_names_the_file_and_no_details_repeat_it(void **state)
{
	struct fake f;
	struct notify_text t = {0};

	(void)state;
	fake_batch(&f, 2, "<digest>.md");
	f.papers[0].date = NULL;
	f.papers[1].date = "";
	notify_heading(&t, &f.b, 0, 2, 0, 1, &brackets);
	assert_string_equal(t.s, "[2 new papers] in &lt;digest&gt;.md");
	t.len = 0;
	assert_int_equal(notify_source(&t, &f.b, &brackets), 0);
	assert_true(t.len == 0);
	free(t.s);
	fake_free(&f);
}

static void the_json_form_gives_null_authors_when_the_digest_names_none(void **state)
{
	struct fake f;
	json_t *o;

	(void)state;
	fake_batch(&f, 1, "d.md");
	o = notify_paper_json(&f.alerts[0]);
	assert_int_equal(json_array_size(json_object_get(o, "authors")), 3);
	json_decref(o);
	f.papers[0].authors = NULL;
	f.papers[0].n_authors = 0;
	o = notify_paper_json(&f.alerts[0]);
	assert_true(json_is_null(json_object_get(o, "authors")));
	json_decref(o);
	fake_free(&f);
}

static void characters_beyond_the_bmp_count_twice(void **state)
{
	(void)state;
	assert_int_equal(notify_chars("a😀é", strlen("a😀é")), 4);
	assert_int_equal(notify_chars("", 0), 0);
}

static void packing_keeps_order_respects_both_limits_and_drops_nothing(void **state)
{
	const size_t sizes[] = {5, 5, 5, 20, 1, 1, 1, 1, 1, 9};
	size_t starts[11];
	size_t runs = notify_pack(sizes, 10, 3, 12, starts);

	(void)state;
	/* {5,5} {5} {20, alone though too big} {1,1,1} {1,1,9}: each within 3 items and 12. */
	assert_int_equal(runs, 5);
	assert_int_equal(starts[0], 0);
	assert_int_equal(starts[1], 2);
	assert_int_equal(starts[2], 3);
	assert_int_equal(starts[3], 4);
	assert_int_equal(starts[4], 7);
	assert_int_equal(starts[5], 10);
	assert_int_equal(notify_pack(sizes, 0, 3, 12, starts), 0);
}

static void only_plain_web_urls_become_links(void **state)
{
	(void)state;
	assert_true(notify_url_linkable("https://arxiv.org/abs/2410.07176"));
	assert_true(notify_url_linkable("http://example.org/a?b=c&d=e"));
	assert_false(notify_url_linkable("javascript:alert(1)"));
	assert_false(notify_url_linkable("https://example.org/a b"));
	assert_false(notify_url_linkable("https://example.org/a|b"));
	assert_false(notify_url_linkable("https://example.org/a>b"));
	assert_false(notify_url_linkable("https://example.org/\"onclick"));
}

static void scrubbing_hides_a_url_its_token_and_a_password(void **state)
{
	char detail[256];

	(void)state;
	snprintf(detail, sizeof(detail), "%s",
		 "at https://hooks.slack.com/services/T0/B0/SECRETTOKEN1 or /T0/B0/SECRETTOKEN1, "
		 "SECRETTOKEN1 alone, pw hunter2hunter2");
	notify_scrub(detail, "https://hooks.slack.com/services/T0/B0/SECRETTOKEN1");
	notify_scrub(detail, "hunter2hunter2");
	notify_scrub(detail, NULL);
	assert_null(strstr(detail, "SECRETTOKEN1"));
	assert_null(strstr(detail, "hunter2"));
	assert_non_null(strstr(detail, "alone, pw …"));
}

static void redacted_urls_keep_the_host_and_hide_the_token(void **state)
{
	char out[128];

	(void)state;
	notify_redact_url("https://discord.com/api/webhooks/123/SECRETTOKEN", out, sizeof(out));
	assert_string_equal(out, "https://discord.com/api/…");
	notify_redact_url("smtps://user:pw@mail.example.org:465", out, sizeof(out));
	assert_string_equal(out, "smtps://mail.example.org:465");
}

static void webhook_signature_matches_the_standard_webhooks_test_vector(void **state)
{
	/* The specification's own example: secret, message id, timestamp, body, signature. */
	static const char body[] = "{\"test\": 2432232314}";
	unsigned char key[64];
	size_t len = 0;
	char sig[128];

	(void)state;
	assert_int_equal(notify_webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &len),
			 0);
	assert_int_equal(len, 24);
	notify_webhook_sign(key, len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
			    sizeof(body) - 1, sig, sizeof(sig));
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void webhook_secrets_of_the_wrong_form_are_refused(void **state)
{
	unsigned char key[64];
	size_t len;

	(void)state;
	assert_int_equal(notify_webhook_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &len), -1);
	assert_int_equal(notify_webhook_key("whsec_", key, &len), -1);
	assert_int_equal(notify_webhook_key("whsec_not base64!!", key, &len), -1);
	assert_int_equal(notify_webhook_key("whsec_c2hvcnQ=", key, &len), -1); /* 5 bytes */
}

/* The JSON form as a jansson tree, built member by member as it was before the channels wrote
 * it as text: what the text must match byte for byte. */
static json_t *tree_of(const struct alert *a)
{
	const struct paper *p = a->paper;
	json_t *o = json_object(), *authors = json_null(), *rules = json_array(), *snip;
	struct notify_text text = {0};

	if (p->authors != NULL) {
		authors = json_array();
		for (size_t i = 0; i < p->n_authors; i++)
			json_array_append_new(authors, json_string(p->authors[i]));
	}
	for (size_t i = 0; i < a->n_rules; i++)
		json_array_append_new(rules, json_string(a->rules[i]));
	notify_snippet(&text, a, &plain, NOTIFY_SNIPPET_MAX);
	snip = text.s ? json_string(text.s) : json_null();
	json_object_set_new(o, "id", p->id ? json_string(p->id) : json_null());
	json_object_set_new(o, "version", p->version ? json_string(p->version) : json_null());
	json_object_set_new(o, "title", json_string(p->title));
	json_object_set_new(o, "authors", authors);
	json_object_set_new(o, "abstract", p->abstract ? json_string(p->abstract) : json_null());
	json_object_set_new(o, "snippet", snip);
	json_object_set_new(o, "date", p->date ? json_string(p->date) : json_null());
	json_object_set_new(o, "url", p->url ? json_string(p->url) : json_null());
	json_object_set_new(o, "rules", rules);
	if (a->why != NULL) {
		json_object_set_new(o, "score", json_real(a->score));
		json_object_set_new(o, "why", json_string(a->why));
	}
	free(text.s);
	return o;
}

static void the_json_text_is_what_jansson_writes_byte_for_byte(void **state)
{
	static const char *const rules[] = {"agents", "bad \xff rule", "q\"uote\\d"};
	static const char *authors[] = {"Ada \"the\" Lovelace", "B\xc3\xa9la \x01\x1f",
					"\xf0\x9f\x98\x80 tab\there"};
	struct fake f;

	(void)state;
	fake_batch(&f, 3, "d.md");
	f.papers[0].title = "Back\\slash, \"quotes\", a/b, \b\f\n\r\t and \x7f \xe5\xb0\x8f";
	f.papers[0].authors = authors;
	f.papers[0].n_authors = 3;
	f.alerts[0].rules = rules;
	f.alerts[0].n_rules = 3;
	f.papers[1].version = NULL;
	f.papers[1].date = "2024-\xc0-21"; /* not UTF-8: jansson leaves the member out */
	f.alerts[1].why = "like:mine 0.42";
	f.alerts[1].score = 0.1;
	f.papers[2].abstract = NULL;
	f.papers[2].authors = NULL;
	for (size_t i = 0; i < f.n; i++) {
		struct notify_text t = {0};
		json_t *o = tree_of(&f.alerts[i]);
		char *want = json_dumps(o, JSON_COMPACT);
		bool first = true;

		notify_text_add(&t, "{", 1);
		notify_paper_json_members(&t, &first, &f.alerts[i]);
		notify_text_add(&t, "}", 1);
		assert_string_equal(t.s, want);
		free(want);
		free(t.s);
		json_decref(o);
	}
	fake_free(&f);
}

/* Every byte that JSON escapes, at every place of a string long enough to be looked at sixteen
 * bytes at a time and not a whole number of times sixteen, comes out as jansson writes it. */
static void a_json_string_escapes_every_byte_wherever_it_is(void **state)
{
	(void)state;
	for (unsigned c = 0x01; c < 0x80; c++) {
		for (size_t at = 0; at < 37; at++) {
			char s[38];
			struct notify_text t = {0};
			json_t *j;
			char *want;

			memset(s, 'a', sizeof(s) - 1);
			s[sizeof(s) - 1] = '\0';
			s[at] = (char)c;
			j = json_string(s);
			want = json_dumps(j, JSON_ENCODE_ANY);
			assert_true(notify_json_string(&t, s));
			assert_string_equal(t.s, want);
			free(want);
			free(t.s);
			json_decref(j);
		}
	}
}

/* An escape that keeps every character: the style takes the general way, character by
 * character, where a style without markup takes the short one. */
static const char *keep_all(unsigned char c)
{
	(void)c;
	return NULL;
}

static void text_without_markup_comes_out_as_the_general_way_has_it(void **state)
{
	static const struct notify_style general = {"", "", keep_all};
	/* Long enough for the fast path, with all the slow path is for on the way. */
	static const char mixed[] =
		"plain words, then sixteen more\tand a tab, caf\xc3\xa9 \xf0\x9f\x98\x80 and more "
		"words "
		"after them\x01";
	static const char *const texts[] = {
		"",
		"plain words only",
		"a\tb\nc\x01\x7f d",
		"caf\xc3\xa9 \xe5\xb0\x8f\xe9\xbe\x99",
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80 x",
		"bad \xff byte \xe5\xb0 cut",
		"\xc3",
		mixed,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (size_t max = 0; max < 90; max++) {
			struct notify_text a = {0}, b = {0};
			size_t ca = notify_plain(&a, texts[i], &plain, max);
			size_t cb = notify_plain(&b, texts[i], &general, max);

			assert_int_equal(ca, cb);
			assert_int_equal(a.len, b.len);
			if (a.len > 0)
				assert_memory_equal(a.s, b.s, a.len);
			free(a.s);
			free(b.s);
		}
	}
}

static void webhooks_and_files_carry_a_notice_as_json_of_its_own_type(void **state)
{
	struct config *cfg = fake_config(
		"{ name = \"hook\"; type = \"webhook\"; url = \"https://example.org/h\"; },"
		"{ name = \"log\"; type = \"file\"; path = \"-\"; }");
	struct notice nt = fake_notice(true);
	struct message_list hook = {0}, file = {0};
	struct err err;
	json_t *o;

	(void)state;
	assert_int_equal(cfg->notifiers[0].ops->format_notice(&cfg->notifiers[0], &nt, &hook, &err),
			 0);
	assert_int_equal(cfg->notifiers[1].ops->format_notice(&cfg->notifiers[1], &nt, &file, &err),
			 0);
	assert_int_equal(hook.n, 1);
	assert_string_equal(hook.v[0].key, "health_0123-0");
	o = json_loadb(hook.v[0].body, hook.v[0].len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "health");
	assert_string_equal(json_string_value(json_object_get(o, "condition")), "quiet");
	assert_string_equal(json_string_value(json_object_get(o, "subject")), "hf-*.md");
	assert_string_equal(json_string_value(json_object_get(o, "state")), "cleared");
	assert_string_equal(json_string_value(json_object_get(o, "title")), nt.title);
	assert_string_equal(json_string_value(json_object_get(o, "detail")), nt.detail);
	assert_string_equal(json_string_value(json_object_get(o, "at")), "2024-10-21T08:40:00Z");
	assert_null(json_object_get(o, "papers"));
	json_decref(o);
	/* The file's line is the same object with the message's key, and ends the line. */
	assert_int_equal(file.n, 1);
	assert_int_equal(file.v[0].body[file.v[0].len - 1], '\n');
	assert_null(memchr(file.v[0].body, '\n', file.v[0].len - 1));
	o = json_loadb(file.v[0].body, file.v[0].len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "message")), "health_0123-0");
	assert_string_equal(json_string_value(json_object_get(o, "type")), "health");
	json_decref(o);
	message_list_free(&hook);
	message_list_free(&file);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(webhook_signature_matches_the_standard_webhooks_test_vector),
		cmocka_unit_test(webhooks_and_files_carry_a_notice_as_json_of_its_own_type),
		cmocka_unit_test(the_json_text_is_what_jansson_writes_byte_for_byte),
		cmocka_unit_test(a_json_string_escapes_every_byte_wherever_it_is),
		cmocka_unit_test(text_without_markup_comes_out_as_the_general_way_has_it),
		cmocka_unit_test(webhook_secrets_of_the_wrong_form_are_refused),
		cmocka_unit_test(highlights_cover_hits_in_multibyte_text),
		cmocka_unit_test(escapes_apply_inside_and_outside_highlights),
		cmocka_unit_test(cutting_never_splits_a_character_an_escape_or_a_highlight),
		cmocka_unit_test(
			control_characters_become_spaces_and_bad_bytes_become_replacements),
		cmocka_unit_test(touching_and_overlapping_hits_merge_into_one_highlight),
		cmocka_unit_test(a_title_longer_than_its_limit_is_cut_with_an_ellipsis),
		cmocka_unit_test(a_huge_author_list_is_shortened_but_keeps_the_matched_author),
		cmocka_unit_test(authors_in_a_tight_budget_count_everyone_left_out),
		cmocka_unit_test(a_snippet_shows_the_first_abstract_hit_cut_between_words),
		cmocka_unit_test(a_hit_late_in_a_long_abstract_shows_its_sentence_not_the_start),
		cmocka_unit_test(a_snippet_without_an_abstract_hit_is_the_first_sentence_or_two),
		cmocka_unit_test(a_snippet_joins_runs_of_white_space_and_keeps_its_highlight),
		cmocka_unit_test(a_snippet_moves_every_highlight_past_the_white_space_it_drops),
		cmocka_unit_test(a_snippet_of_any_white_space_is_its_words_one_space_apart),
		cmocka_unit_test(a_snippet_is_whole_characters_and_escapes_within_every_limit),
		cmocka_unit_test(a_paper_without_an_abstract_has_no_snippet),
		cmocka_unit_test(the_json_form_carries_a_plain_snippet_beside_the_whole_abstract),
		cmocka_unit_test(rules_are_listed_escaped_and_cut),
		cmocka_unit_test(a_heading_counts_the_papers_and_names_the_part),
		cmocka_unit_test(a_heading_names_the_papers_dates_and_the_details_name_the_file),
		cmocka_unit_test(a_heading_without_a_date_names_the_file_and_no_details_repeat_it),
		cmocka_unit_test(the_json_form_gives_null_authors_when_the_digest_names_none),
		cmocka_unit_test(characters_beyond_the_bmp_count_twice),
		cmocka_unit_test(packing_keeps_order_respects_both_limits_and_drops_nothing),
		cmocka_unit_test(only_plain_web_urls_become_links),
		cmocka_unit_test(scrubbing_hides_a_url_its_token_and_a_password),
		cmocka_unit_test(redacted_urls_keep_the_host_and_hide_the_token),
	};

	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
