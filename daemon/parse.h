/*
 * parse.h — turning a digest into papers, whatever its format (read from the content, never
 * from the file name). The text streams through a window of about a megabyte: each paper is
 * handed to a callback as soon as it is complete, so memory does not grow with the file.
 */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"
#include "hmap.h"
#include "lex.h"
#include "paper.h"

/* Files larger than this are refused unless the configuration says otherwise. */
#define PARSE_MAX_SIZE_DEFAULT ((size_t)64 << 20)

/* Receives each paper; p and its strings are valid only until it returns. */
typedef void (*paper_fn)(void *ctx, const struct paper *p);

struct parse_opts {
	size_t max_size; /* refuse larger files; 0 means PARSE_MAX_SIZE_DEFAULT */
	size_t window;   /* bytes the window starts with; 0 for the default (tests make it tiny) */
	paper_fn emit;
	void *ctx;
	/* Optional: sees every chunk exactly as read, before anything is changed (to hash it). */
	void (*raw)(void *ctx, const char *data, size_t len);
};

struct parse_result {
	const char *format; /* name of the format found; NULL for a file with no text */
	size_t papers;      /* papers handed to emit */
	size_t skipped;     /* malformed records left out, each with a warning */
	size_t bad_utf8;    /* ill-formed UTF-8 sequences replaced with U+FFFD */
	/* The file as it was opened (parse_file only): which it is and how it was. */
	unsigned long long dev, ino;
	long long size, mtime_ns;
};

/* Parses the digest at path. Returns -1 with the reason (naming the file) when it cannot be read
 * or is not a digest; a digest with malformed records still returns 0, having warned about each
 * record it left out. A file with no text is a digest with no papers. Papers emitted before a
 * read error stay emitted. */
int parse_file(const char *path, const struct parse_opts *opts, struct parse_result *res,
	       struct err *err);

/* Same for len bytes in memory, named name in messages. */
int parse_memory(const char *name, const char *text, size_t len, const struct parse_opts *opts,
		 struct parse_result *res, struct err *err);

/* ---- For the format parsers (parse_*.c) ---- */

/* The state of one parse, shared with the format. */
struct parser {
	const char *path;   /* for messages */
	char *source;       /* the file name, valid UTF-8 (owned) */
	const char *format; /* set by the format once it knows (a table header says which) */
	const struct parse_opts *opts;
	struct arena keep;    /* lives for the whole file: the format's state */
	struct arena scratch; /* emptied after each window: strings of the papers emitted in it */
	struct hmap emitted;  /* ids already handed out, so a paper listed twice is emitted once */
	unsigned line;        /* number of the first line of the text being fed */
	size_t n_papers, n_skipped;
};

/* One family of digest layouts. */
struct digest_format {
	const char *name;
	/* Whether the line is one that only this family's digests have. */
	bool (*detect)(struct span line);
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

extern const struct digest_format format_markdown;
extern const struct digest_format format_records;

/* Hands a complete paper to the callback, unless a paper with its id was already emitted. */
void parser_emit(struct parser *p, struct paper *paper);
/* Whether a paper with this id was already emitted. */
bool parser_emitted(const struct parser *p, const char *id);
/* Warns that the record at line was left out and why. The first few warnings of a file are
 * logged; the rest are counted and summed up at the end, so a broken file cannot flood. */
void parser_skip(struct parser *p, unsigned line, const char *fmt, ...) PW_PRINTF(3, 4);

/* Fills a paper's id, version and url from a link or a bare id. False when it names no arXiv
 * paper; then an http(s) link itself becomes the url, and anything else leaves url NULL. */
bool parse_link(struct parser *p, struct paper *paper, struct span link);

#endif
