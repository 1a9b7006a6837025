/*
 * test_parse.c — the digest parser against the real sample digests and hand-written bad input.
 */
#include "unit.h"

#include "digest.h"
#include "log.h"
#include "parse/parse.h"
#include "xmalloc.h"

/* What the last parse_fixture() or parse_string() reported. */
static struct parse_result res;

/* Parses a fixture file into d; asserts the outcome (0 or -1). */
static void parse_fixture(struct digest *d, const char *name, int expect, struct err *err)
{
	struct parse_opts opts = {.emit = digest_collect, .ctx = d};

	digest_init(d);
	assert_int_equal(parse_file(fixture(name), &opts, &res, err), expect);
}

/* The UTF-16 (big-endian, no byte order mark) of the UTF-8 text s; the caller owns it. */
static char *utf16_be(const char *s, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(strlen(s) * 2 + 4);
	size_t o = 0;

	while (*u != '\0') {
		uint32_t c;
		int more = *u < 0x80 ? 0 : *u < 0xe0 ? 1 : *u < 0xf0 ? 2 : 3;

		c = more == 0 ? *u : (uint32_t)(*u & (0x3f >> more));
		for (u++; more-- > 0; u++)
			c = c << 6 | (*u & 0x3f);
		if (c >= 0x10000) {
			c -= 0x10000;
			out[o++] = (char)(0xd8 | c >> 18);
			out[o++] = (char)(c >> 10 & 0xff);
			c = 0xdc00 | (c & 0x3ff);
		}
		out[o++] = (char)(c >> 8);
		out[o++] = (char)(c & 0xff);
	}
	*len = o;
	return out;
}

/* Parses text given inline into d. */
static int parse_string(struct digest *d, const char *text, struct err *err)
{
	struct parse_opts opts = {.emit = digest_collect, .ctx = d};

	digest_init(d);
	return parse_memory("inline.md", text, strlen(text), &opts, &res, err);
}

static const struct paper *find(const struct digest *d, const char *id)
{
	for (size_t i = 0; i < d->n_papers; i++) {
		if (d->papers[i].id && strcmp(d->papers[i].id, id) == 0)
			return &d->papers[i];
	}
	fail_msg("paper %s not found", id);
	return NULL;
}

static void sample_counts_and_formats_match_the_digests(void **state)
{
	static const struct {
		const char *file, *format;
		size_t papers;
	} samples[] = {
		{"digests/000_6b369aa832a2006d.txt", "hf-daily", 12},
		{"digests/001_a7bca62cced45441.txt", "arxiv-daily", 100},
		{"digests/002_f9a2c3ce83a5c549.txt", "hf-daily", 8},
		{"digests/003_bf227820df90f27b.txt", "date-table", 46},
		{"digests/004_602c7d0816f9df68.txt", "records", 50},
	};
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct digest d;

		parse_fixture(&d, samples[i].file, 0, &err);
		assert_string_equal(res.format, samples[i].format);
		assert_int_equal(d.n_papers, samples[i].papers);
		assert_int_equal(res.papers, samples[i].papers);
		assert_int_equal(res.skipped, 0);
		for (size_t k = 0; k < d.n_papers; k++) {
			assert_string_equal(d.papers[k].format, samples[i].format);
			assert_string_equal(d.papers[k].source, strrchr(samples[i].file, '/') + 1);
			assert_non_null(d.papers[k].id);
			assert_non_null(d.papers[k].title);
			assert_non_null(d.papers[k].url);
			assert_non_null(d.papers[k].abstract);
		}
		digest_free(&d);
	}
}

static void hf_daily_row_gives_title_id_authors_date(void **state)
{
	struct digest d;
	struct err err;
	const struct paper *p;

	(void)state;
	parse_fixture(&d, "digests/000_6b369aa832a2006d.txt", 0, &err);
	p = &d.papers[0];
	assert_string_equal(p->id, "2410.13232");
	assert_null(p->version);
	assert_string_equal(p->title, "Web Agents with World Models: Learning and Leveraging "
				      "Environment Dynamics in Web Navigation");
	assert_int_equal(p->n_authors, 5);
	assert_string_equal(p->authors[0], "jihoonkim25");
	assert_string_equal(p->authors[4], "hyungjoochae");
	assert_false(p->authors_truncated);
	assert_string_equal(p->date, "2024-10-21");
	assert_string_equal(p->url, "https://arxiv.org/abs/2410.13232");
	assert_true(strncmp(p->abstract, "a) This research investigates", 29) == 0);
	assert_null(p->translation);
	digest_free(&d);
}

static void arxiv_daily_merges_row_and_abstract_block(void **state)
{
	struct digest d;
	struct err err;
	const struct paper *p;

	(void)state;
	parse_fixture(&d, "digests/001_a7bca62cced45441.txt", 0, &err);
	p = find(&d, "2410.07176");
	assert_string_equal(p->version, "v1");
	assert_string_equal(p->title, "Astute RAG: Overcoming Imperfect Retrieval Augmentation and "
				      "Knowledge Conflicts for Large Language Models");
	/* The table says "Fei Wang et.al."; the block's full list wins. */
	assert_int_equal(p->n_authors, 5);
	assert_string_equal(p->authors[4], "Sercan \xc3\x96. Ar\xc4\xb1k");
	assert_false(p->authors_truncated);
	assert_string_equal(p->date, "2024-10-09");
	assert_true(strncmp(p->abstract,
			    "Retrieval-Augmented Generation (RAG), while effective in "
			    "integrating external knowledge",
			    87) == 0);
	/* Hard-wrapped lines are joined with single spaces. */
	assert_null(strchr(p->abstract, '\n'));
	assert_non_null(strstr(p->abstract, "can be undermined by imperfect retrieval"));
	assert_true(strncmp(p->translation, "\xe6\xaa\xa2\xe7\xb4\xa2", 6) == 0); /* 檢索 */
	digest_free(&d);
}

static void arxiv_daily_block_out_of_order_merges_the_first_row_of_its_id(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	assert_int_equal(
		parse_string(&d,
			     "### LLM\n"
			     "|Publish Date|Title|Authors|Homepage|Code|\n"
			     "|---|---|---|---|---|\n"
			     "|**2024-10-01**|**A**|X et.al.|[2410.00001v1]"
			     "(http://arxiv.org/abs/2410.00001v1)|null|\n"
			     "|**2024-10-02**|**B**|Y et.al.|[2410.00002v1]"
			     "(http://arxiv.org/abs/2410.00002v1)|null|\n"
			     "|**2024-10-03**|**A again**|Z et.al.|[2410.00001v2]"
			     "(http://arxiv.org/abs/2410.00001v2)|null|\n"
			     "|**2024-10-04**|**C**|W et.al.|[2410.00003v1]"
			     "(http://arxiv.org/abs/2410.00003v1)|null|\n"
			     "|**2024-10-05**|**D**|V et.al.|[2410.00004v1]"
			     "(http://arxiv.org/abs/2410.00004v1)|null|\n"
			     "\n#### Abstracts\n"
			     "##### **B**\n2410.00002 by Y One, Y Two\n\nAbstract of B.\n\n"
			     "##### **A**\n2410.00001 by X One\n\nAbstract of A.\n\n"
			     "##### **C**\n2410.00003v1 by W One\n\nAbstract of C.\n\n"
			     "##### **B twice**\n2410.00002 by Y One\n\nAbstract again.\n",
			     &err),
		0);
	/* The blocks in their order, then the row that had none. */
	assert_int_equal(d.n_papers, 4);
	assert_string_equal(d.papers[0].id, "2410.00002");
	assert_string_equal(d.papers[0].abstract, "Abstract of B.");
	assert_int_equal(d.papers[0].n_authors, 2);
	/* A's block comes after B's and has no version: the first row of its id says v1. */
	assert_string_equal(d.papers[1].id, "2410.00001");
	assert_string_equal(d.papers[1].version, "v1");
	assert_string_equal(d.papers[1].date, "2024-10-01");
	assert_string_equal(d.papers[1].title, "A");
	assert_string_equal(d.papers[2].date, "2024-10-04");
	assert_string_equal(d.papers[3].id, "2410.00004");
	assert_true(d.papers[3].authors_truncated);
	assert_null(d.papers[3].abstract);
	digest_free(&d);
}

static void date_table_reads_ordinal_dates_and_linked_titles(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "digests/003_bf227820df90f27b.txt", 0, &err);
	assert_string_equal(d.papers[0].id, "2410.23743");
	assert_string_equal(d.papers[0].version, "v1");
	assert_string_equal(d.papers[0].date, "2024-10-31");
	assert_string_equal(d.papers[0].title, "What Happened in LLMs Layers when Trained for Fast "
					       "vs. Slow Thinking: A Gradient Perspective");
	assert_null(d.papers[0].authors);
	digest_free(&d);
}

static void records_read_title_pdf_summary(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "digests/004_602c7d0816f9df68.txt", 0, &err);
	assert_string_equal(d.papers[0].id, "2406.16845");
	assert_string_equal(d.papers[0].title,
			    "RaTEScore: A Metric for Radiology Report Generation");
	assert_string_equal(d.papers[0].url, "https://arxiv.org/abs/2406.16845");
	assert_null(d.papers[0].date);
	assert_true(strncmp(d.papers[0].abstract, "This paper introduces a novel", 29) == 0);
	digest_free(&d);
}

static void paper_under_two_categories_is_emitted_once(void **state)
{
	struct digest d;
	struct err err;
	const struct paper *p;

	(void)state;
	parse_fixture(&d, "parse/two_categories.md", 0, &err);
	assert_int_equal(d.n_papers, 3);
	p = find(&d, "2410.07177");
	assert_int_equal(p->n_authors, 3);
	assert_false(p->authors_truncated);
	assert_string_equal(p->abstract, "This research aims to comprehensively explore building a "
					 "multimodal model. Second paragraph.");
	assert_string_equal(
		p->translation,
		"\xe6\x9c\xac\xe7\xa0\x94\xe7\xa9\xb6\xe6\x97\xa8\xe5\x9c\xa8\xe5\x85\xa8"
		"\xe9\x9d\xa2\xe6\x8e\xa2\xe7\xb4\xa2");
	assert_string_equal(find(&d, "2410.07173")->date, "2024-10-07");
	digest_free(&d);
}

static void table_author_list_with_et_al_is_marked_truncated(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	assert_int_equal(parse_string(&d,
				      "|Publish Date|Title|Authors|Homepage|Code|\n"
				      "|---|---|---|---|---|\n"
				      "|**2024-10-09**|**T**|Hanrong Ye et.al.|[2410.07177v1]"
				      "(http://arxiv.org/abs/2410.07177v1)|null|\n",
				      &err),
			 0);
	assert_int_equal(d.n_papers, 1);
	assert_int_equal(d.papers[0].n_authors, 1);
	assert_string_equal(d.papers[0].authors[0], "Hanrong Ye");
	assert_true(d.papers[0].authors_truncated);
	digest_free(&d);
}

static void crlf_line_endings_parse_like_lf(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/hf_crlf.md", 0, &err);
	assert_int_equal(d.n_papers, 3);
	assert_string_equal(d.papers[2].abstract, "Distilling language models.");
	assert_string_equal(d.papers[2].version, "v2");
	assert_null(strchr(d.papers[0].abstract, '\r'));
	digest_free(&d);
}

static void utf8_bom_is_skipped(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/hf_bom.md", 0, &err);
	assert_string_equal(res.format, "hf-daily");
	assert_int_equal(d.n_papers, 3);
	digest_free(&d);
}

static void missing_final_newline_keeps_last_record(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/records_no_final_newline.txt", 0, &err);
	assert_int_equal(d.n_papers, 2);
	assert_string_equal(d.papers[1].abstract, "A second summary.");
	assert_string_equal(d.papers[1].version, "v3");
	digest_free(&d);
}

static void blank_lines_between_records_and_continuations_parse(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/records_blank_lines.txt", 0, &err);
	assert_int_equal(d.n_papers, 3);
	assert_int_equal(res.skipped, 0);
	assert_string_equal(d.papers[0].abstract,
			    "The summary starts here and goes on over a second line.");
	assert_string_equal(d.papers[1].title, "Without A Rule Between");
	assert_int_equal(d.papers[1].n_authors, 2);
	assert_string_equal(d.papers[1].date, "2024-07-03");
	assert_string_equal(d.papers[2].id, "2406.00003");
	digest_free(&d);
}

static void tabs_inside_cells_become_spaces(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/tabs.md", 0, &err);
	assert_int_equal(d.n_papers, 1);
	assert_string_equal(d.papers[0].title, "Tabbed Title");
	assert_string_equal(d.papers[0].abstract, "An abstract with tabs.");
	assert_string_equal(d.papers[0].date, "2024-10-01");
	digest_free(&d);
}

static void markdown_escapes_and_bold_are_undone(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/escapes.md", 0, &err);
	assert_int_equal(d.n_papers, 2);
	assert_string_equal(d.papers[0].title, "Pipes | and *stars* and _under_");
	assert_string_equal(d.papers[0].abstract, "An important result with a | pipe.");
	assert_string_equal(d.papers[1].title, "Bold Title");
	assert_string_equal(d.papers[1].id, "hep-th/9901001");
	assert_string_equal(d.papers[1].version, "v2");
	assert_string_equal(d.papers[1].date, "2024-10-03");
	digest_free(&d);
}

static void empty_and_blank_files_give_no_papers_and_no_error(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/empty.txt", 0, &err);
	assert_int_equal(d.n_papers, 0);
	digest_free(&d);
	parse_fixture(&d, "parse/blank.txt", 0, &err);
	assert_int_equal(d.n_papers, 0);
	digest_free(&d);
}

/* Asserts that err names the file and holds the reason. */
static void assert_refused(const char *name, const char *reason)
{
	struct digest d;
	struct err err;

	parse_fixture(&d, name, -1, &err);
	assert_non_null(strstr(err.msg, name));
	assert_non_null(strstr(err.msg, reason));
	assert_int_equal(d.n_papers, 0);
	digest_free(&d);
}

static void unknown_and_binary_files_are_refused_by_name(void **state)
{
	(void)state;
	assert_refused("parse/unknown.txt", "not in a known digest format");
	assert_refused("parse/binary.bin", "binary data");
}

static void utf16_with_its_byte_order_mark_is_read_as_its_text(void **state)
{
	static const char text[] =
		"Title: Caf\u00e9 \U0001F600\nPDF: https://arxiv.org/pdf/2501.00301\n";
	char be[2 + 2 * sizeof(text)];
	size_t n = 0, len;
	struct digest d;
	struct err err;
	char *utf16;

	(void)state;
	parse_fixture(&d, "parse/utf16.txt", 0, &err);
	assert_int_equal(d.n_papers, 1);
	assert_string_equal(d.papers[0].title, "A paper");
	assert_string_equal(d.papers[0].id, "2406.16845");
	assert_string_equal(res.format, "records");
	digest_free(&d);

	/* The same in big-endian, with a character beyond the BMP, from memory. */
	utf16 = utf16_be(text, &len);
	be[n++] = '\xfe';
	be[n++] = '\xff';
	memcpy(be + n, utf16, len);
	n += len;
	free(utf16);
	digest_init(&d);
	assert_int_equal(parse_memory("be.txt", be, n,
				      &(struct parse_opts){.emit = digest_collect, .ctx = &d}, &res,
				      &err),
			 0);
	assert_int_equal(d.n_papers, 1);
	assert_string_equal(d.papers[0].title, "Caf\u00e9 \U0001F600");
	assert_string_equal(d.papers[0].id, "2501.00301");
	assert_int_equal(res.bad_utf8, 0);
	digest_free(&d);
}

static void missing_file_and_directory_are_refused_by_name(void **state)
{
	(void)state;
	assert_refused("parse/does-not-exist.md", "No such file or directory");
	assert_refused("parse", "not a regular file");
}

static void file_over_the_size_limit_is_refused(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	struct parse_opts opts = {.max_size = 1000, .emit = digest_collect, .ctx = &d};

	digest_init(&d);
	assert_int_equal(parse_file(fixture("digests/000_6b369aa832a2006d.txt"), &opts, &res, &err),
			 -1);
	assert_non_null(strstr(err.msg, "too large"));
	assert_non_null(strstr(err.msg, "the limit is 1000"));
	assert_int_equal(d.n_papers, 0);
	digest_free(&d);
}

static void short_rows_are_padded_and_rows_without_a_link_skipped(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/malformed_rows.md", 0, &err);
	assert_int_equal(d.n_papers, 3);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.fallback, 0);
	assert_int_equal(res.first_bad, 7);
	assert_string_equal(d.papers[0].title, "Good One");
	assert_string_equal(d.papers[1].title, "Good Two");
	/* Without an abstract it waits for an abstract block, until the section ends. */
	assert_string_equal(d.papers[2].title, "Missing Cells");
	assert_string_equal(d.papers[2].authors[0], "only two");
	assert_null(d.papers[2].abstract);
	digest_free(&d);
}

static void invalid_utf8_is_repaired_with_replacement_characters(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	parse_fixture(&d, "parse/invalid_utf8.md", 0, &err);
	assert_int_equal(res.bad_utf8, 2);
	assert_int_equal(d.n_papers, 1);
	/* The abstract block's title wins over the table's broken one. */
	assert_string_equal(d.papers[0].title, "Caf\xc3\xa9 Models");
	assert_string_equal(d.papers[0].authors[0], "Jos\xc3\xa9 Ruiz");
	assert_string_equal(d.papers[0].translation, "\xe6\x9c\xac\xe7\xa0\x94\xef\xbf\xbd");
	digest_free(&d);
}

static void records_without_title_or_link_are_skipped_and_their_links_kept(void **state)
{
	struct digest d;
	struct err err;

	(void)state;
	assert_int_equal(parse_string(&d,
				      "Title: Kept\nPDF: https://arxiv.org/pdf/2406.00001\n---\n"
				      "Title: No Link\nSummary: x\n---\n"
				      "PDF: https://arxiv.org/pdf/2406.00002\nSummary: no title\n"
				      "---\nTitle: Elsewhere\nPDF: https://example.org/paper.pdf\n",
				      &err),
			 0);
	assert_int_equal(d.n_papers, 3);
	assert_int_equal(res.skipped, 2);
	assert_string_equal(d.papers[0].title, "Kept");
	/* A link that is not arXiv is kept as the url; the paper has no id. */
	assert_null(d.papers[1].id);
	assert_string_equal(d.papers[1].url, "https://example.org/paper.pdf");
	/* The record without a title still links a paper: the fallback reads it. */
	assert_int_equal(res.fallback, 1);
	assert_string_equal(d.papers[2].id, "2406.00002");
	assert_string_equal(d.papers[2].title, "arXiv 2406.00002");
	assert_string_equal(d.papers[2].format, "fallback");
	assert_int_equal(d.papers[2].line, 7);
	digest_free(&d);
}

static void nul_bytes_after_the_start_become_spaces(void **state)
{
	static const char head[] =
		"Title: Padding\nPDF: https://arxiv.org/pdf/2406.00002\nSummary: ";
	static const char tail[] =
		"\n---\nTitle: A\0Paper\nPDF: https://arxiv.org/pdf/2406.00001\n";
	size_t pad = 9000, len = sizeof(head) - 1 + pad + sizeof(tail) - 1;
	char *buf = xmalloc(len);
	struct parse_opts opts;
	struct digest d;
	struct err err;

	(void)state;
	/* Past the first 8 KiB, where a NUL no longer means a binary file. */
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', pad);
	memcpy(buf + sizeof(head) - 1 + pad, tail, sizeof(tail) - 1);
	digest_init(&d);
	opts = (struct parse_opts){.emit = digest_collect, .ctx = &d};
	assert_int_equal(parse_memory("nul.txt", buf, len, &opts, &res, &err), 0);
	assert_int_equal(d.n_papers, 2);
	assert_string_equal(d.papers[1].title, "A Paper");
	digest_free(&d);
	free(buf);
}

static void nul_byte_near_the_start_means_binary(void **state)
{
	static const char text[] = "Title: A\0Paper\nPDF: https://arxiv.org/pdf/2406.00001\n";
	struct parse_opts opts;
	struct digest d;
	struct err err;

	(void)state;
	digest_init(&d);
	opts = (struct parse_opts){.emit = digest_collect, .ctx = &d};
	assert_int_equal(parse_memory("nul.txt", text, sizeof(text) - 1, &opts, &res, &err), -1);
	assert_non_null(strstr(err.msg, "binary data"));
	digest_free(&d);
}

/* Every paper of a file as JSON lines, parsed through a window of the given size. */
static char *parse_as_json(const char *name, size_t window, size_t *n_papers)
{
	struct digest d;
	struct parse_opts opts = {.window = window, .emit = digest_collect, .ctx = &d};
	struct err err;
	char *all = xstrdup("");

	digest_init(&d);
	assert_int_equal(parse_file(fixture(name), &opts, &res, &err), 0);
	for (size_t i = 0; i < d.n_papers; i++) {
		json_t *o = paper_json(&d.papers[i]);
		char *line = json_dumps(o, JSON_COMPACT), *next = xasprintf("%s%s\n", all, line);

		free(all);
		free(line);
		json_decref(o);
		all = next;
	}
	*n_papers = d.n_papers;
	digest_free(&d);
	return all;
}

static void tiny_window_gives_the_same_papers_as_a_large_one(void **state)
{
	static const char *const files[] = {
		"digests/000_6b369aa832a2006d.txt",
		"digests/001_a7bca62cced45441.txt",
		"digests/002_f9a2c3ce83a5c549.txt",
		"digests/003_bf227820df90f27b.txt",
		"digests/004_602c7d0816f9df68.txt",
		"parse/two_categories.md",
		"parse/records_blank_lines.txt",
		"parse/hf_crlf.md",
		"parse/invalid_utf8.md",
		"parse/malformed_rows.md",
		"parse/hf_wrapped.md",
		"parse/front_matter.md",
		"parse/list_items.md",
		"parse/unknown_links.txt",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n_big, n_small;
		char *big = parse_as_json(files[i], 0, &n_big);
		char *small = parse_as_json(files[i], 64, &n_small);

		assert_true(n_big > 0);
		assert_int_equal(n_big, n_small);
		assert_string_equal(big, small);
		free(big);
		free(small);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sample_counts_and_formats_match_the_digests),
		cmocka_unit_test(hf_daily_row_gives_title_id_authors_date),
		cmocka_unit_test(arxiv_daily_merges_row_and_abstract_block),
		cmocka_unit_test(arxiv_daily_block_out_of_order_merges_the_first_row_of_its_id),
		cmocka_unit_test(date_table_reads_ordinal_dates_and_linked_titles),
		cmocka_unit_test(records_read_title_pdf_summary),
		cmocka_unit_test(paper_under_two_categories_is_emitted_once),
		cmocka_unit_test(table_author_list_with_et_al_is_marked_truncated),
		cmocka_unit_test(crlf_line_endings_parse_like_lf),
		cmocka_unit_test(utf8_bom_is_skipped),
		cmocka_unit_test(missing_final_newline_keeps_last_record),
		cmocka_unit_test(blank_lines_between_records_and_continuations_parse),
		cmocka_unit_test(tabs_inside_cells_become_spaces),
		cmocka_unit_test(markdown_escapes_and_bold_are_undone),
		cmocka_unit_test(empty_and_blank_files_give_no_papers_and_no_error),
		cmocka_unit_test(unknown_and_binary_files_are_refused_by_name),
		cmocka_unit_test(utf16_with_its_byte_order_mark_is_read_as_its_text),
		cmocka_unit_test(missing_file_and_directory_are_refused_by_name),
		cmocka_unit_test(file_over_the_size_limit_is_refused),
		cmocka_unit_test(short_rows_are_padded_and_rows_without_a_link_skipped),
		cmocka_unit_test(invalid_utf8_is_repaired_with_replacement_characters),
		cmocka_unit_test(records_without_title_or_link_are_skipped_and_their_links_kept),
		cmocka_unit_test(nul_bytes_after_the_start_become_spaces),
		cmocka_unit_test(nul_byte_near_the_start_means_binary),
		cmocka_unit_test(tiny_window_gives_the_same_papers_as_a_large_one),
	};

	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
