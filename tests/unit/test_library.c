/*
 * test_library.c — reading libraries: BibTeX as Zotero, JabRef and Google Scholar write it
 * (braces, accents, @string, # joins), a broken entry reported by line with the others kept,
 * bounds on nesting and field size, CSL JSON, and lists of arXiv ids.
 */
#include "unit.h"

#include "match/library.h"

struct said {
	unsigned lines[32];
	char text[32][300];
	size_t n;
};

static void on_warn(void *ctx, const char *file, unsigned line, const char *reason)
{
	struct said *s = ctx;

	assert_string_equal(file, "lib");
	if (s->n < 32) {
		s->lines[s->n] = line;
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", reason);
		s->n++;
	}
}

static void read_text(const char *text, struct library_file *f, struct said *s)
{
	memset(s, 0, sizeof(*s));
	library_read("lib", text, strlen(text), f, on_warn, s);
}

static void bibtex_fields_accents_and_strings_are_read(void **state)
{
	static const char text[] =
		"% a Zotero export\n"
		"@string{ jml = \"Journal of {ML}\" }\n"
		"@article{muller2024,\n"
		"  title = {{Diffusion} Policies for R{\\\"o}bot Caf\\'{e} Control},\n"
		"  author = {M\\\"uller, J{\\\"u}rgen and Levine, Sergey},\n"
		"  abstract = \"We learn \\emph{visuomotor} policies -- fast.\",\n"
		"  journal = jml # { 12},\n"
		"  eprint = {2410.07177}, archivePrefix = {arXiv},\n"
		"}\n"
		"@misc{scholar, title={Attention is all you need},\n"
		"  journal={arXiv preprint arXiv:1706.03762}, year=2017}\n"
		"@comment{ ignored {nested} }\n";
	struct library_file f;
	struct said s;

	(void)state;
	read_text(text, &f, &s);
	assert_int_equal(f.format, LIBRARY_BIBTEX);
	assert_int_equal(s.n, 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.v[0].title, "Diffusion Policies for Röbot Café Control");
	assert_string_equal(f.v[0].authors, "Müller, Jürgen and Levine, Sergey");
	assert_string_equal(f.v[0].abstract, "We learn visuomotor policies -- fast.");
	assert_string_equal(f.v[0].id, "2410.07177");
	assert_int_equal(f.v[0].line, 3);
	assert_string_equal(f.v[1].id, "1706.03762");
	assert_int_equal(f.v[1].line, 10);
	library_file_free(&f);
}

static void an_unclosed_brace_loses_its_entry_alone(void **state)
{
	static const char text[] = "@article{a, title = {First}}\n"
				   "@article{b, title = {Second, never closed,\n"
				   "  abstract = {x}\n"
				   "@article{c, title = {Third}}\n";
	struct library_file f;
	struct said s;

	(void)state;
	read_text(text, &f, &s);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.v[0].title, "First");
	assert_string_equal(f.v[1].title, "Third");
	assert_int_equal(f.n_bad, 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.lines[0], 2);
	assert_non_null(strstr(s.text[0], "unclosed brace"));
	library_file_free(&f);
}

static void deep_braces_and_huge_fields_are_bounded(void **state)
{
	size_t big = LIBRARY_MAX_FIELD * 3;
	char *text = malloc(big + 4096);
	struct library_file f;
	struct said s;
	size_t o;

	(void)state;
	o = (size_t)sprintf(text, "@article{deep, title = ");
	for (int i = 0; i < 1000; i++)
		text[o++] = '{';
	o += (size_t)sprintf(text + o, "\n@article{big, title = {Big}, abstract = {");
	memset(text + o, 'a', big);
	o += big;
	o += (size_t)sprintf(text + o, "}}\n");
	text[o] = '\0';
	read_text(text, &f, &s);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].title, "Big");
	assert_int_equal(strlen(f.v[0].abstract), LIBRARY_MAX_FIELD);
	assert_int_equal(f.n_bad, 1);
	assert_non_null(strstr(s.text[0], "nested too deep"));
	assert_non_null(strstr(s.text[1], "cut"));
	library_file_free(&f);
	free(text);
}

static void csl_json_items_are_read_with_their_lines(void **state)
{
	static const char text[] =
		"[\n"
		"  {\"id\": \"x\", \"type\": \"article\", \"title\": \"Tool use\",\n"
		"   \"abstract\": \"Agents call tools.\", \"URL\": "
		"\"http://arxiv.org/abs/2401.00001v2\",\n"
		"   \"author\": [{\"family\": \"Levine\", \"given\": \"Sergey\"}]},\n"
		"  {\"id\": \"y\", \"type\": \"article\"},\n"
		"  {\"title\": \"Second\", \"number\": \"arXiv:hep-th/9901001\"}\n"
		"]\n";
	struct library_file f;
	struct said s;

	(void)state;
	read_text(text, &f, &s);
	assert_int_equal(f.format, LIBRARY_CSL_JSON);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.v[0].title, "Tool use");
	assert_string_equal(f.v[0].id, "2401.00001");
	assert_string_equal(f.v[0].authors, "Sergey Levine");
	assert_string_equal(f.v[1].id, "hep-th/9901001");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.lines[0], 5);
	library_file_free(&f);
	read_text("[{\"title\": ", &f, &s);
	assert_int_equal(f.n, 0);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(s.text[0], "not CSL JSON"));
	library_file_free(&f);
}

static void an_ids_list_takes_ids_and_urls(void **state)
{
	static const char text[] = "# mine\n"
				   "2410.07177\n"
				   "https://arxiv.org/abs/2401.12345v3\n"
				   "not an id\n"
				   "arXiv:cs/0112017\n";
	struct library_file f;
	struct said s;

	(void)state;
	read_text(text, &f, &s);
	assert_int_equal(f.format, LIBRARY_IDS);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.v[1].id, "2401.12345");
	assert_string_equal(f.v[2].id, "cs/0112017");
	assert_null(f.v[0].title);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.lines[0], 4);
	library_file_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bibtex_fields_accents_and_strings_are_read),
		cmocka_unit_test(an_unclosed_brace_loses_its_entry_alone),
		cmocka_unit_test(deep_braces_and_huge_fields_are_bounded),
		cmocka_unit_test(csl_json_items_are_read_with_their_lines),
		cmocka_unit_test(an_ids_list_takes_ids_and_urls),
	};

	return cmocka_run_group_tests_name("library", tests, NULL, NULL);
}
