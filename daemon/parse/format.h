/*
 * parse/format.h — what a digest format implements, and the parser's services to it. Each
 * format is one format_*.c file filling a struct format; parse.c keeps the registry.
 */
#ifndef PW_PARSE_FORMAT_H
#define PW_PARSE_FORMAT_H

#include <stdbool.h>

#include "arena.h"
#include "err.h"
#include "fallback.h"
#include "hmap.h"
#include "idset.h"
#include "lex.h"
#include "paper.h"
#include "parse.h"

/* Warnings about records left out logged per file before the rest are only counted. */
#define PARSER_SKIP_WARN_MAX 10

/* The state of one parse, shared with the format. */
struct parser {
	const char *path;   /* for messages */
	char *source;       /* the file name, valid UTF-8 (owned) */
	const char *format; /* set by the format once it knows (a table header says which) */
	const struct parse_opts *opts;
	struct arena keep;    /* lives for the whole file: the format's state */
	struct arena scratch; /* emptied after each window: strings of the papers emitted in it */
	struct idset emitted; /* ids already handed out, so a paper listed twice is emitted once */
	unsigned line;        /* number of the first line of the text being fed */
	char *text;           /* the text being fed, which claims point into */
	struct fallback fallback;
	size_t n_papers, n_skipped, n_fallback;
	unsigned first_bad; /* the first line the format could not read; 0 when none */
};

/* One family of digest layouts. */
struct format {
	const char *name;
	/* Whether the line is one that only this family's digests have. */
	bool (*detect)(struct span line);
	/* A weak format is taken only when no other format's line comes in the first bytes: its
	 * lines (a list item with a link) are also found in digests of the other formats. */
	bool weak;
	/* The family's state for one file, in p->keep. */
	void *(*start)(struct parser *p);
	/* Parses the whole lines of text[0..len) and returns how many bytes it used: all of them,
	 * or up to the start of a record still open when the text ends, which it is given again
	 * with the text that follows (untouched: records are cleaned only once complete). When last
	 * is true there is no more text and everything is used. Sets p->line to the number of the
	 * first line not used. */
	size_t (*feed)(struct parser *p, void *state, char *text, size_t len, bool last);
	/* Emits whatever is still pending at the end of the file; may be NULL. */
	void (*end)(struct parser *p, void *state);
	/* Releases what the state holds outside p->keep, whether or not the parse got to the end;
	 * may be NULL. */
	void (*free)(void *state);
};

/* Hands a complete paper to the callback, unless a paper with its id was already emitted. */
void parser_emit(struct parser *p, struct paper *paper);
/* Whether a paper with this id was already emitted. */
bool parser_emitted(const struct parser *p, const char *id);
/* Says that the paper with this id is about to be emitted or looked up: the set of ids seen, too
 * large for the cache in a long digest, starts fetching its place meanwhile. */
void parser_prefetch(const struct parser *p, const char *id, size_t len);
/* Says that text[from..to) of the text being fed, from line number line on, was read as a record
 * (call it for every record emitted, whose text the format may clean). When the record names its
 * arXiv paper, the paper links inside it are its own or citations, and the fallback leaves them
 * alone; a record without an id hides none of the papers it links. */
void parser_claim(struct parser *p, const char *from, const char *to, unsigned line,
		  bool names_paper);
/* Warns that the record at line was left out and why. The first few warnings of a file are
 * logged; the rest are counted and summed up at the end, so a broken file cannot flood. */
void parser_skip(struct parser *p, unsigned line, const char *fmt, ...) PW_PRINTF(3, 4);

/* Fills a paper's id, version and url from a link or a bare id. False when it names no arXiv
 * paper; then an http(s) link itself becomes the url, and anything else leaves url NULL. */
bool parse_link(struct parser *p, struct paper *paper, struct span link);
/* Fills a paper's id, version and url from an id already read off a link. */
void parse_id(struct parser *p, struct paper *paper, const char *id, const char *version);

#endif
