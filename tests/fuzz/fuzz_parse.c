/*
 * fuzz_parse.c — libFuzzer target for the digest parser. Any bytes must parse or be refused
 * without a crash; every string of every paper must be valid UTF-8 that JSON accepts; a parse
 * through a tiny window (records carried from window to window) must give exactly the papers of
 * a parse through the default one; and the vector UTF-8 check must agree with the scalar one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse/parse.h"
#include "utf8.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every paper of one parse, as one string of JSON lines. */
struct dump {
	char *text;
	size_t len;
};

static void check_string(const char *s)
{
	if (s != NULL && utf8_valid_prefix(s, strlen(s)) != strlen(s))
		abort();
}

static void check_paper(void *ctx, const struct paper *p)
{
	struct dump *dump = ctx;
	json_t *o;
	char *line;
	size_t n;

	if (p->title == NULL || (p->id == NULL && p->url == NULL))
		abort();
	check_string(p->id);
	check_string(p->version);
	check_string(p->title);
	check_string(p->abstract);
	check_string(p->translation);
	check_string(p->date);
	check_string(p->url);
	for (size_t i = 0; i < p->n_authors; i++)
		check_string(p->authors[i]);
	o = paper_json(p);
	line = json_dumps(o, JSON_COMPACT);
	if (line == NULL || json_object_size(o) != 11)
		abort();
	n = strlen(line);
	dump->text = xreallocarray(dump->text, dump->len + n + 2, 1);
	memcpy(dump->text + dump->len, line, n);
	dump->len += n;
	dump->text[dump->len++] = '\n';
	free(line);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dump big = {0}, small = {0};
	struct parse_opts opts = {.emit = check_paper};
	struct parse_result res_big, res_small;
	struct err err;
	int rc_big, rc_small;

	/* Silent: warnings about bad input are the expected answer to most inputs. */
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	if (utf8_valid_prefix(text, size) != utf8_valid_prefix_scalar(text, size))
		abort();
	opts.ctx = &big;
	rc_big = parse_memory("fuzz.md", text, size, &opts, &res_big, &err);
	opts.ctx = &small;
	opts.window = 64;
	rc_small = parse_memory("fuzz.md", text, size, &opts, &res_small, &err);
	/* A tiny window may emit papers before finding a binary file refused: compare successes. */
	if (rc_big != rc_small)
		abort();
	if (rc_big == 0 && (big.len != small.len || res_big.skipped != res_small.skipped ||
			    (big.len > 0 && memcmp(big.text, small.text, big.len) != 0)))
		abort();
	free(big.text);
	free(small.text);
	return 0;
}
