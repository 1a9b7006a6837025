/*
 * parse/parser.c — what the parser does for the formats: emitting a paper once, warning about a
 * record left out, and reading a paper's id and URL off a link.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "log.h"

bool parser_emitted(const struct parser *p, const char *id)
{
	return idset_has(&p->emitted, id, strlen(id));
}

void parser_prefetch(const struct parser *p, const char *id, size_t len)
{
	idset_prefetch(&p->emitted, id, len);
}

void parser_emit(struct parser *p, struct paper *paper)
{
	if (paper->id != NULL) {
		size_t n = strlen(paper->id);
		bool existed;
		const char **kept = idset_put(&p->emitted, paper->id, n, &existed);

		if (existed)
			return;
		*kept = arena_strndup(&p->keep, paper->id, n); /* outlives the window */
	}
	paper->source = p->source;
	if (paper->format == NULL) /* the fallback names itself */
		paper->format = p->format;
	p->n_papers++;
	p->opts->emit(p->opts->ctx, paper);
}

void parser_skip(struct parser *p, unsigned line, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (p->first_bad == 0 || line < p->first_bad)
		p->first_bad = line;
	if (++p->n_skipped > PARSER_SKIP_WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warn("%s:%u: record skipped: %s", p->path, line, why);
}

void parse_id(struct parser *p, struct paper *paper, const char *id, const char *version)
{
	static const char abs[] = "https://arxiv.org/abs/";
	size_t n = strlen(id);
	char *url = arena_alloc(&p->scratch, sizeof(abs) + n);

	memcpy(url, abs, sizeof(abs) - 1);
	memcpy(url + sizeof(abs) - 1, id, n + 1);
	paper->url = url;
	paper->id = url + sizeof(abs) - 1; /* the id is the tail of its URL */
	paper->version = version[0] ? arena_strndup(&p->scratch, version, strlen(version)) : NULL;
}

bool parse_link(struct parser *p, struct paper *paper, struct span link)
{
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX];

	if (!lex_arxiv_id(link, id, version)) {
		link = span_trim(link);
		if (span_starts(link, "https://") || span_starts(link, "http://"))
			paper->url = lex_text(link);
		return false;
	}
	parse_id(p, paper, id, version);
	return true;
}
