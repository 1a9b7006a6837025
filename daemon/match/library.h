/*
 * match/library.h — reading a researcher's library of papers: a BibTeX export (Zotero, JabRef,
 * Google Scholar), CSL JSON (Zotero's other export) or a plain list of arXiv ids or URLs, one a
 * line. Each entry keeps its title, abstract, authors and arXiv id; an entry that cannot be read
 * is reported with its line and left out, and the others are kept. Every input is bounded: the
 * file, each field, the nesting of braces.
 */
#ifndef PW_LIBRARY_H
#define PW_LIBRARY_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

/* A file larger than this is refused. */
#define LIBRARY_MAX_FILE ((size_t)64 << 20)
/* A field is cut at this many bytes (a 100 MB abstract costs no more than this). */
#define LIBRARY_MAX_FIELD ((size_t)32 << 10)
/* Braces nested deeper than this end the entry with an error. */
#define LIBRARY_MAX_DEPTH 32
/* Entries past this many are left out with one warning. */
#define LIBRARY_MAX_ENTRIES 1000000
/* @string macros kept, at most. */
#define LIBRARY_MAX_MACROS 4096

enum library_format { LIBRARY_BIBTEX, LIBRARY_CSL_JSON, LIBRARY_IDS };

/* One paper of the library; strings are valid UTF-8 in the library's arena, NULL when absent. */
struct library_entry {
	const char *title;
	const char *abstract;
	const char *authors; /* as the file has them, "A and B" */
	const char *id;      /* arXiv id without version, lower case */
	unsigned line;       /* where the entry starts */
};

/* Receives a problem with the file at line (0: the whole file); the good entries are kept. */
typedef void (*library_warn_fn)(void *ctx, const char *file, unsigned line, const char *reason);

struct library_file {
	enum library_format format;
	struct library_entry *v;
	size_t n, cap;
	size_t n_bad; /* entries left out, each reported */
	struct arena arena;
};

/* Reads data[0..len) as a library called name (for messages); the format is told by the
 * content. Problems go to warn (may be NULL); never fails: a file of nothing readable gives
 * no entries. out is initialised here and freed by library_file_free. */
void library_read(const char *name, const char *data, size_t len, struct library_file *out,
		  library_warn_fn warn, void *ctx);

/* Reads the file at path: -1 with err set when it cannot be read or is too large. */
int library_read_file(const char *path, struct library_file *out, library_warn_fn warn, void *ctx,
		      struct err *err);

/* NULL is a no-op. */
void library_file_free(struct library_file *f);

/* "bibtex", "csl-json", "ids" */
const char *library_format_name(enum library_format f);

/* Finds an arXiv id in s (a bare id, "arXiv:ID", an arxiv.org URL, a 10.48550/arXiv.ID DOI):
 * writes it without version, lower case, into out and returns its length, or 0. */
size_t library_arxiv_id(const char *s, size_t n, char out[32]);

#endif
