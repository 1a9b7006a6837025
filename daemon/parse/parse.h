/*
 * parse/parse.h — turning a digest into papers, whatever its format (read from the content, never
 * from the file name). The text streams through a window of about a megabyte: each paper is
 * handed to a callback as soon as it is complete, so memory does not grow with the file.
 */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"
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
	/* Optional: the folder the file must be in, path being FOLDER/NAME. The open itself then
	 * refuses anything that is not inside it, a symbolic link swapped in included, so no race
	 * between an event and the open can get another file read. */
	const char *folder;
};

struct parse_result {
	const char *format; /* name of the format found; NULL for a file with no text */
	size_t papers;      /* papers handed to emit, fallback ones included */
	size_t fallback;    /* papers read only by the fallback, from links no record read */
	size_t skipped;     /* malformed records left out, each with a warning */
	unsigned first_bad; /* the first line the format could not read; 0 when none */
	size_t bad_utf8;    /* ill-formed UTF-8 sequences replaced with U+FFFD */
	/* The file as it was opened (parse_file only): which it is and how it was. */
	unsigned long long dev, ino;
	long long size, mtime_ns;
};

/* Whether the file was only partly understood: some papers were read by the fallback, or some
 * records were left out. */
bool parse_partial(const struct parse_result *res);

/* Parses the digest at path. Returns -1 with the reason (naming the file) when it cannot be read
 * or is not a digest; a digest with malformed records still returns 0, having warned about each
 * record it left out. A file with no text is a digest with no papers. Papers emitted before a
 * read error stay emitted. */
int parse_file(const char *path, const struct parse_opts *opts, struct parse_result *res,
	       struct err *err);

/* Same for len bytes in memory, named name in messages. */
int parse_memory(const char *name, const char *text, size_t len, const struct parse_opts *opts,
		 struct parse_result *res, struct err *err);

#endif
