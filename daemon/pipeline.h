/*
 * pipeline.h — what happens to one digest file: parse → match → drop what was already alerted →
 * record the alerts and queue their messages, in one transaction. `paperwatch scan` and the
 * daemon both send every file through here.
 */
#ifndef PW_PIPELINE_H
#define PW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "paper.h"
#include "state.h"

/* A batch key, the stem of its messages' keys: "msg_" and 32 hex digits, and a NUL. */
#define PIPELINE_KEY_SIZE 37

struct pipeline_result {
	bool unchanged;      /* processed before exactly as it is now: not read again */
	bool state_failed;   /* the failure was the state's (a full disk), not the file's */
	size_t papers;       /* papers in the digest */
	size_t fallback;     /* of them, papers only the parser's fallback read */
	size_t skipped;      /* records the format left out */
	size_t matched;      /* papers that matched at least one rule */
	size_t alerts;       /* papers newly alerted, counted once for each notifier */
	size_t held;         /* of them, papers held for a scheduled message */
	size_t messages;     /* messages queued */
	const char *format;  /* the format that read it (static), NULL for none */
	uint64_t papers_sum; /* the sum of its papers' identity hashes, whatever their order */
};

/* Read the file even when it is unchanged since it was processed, so that rules added since
 * alert on it; what was alerted before is not alerted again. */
#define PIPELINE_AGAIN 1u

/* Processes the digest at path, remembered in the state under name; when folder is not NULL,
 * path is FOLDER/NAME and only a file inside folder is read. flags: PIPELINE_AGAIN or 0.
 * Returns -1 when the file cannot be read or is not a digest (nothing is recorded: it is tried
 * again if it changes) or when the state cannot be written (nothing is recorded either). */
int pipeline_file(struct config *cfg, struct state *st, const char *path, const char *name,
		  const char *folder, unsigned flags, struct pipeline_result *res, struct err *err);

/* What reading a file did, for the log: "12 papers, 3 matched, 3 new alerts in 1 message", and
 * ", 2 held for scheduled messages" when some were. */
void pipeline_describe(const struct pipeline_result *r, char *out, size_t size);

/* The identity alerts are remembered by: the arXiv id, or "title:" and the title folded to
 * lower-case words for a paper with none. The caller frees it. */
char *pipeline_paper_key(const struct paper *p);

#endif
