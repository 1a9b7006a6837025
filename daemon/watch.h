/*
 * watch.h — the watched folder: inotify tells which digest files were written or moved in,
 * a scan finds those that came while no one watched, and a folder that disappears is waited
 * for until it is back.
 */
#ifndef PW_WATCH_H
#define PW_WATCH_H

#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "loop.h"

struct watcher;

/* Called for each file that may need processing: path to open, name to remember it by (its
 * name in the folder). Unchanged files come again after a rescan; the state tells them apart. */
typedef void (*watch_file_fn)(void *ctx, const char *path, const char *name);

/* Starts watching cfg->dir. Call watcher_rescan() next for what is already there: the watch
 * being set first, nothing written meanwhile is missed. A folder that does not exist yet (or
 * cannot be read) is waited for. */
int watcher_new(struct loop *l, const struct config_watch *cfg, watch_file_fn fn, void *ctx,
		struct watcher **out, struct err *err);
void watcher_free(struct watcher *w);

/* Reports every file of the folder again (after a lost event, or on request). */
void watcher_rescan(struct watcher *w);

/* Whether a file name is one paperwatch reads: matches an include pattern, no exclude pattern,
 * and is neither hidden nor an editor's or downloader's temporary file. */
bool watch_name_wanted(const struct config_watch *cfg, const char *name);

#endif
