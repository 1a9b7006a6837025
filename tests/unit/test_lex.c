/*
 * test_lex.c — the scanning pieces: cells, links, arXiv ids, dates, cleaned text, author lists.
 */
#include "unit.h"

#include <ctype.h>

#include "arena.h"
#include "parse/lex.h"

/* A writable span over a copy of s (lex_text writes into its text). */
static struct span span_of(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s);
	return (struct span){buf, strlen(buf)};
}

static void cells_split_at_unescaped_bars_only(void **state)
{
	char buf[128];
	struct span c[8];
	struct span row = span_of(buf, sizeof(buf), "| a | b \\| c | d\\\\|e |");

	(void)state;
	assert_int_equal(lex_cells(row, c, 8), 4);
	assert_int_equal(c[1].n, strlen(" b \\| c "));
	assert_memory_equal(c[1].s, " b \\| c ", c[1].n);
	/* An escaped backslash does not escape the bar after it. */
	assert_memory_equal(c[2].s, " d\\\\", c[2].n);
	assert_memory_equal(c[3].s, "e ", c[3].n);
}

static void cells_without_outer_bars_are_counted(void **state)
{
	char buf[64];
	struct span c[8];

	(void)state;
	assert_int_equal(lex_cells(span_of(buf, sizeof(buf), "a | b | c"), c, 8), 3);
	assert_int_equal(lex_cells(span_of(buf, sizeof(buf), "|a|b|c|d|e|f|g|h|i|j|"), c, 8), 10);
}

static void separator_rows_are_recognised(void **state)
{
	char buf[64];
	struct span c[8];
	size_t n;

	(void)state;
	n = lex_cells(span_of(buf, sizeof(buf), "| :---: | --- |---:|"), c, 8);
	assert_true(lex_separator_row(c, n));
	n = lex_cells(span_of(buf, sizeof(buf), "| 2024 | --- |"), c, 8);
	assert_false(lex_separator_row(c, n));
}

static void link_text_url_and_what_precedes(void **state)
{
	char buf[256];
	struct span before, text, url;

	(void)state;
	assert_true(
		lex_link(span_of(buf, sizeof(buf),
				 "Title (Read more on [arXiv](https://arxiv.org/abs/2410.13232) or "
				 "[HF](https://hf.co/x))"),
			 &before, &text, &url));
	assert_memory_equal(before.s, "Title (Read more on ", before.n);
	assert_memory_equal(text.s, "arXiv", text.n);
	assert_int_equal(url.n, strlen("https://arxiv.org/abs/2410.13232"));
	assert_memory_equal(url.s, "https://arxiv.org/abs/2410.13232", url.n);
	/* Nested brackets in the text, parentheses and a title in the destination. */
	assert_true(lex_link(span_of(buf, sizeof(buf), "[A [b] c](http://x/(y) \"t\")"), &before,
			     &text, &url));
	assert_memory_equal(text.s, "A [b] c", text.n);
	assert_memory_equal(url.s, "http://x/(y)", url.n);
	/* A title after a long address, and a tab; a control byte is not a blank. */
	assert_true(lex_link(
		span_of(buf, sizeof(buf), "[T](https://arxiv.org/abs/2410.13232v2\t\"t\")"),
		&before, &text, &url));
	assert_int_equal(url.n, strlen("https://arxiv.org/abs/2410.13232v2"));
	assert_true(lex_link(span_of(buf, sizeof(buf), "[T](https://example.org/a\x01b/c/d/e/f)"),
			     &before, &text, &url));
	assert_int_equal(url.n, strlen("https://example.org/a\x01b/c/d/e/f"));
	assert_false(
		lex_link(span_of(buf, sizeof(buf), "no [link] here (x)"), &before, &text, &url));
}

static void arxiv_ids_from_urls_and_bare_text(void **state)
{
	static const struct {
		const char *in, *id, *version;
	} cases[] = {
		{"https://arxiv.org/abs/2410.07177v1", "2410.07177", "v1"},
		{"http://arxiv.org/abs/2410.07177", "2410.07177", ""},
		{"https://arxiv.org/pdf/2406.16845", "2406.16845", ""},
		{"https://arxiv.org/pdf/2406.16845v3.pdf", "2406.16845", "v3"},
		{"https://export.arxiv.org/abs/1501.00001", "1501.00001", ""},
		{"https://huggingface.co/papers/2410.13232", "2410.13232", ""},
		{"https://arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001", "v2"},
		{"https://arxiv.org/abs/math.GT/0309136", "math.GT/0309136", ""},
		{"2410.07177v12", "2410.07177", "v12"},
		{"arXiv:0704.0001", "0704.0001", ""},
		{"**arXiv:** 2501.00161", "2501.00161", ""},
		{"arXiv: 2501.00162v3", "2501.00162", "v3"},
		{"https://doi.org/10.48550/arXiv.2501.00121", "2501.00121", ""},
		{"doi.org/10.48550/ARXIV.2501.00122", "2501.00122", ""},
	};
	static const char *const refused[] = {
		"https://example.org/abs/2410.07177",
		"https://notarxiv.org/abs/2410.07177",
		"2410.071",
		"2413.07177",
		"2410.1234567",
		"null",
		"hep-th/990100",
		"https://doi.org/10.1000/arXiv.2501.00121",
		"arXiv 2501.00161",
	};
	char buf[128], id[ARXIV_ID_MAX], ver[ARXIV_VER_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(lex_arxiv_id(span_of(buf, sizeof(buf), cases[i].in), id, ver));
		assert_string_equal(id, cases[i].id);
		assert_string_equal(ver, cases[i].version);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (lex_arxiv_id(span_of(buf, sizeof(buf), refused[i]), id, ver))
			fail_msg("'%s' read as id '%s'", refused[i], id);
	}
}

static void dates_in_every_digest_style(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"2024-10-09", "2024-10-09"},        {"**2024-10-09**", "2024-10-09"},
		{"31st October 2024", "2024-10-31"}, {"1st October 2024", "2024-10-01"},
		{"22nd Oct 2024", "2024-10-22"},     {"October 3, 2024", "2024-10-03"},
		{"Sept. 3 2024", "2024-09-03"},      {"29 February 2024", "2024-02-29"},
		{" - 2024-02-29 ", "2024-02-29"},    {"**2024-1-9**", "2024-01-09"},
		{"2024/10/09", "2024-10-09"},
	};
	static const char *const refused[] = {"29 February 2023", "2024-13-01",    "31st Foo 2024",
					      "10/09/2024",       "2024",          "yesterday",
					      "32 May 2024",      "2023-02-29",    "**1899-12-31**",
					      "2024-10-09x",      "2024-10-09 10", "0000-00-00"};
	char buf[64], out[11];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(lex_date(span_of(buf, sizeof(buf), cases[i].in), out));
		assert_string_equal(out, cases[i].out);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (lex_date(span_of(buf, sizeof(buf), refused[i]), out))
			fail_msg("'%s' read as %s", refused[i], out);
	}
}

static void text_is_trimmed_joined_and_unescaped_in_place(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"  plain  ", "plain"},
		{"**Bold** title", "Bold title"},
		{"a \\| b \\* c \\_ d \\\\ e", "a | b * c _ d \\ e"},
		{"line one\nline two\r\n  line three", "line one line two line three"},
		{"para one.\n\npara two.", "para one. para two."},
		{"tab\there", "tab here"},
		{"a * b", "a * b"},
		{"trailing backslash \\", "trailing backslash \\"},
		{"\\n is not an escape", "\\n is not an escape"},
		{"** spaced **", "spaced"},
		{"caf\xc3\xa9 **\xe6\x91\x98**", "caf\xc3\xa9 \xe6\x91\x98"},
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(lex_text(span_of(buf, sizeof(buf), cases[i].in)), cases[i].out);
}

/* lex_text one byte at a time, as its comment says, writing each byte of the result in turn and
 * nothing else: what its fast paths must give and leave. */
static char *text_bytewise(char *s, size_t n)
{
	size_t i = 0, o = 0, from = 0;

	while (n > 0 && isspace((unsigned char)s[0]))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	while (i < n) {
		if ((unsigned char)s[i] < 0x20) {
			while (o > 0 && s[o - 1] == ' ')
				o--;
			while (i < n && (s[i] == ' ' || (unsigned char)s[i] < 0x20))
				i++;
			s[o++] = ' ';
		} else if (s[i] == '\\' && i + 1 < n && ispunct((unsigned char)s[i + 1])) {
			s[o++] = s[i + 1];
			i += 2;
		} else if (s[i] == '*' && i + 1 < n && s[i + 1] == '*') {
			i += 2;
		} else {
			s[o++] = s[i++];
		}
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	while (from < o && s[from] == ' ')
		from++;
	s[o] = '\0';
	return s + from;
}

static void text_of_wrapped_paragraphs_is_cleaned_as_byte_by_byte(void **state)
{
	/* Mostly words and line breaks, as a hard-wrapped abstract, with blanks around some
	 * breaks, blank lines, CRLF, tabs, escapes and bold markers here and there. */
	static const char pick[] = "abcdefghijklmnop abcdefghijklmnop\n\n \r\t**\\|.";
	static char fast[600], slow[600];
	unsigned seed = 11;

	(void)state;
	for (int round = 0; round < 6000; round++) {
		size_t n = 1 + (size_t)round % (sizeof(fast) - 1);

		/* Every other round without AVX2, as processors that have none read. */
		lex_allow_avx2(round % 2 == 0);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			fast[i] = (seed >> 16) % 4 == 0 ? pick[(seed >> 8) % (sizeof(pick) - 1)]
							: "wordy"[i % 5];
		}
		memcpy(slow, fast, n);
		assert_string_equal(lex_text((struct span){fast, n - 1}),
				    text_bytewise(slow, n - 1));
		/* Every byte alike, what follows the NUL too: the fallback reads the text of a
		 * record that names no paper after the format has cleaned it. */
		assert_memory_equal(fast, slow, n);
	}
	lex_allow_avx2(true);
}

static void author_lists_split_and_flag_et_al(void **state)
{
	struct arena a;
	char buf[256];
	const char **names;
	size_t n;
	bool trunc;

	(void)state;
	arena_init(&a);
	names = lex_authors(
		&a, span_of(buf, sizeof(buf), "Ada Lovelace, Charles Babbage and Alan Turing"), &n,
		&trunc);
	assert_int_equal(n, 3);
	assert_string_equal(names[2], "Alan Turing");
	assert_false(trunc);
	names = lex_authors(&a, span_of(buf, sizeof(buf), "Hanrong Ye et.al."), &n, &trunc);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "Hanrong Ye");
	assert_true(trunc);
	names = lex_authors(&a, span_of(buf, sizeof(buf), "A. B, C. D, et al."), &n, &trunc);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "C. D");
	assert_true(trunc);
	/* Every marker, in any case. */
	names = lex_authors(&a, span_of(buf, sizeof(buf), "A, B and others"), &n, &trunc);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "B");
	assert_true(trunc);
	names = lex_authors(&a, span_of(buf, sizeof(buf), "A, B\xe2\x80\xa6"), &n, &trunc);
	assert_string_equal(names[1], "B");
	assert_true(trunc);
	names = lex_authors(&a, span_of(buf, sizeof(buf), "Ada Lovelace ET AL"), &n, &trunc);
	assert_string_equal(names[0], "Ada Lovelace");
	assert_true(trunc);
	names = lex_authors(&a, span_of(buf, sizeof(buf), "Kim Wells, Amy Ross"), &n, &trunc);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "Amy Ross");
	assert_false(trunc);
	names = lex_authors(&a, span_of(buf, sizeof(buf), " , ; "), &n, &trunc);
	assert_null(names);
	assert_int_equal(n, 0);
	/* "Anand" and "Sandra" hold "and" but not the separator " and ". */
	names = lex_authors(&a, span_of(buf, sizeof(buf), "Anand Sandra; Bo"), &n, &trunc);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "Anand Sandra");
	arena_free(&a);
}

/* The names of a list without markup, trimmed and split one byte at a time as lex_authors's
 * comment says; out gets them one after the other, each with its NUL. */
static size_t authors_bytewise(const char *s, size_t n, char *out)
{
	size_t count = 0, start = 0, o = 0;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	while (n > 0 && s[0] == ' ')
		s++, n--;
	for (size_t i = 0; i <= n; i++) {
		size_t sep = i == n                                          ? 1
			     : s[i] == ',' || s[i] == ';'                    ? 1
			     : i + 5 <= n && strncmp(s + i, " and ", 5) == 0 ? 5
			     : i + 3 <= n && strncmp(s + i, " & ", 3) == 0   ? 3
									     : 0;
		size_t from = start, to = i;

		if (sep == 0)
			continue;
		while (from < to && s[from] == ' ')
			from++;
		while (to > from && s[to - 1] == ' ')
			to--;
		if (to > from) {
			memcpy(out + o, s + from, to - from);
			o += to - from;
			out[o++] = '\0';
			count++;
		}
		start = i + sep;
		i += sep - 1;
	}
	return count;
}

static void author_lists_split_as_byte_by_byte(void **state)
{
	/* Pieces of names and of separators, and words that only look like them. */
	static const char *const pieces[] = {"Ann", "Bo",  "Lu", " ",  ",",     ";",  " and ",
					     " & ", "and", "&",  " a", "Anand", "  ", "Zhang Wei"};
	struct arena a;
	char list[400], copy[400], want[800];
	unsigned seed = 3;

	(void)state;
	arena_init(&a);
	for (int round = 0; round < 3000; round++) {
		size_t len = 0, n, wanted;
		const char **names;
		bool trunc;
		const char *w = want;

		while (len < (size_t)round % 120) {
			const char *piece;

			seed = seed * 1103515245u + 12345u;
			piece = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(list + len, piece, strlen(piece));
			len += strlen(piece);
		}
		list[len] = '\0';
		memcpy(copy, list, len + 1);
		wanted = authors_bytewise(copy, len, want);
		names = lex_authors(&a, (struct span){list, len}, &n, &trunc);
		assert_int_equal(n, wanted);
		for (size_t i = 0; i < n; w += strlen(w) + 1, i++)
			assert_string_equal(names[i], w);
		assert_false(trunc);
	}
	arena_free(&a);
}

static void lines_strip_crlf_and_count(void **state)
{
	char text[] = "one\r\ntwo\n\nfour";
	struct lines it;
	struct span l;

	(void)state;
	lines_init(&it, text, strlen(text), 1);
	assert_true(lines_next(&it, &l));
	assert_int_equal(l.n, 3);
	assert_true(lines_next(&it, &l));
	assert_memory_equal(l.s, "two", 3);
	assert_true(lines_next(&it, &l));
	assert_int_equal(l.n, 0);
	assert_true(lines_next(&it, &l));
	assert_int_equal(it.no, 4);
	assert_memory_equal(l.s, "four", 4);
	assert_false(lines_next(&it, &l));
}

static void skip_to_stops_at_lines_starting_with_either_byte(void **state)
{
	char text[] = "para one line\nand a second one that is long enough for a vector\n"
		      "#### heading\nmore\n\xe6\x91\x98 label\nshort\n|row\nlast\n";
	struct lines it;
	struct span skipped, line;

	(void)state;
	lines_init(&it, text, strlen(text), 10);
	assert_true(lines_next(&it, &line));
	skipped = lines_skip_to(&it, '#', '\xe6', '|');
	assert_memory_equal(skipped.s, "and a second", 12);
	assert_int_equal(skipped.s[skipped.n - 1], '\n');
	assert_true(lines_next(&it, &line));
	assert_int_equal(it.no, 12);
	assert_memory_equal(line.s, "#### heading", line.n);
	skipped = lines_skip_to(&it, '#', '\xe6', '|');
	assert_memory_equal(skipped.s, "more\n", skipped.n);
	assert_true(lines_next(&it, &line));
	assert_int_equal(it.no, 14);
	skipped = lines_skip_to(&it, '#', '\xe6', '|');
	assert_memory_equal(skipped.s, "short\n", skipped.n);
	assert_true(lines_next(&it, &line));
	assert_memory_equal(line.s, "|row", line.n);
	/* Nothing further starts with any of the bytes: the rest is skipped to the end. */
	skipped = lines_skip_to(&it, '#', '\xe6', '|');
	assert_memory_equal(skipped.s, "last\n", skipped.n);
	assert_false(lines_next(&it, &line));
}

/* What lines_skip_to must do, one byte at a time. */
static struct span skip_to_bytewise(struct lines *it, char a, char b, char c)
{
	char *start = it->p;

	for (char *q = it->p; q < it->end; q++) {
		if (*q != '\n')
			continue;
		it->no++;
		if (q + 1 < it->end && (q[1] == a || q[1] == b || q[1] == c)) {
			it->p = q + 1;
			return (struct span){start, (size_t)(it->p - start)};
		}
	}
	it->p = it->end;
	return (struct span){start, (size_t)(it->end - start)};
}

static void skip_to_counts_every_break_of_a_long_paragraph(void **state)
{
	/* Lines of one byte, far more than a byte lane counts to, then lines of every length
	 * with stop bytes here and there, searched from many offsets. */
	enum { N = 40000 };
	static const char pick[] = "abcdefgh abcdefgh abcdefgh\n\n\n#\xe6|";
	static char text[N];
	unsigned seed = 7;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		text[i] = i < N / 2 ? "x\n"[i % 2] : pick[(seed >> 16) % (sizeof(pick) - 1)];
	}
	/* With the widest registers the processor has, then with those of any x86-64. */
	for (int wide = 1; wide >= 0; wide--) {
		lex_allow_avx2(wide);
		for (size_t from = 0; from < N; from += 997) {
			struct lines it, ref;

			lines_init(&it, text + from, N - from, 1);
			lines_init(&ref, text + from, N - from, 1);
			while (it.p < it.end) {
				struct span got = lines_skip_to(&it, '#', '\xe6', '|');
				struct span want = skip_to_bytewise(&ref, '#', '\xe6', '|');

				assert_ptr_equal(got.s, want.s);
				assert_int_equal(got.n, want.n);
				assert_int_equal(it.no, ref.no);
			}
		}
	}
	lex_allow_avx2(true);
}

/* Asserts that the scan's next paper link names id (and version), written as the len bytes
 * that open it at written. */
static void expect_link(struct link_scan *ls, const char *id, const char *version,
			const char *written)
{
	char got_id[ARXIV_ID_MAX], got_version[ARXIV_VER_MAX];
	struct span url;

	assert_true(link_scan_next(ls, &url, got_id, got_version));
	assert_string_equal(got_id, id);
	assert_string_equal(got_version, version);
	assert_int_equal(url.n, strlen(written));
	assert_memory_equal(url.s, written, url.n);
}

/* Asserts that the scan finds no further paper link. */
static void expect_no_link(struct link_scan *ls)
{
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX];
	struct span url;

	assert_false(link_scan_next(ls, &url, id, version));
}

static void link_scan_finds_paper_links_in_order_in_any_case(void **state)
{
	char text[] = "see arXiv.org/abs/2410.07177v2 and\n"
		      "notarxiv.org/abs/2410.00001 or https://example.org/x\n"
		      "\n"
		      "[HF](https://huggingface.co/papers/2503.03601)\n"
		      "maximum flexible suggest http://export.arxiv.org/pdf/hep-th/9901001.pdf\n";
	struct link_scan ls;

	(void)state;
	link_scan_init(&ls, (struct span){text, strlen(text)});
	expect_link(&ls, "2410.07177", "v2", "arXiv.org/abs/2410.07177v2");
	expect_link(&ls, "2503.03601", "", "https://huggingface.co/papers/2503.03601");
	expect_link(&ls, "hep-th/9901001", "", "http://export.arxiv.org/pdf/hep-th/9901001.pdf");
	expect_no_link(&ls);
}

static void link_scan_finds_arxiv_labels_and_dois(void **state)
{
	char text[] = "cites [arXiv:2501.00171] and **arXiv:** 2501.00172v2, not\n"
		      "foobarxiv:2501.00001 nor arXiv: none; DOI "
		      "https://doi.org/10.48550/arXiv.2501.00121.\n";
	struct link_scan ls;

	(void)state;
	link_scan_init(&ls, (struct span){text, strlen(text)});
	expect_link(&ls, "2501.00171", "", "arXiv:2501.00171");
	expect_link(&ls, "2501.00172", "v2", "arXiv:** 2501.00172v2,");
	expect_link(&ls, "2501.00121", "", "https://doi.org/10.48550/arXiv.2501.00121.");
	expect_no_link(&ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_scan_finds_paper_links_in_order_in_any_case),
		cmocka_unit_test(link_scan_finds_arxiv_labels_and_dois),
		cmocka_unit_test(cells_split_at_unescaped_bars_only),
		cmocka_unit_test(cells_without_outer_bars_are_counted),
		cmocka_unit_test(separator_rows_are_recognised),
		cmocka_unit_test(link_text_url_and_what_precedes),
		cmocka_unit_test(arxiv_ids_from_urls_and_bare_text),
		cmocka_unit_test(dates_in_every_digest_style),
		cmocka_unit_test(text_is_trimmed_joined_and_unescaped_in_place),
		cmocka_unit_test(text_of_wrapped_paragraphs_is_cleaned_as_byte_by_byte),
		cmocka_unit_test(author_lists_split_and_flag_et_al),
		cmocka_unit_test(author_lists_split_as_byte_by_byte),
		cmocka_unit_test(lines_strip_crlf_and_count),
		cmocka_unit_test(skip_to_stops_at_lines_starting_with_either_byte),
		cmocka_unit_test(skip_to_counts_every_break_of_a_long_paragraph),
	};

	return cmocka_run_group_tests_name("lex", tests, NULL, NULL);
}
