/*
 * fuzz_parse.c — libFuzzer target for the digest parser. Any bytes must parse or be refused
 * without a crash; every string of every paper must be valid UTF-8 that JSON accepts; a parse
 * through a tiny window (records carried from window to window) must give exactly the papers of
 * a parse through the default one; the vector UTF-8 check must agree with the scalar one; and a
 * paper the file links is never lost (checked where that holds whatever the layout: every link
 * names the same paper, no image makes one a badge, and no record with an id of its own was read,
 * whose text might cite it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse/lex.h"
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

/* The one paper all the links of text name, into id; false when there are none, or several, or
 * an image whose link would be a badge. */
static bool one_linked_paper(const char *text, size_t size, char id[ARXIV_ID_MAX])
{
	char *copy = xmalloc(size + 1), other[ARXIV_ID_MAX], version[ARXIV_VER_MAX];
	struct link_scan ls;
	struct span url;
	bool one = true;

	memcpy(copy, text, size);
	copy[size] = '\0';
	id[0] = '\0';
	link_scan_init(&ls, (struct span){copy, size});
	while (one && link_scan_next(&ls, &url, other, version)) {
		if (id[0] == '\0')
			memcpy(id, other, sizeof(other));
		else
			one = strcmp(id, other) == 0;
	}
	if (memmem(text, size, "![", 2) != NULL)
		one = false;
	free(copy);
	return one && id[0] != '\0';
}

/* Whether the input opens with a UTF-16 byte order mark, which the parser reads it by. */
static bool utf16(const uint8_t *data, size_t size)
{
	return size >= 2 &&
	       ((data[0] == 0xff && data[1] == 0xfe) || (data[0] == 0xfe && data[1] == 0xff));
}

/* Whether the papers in dump include the one with this id, or with any id when id is NULL. */
static bool dumped(const struct dump *d, const char *id)
{
	char key[ARXIV_ID_MAX + 16];

	if (id != NULL)
		snprintf(key, sizeof(key), "{\"id\":\"%s\"", id);
	else
		snprintf(key, sizeof(key), "{\"id\":\"");
	return d->len > 0 && memmem(d->text, d->len, key, strlen(key)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char linked[ARXIV_ID_MAX];
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
	/* The links of the bytes are the text's only when the text is UTF-8, not UTF-16. */
	if (rc_big == 0 && !utf16(data, size) && one_linked_paper(text, size, linked) &&
	    !dumped(&big, linked) && !dumped(&big, NULL))
		abort();
	free(big.text);
	free(small.text);
	return 0;
}
