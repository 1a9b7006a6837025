/*
 * libwatch.c — inotify on the folders of the library files, not on the files: an editor or an
 * export that replaces a file by renaming another over it leaves a watch on the file looking
 * at the old one. Events are gathered for a moment, so that a file written in pieces is read
 * once, whole.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "libwatch.h"
#include "log.h"
#include "xmalloc.h"

/* How long after the last event a library is read again, in seconds. */
#define LIBWATCH_SETTLE 0.2

struct libwatch {
	struct loop *loop;
	struct config *cfg;
	struct state *st;
	int fd;
	int *wd;       /* per library: the watch on its folder */
	char **base;   /* per library: its name in that folder */
	bool *pending; /* per library: changed since it was read */
	struct loop_timer *settle;
};

/* The text of papers of lists of ids, from the state; what is missing is said once. */
static void fill(struct libwatch *w)
{
	struct err err;
	size_t filled;

	if (config_libraries_fill(w->cfg, w->st, &filled, &err) != 0)
		log_warn("%s", err.msg);
	else if (filled > 0)
		log_info("%zu paper%s of the libraries listing ids known from the digests read",
			 filled, plural(filled));
}

static void on_settle(void *ctx)
{
	struct libwatch *w = ctx;

	for (size_t i = 0; i < w->cfg->n_libraries; i++) {
		struct err err;
		size_t papers;

		if (!w->pending[i])
			continue;
		w->pending[i] = false;
		if (config_library_reload(w->cfg, i, &papers, &err) != 0)
			log_error("%s", err.msg);
		else
			log_info("library \"%s\" read again: %zu papers", w->cfg->libraries[i].name,
				 papers);
	}
	fill(w);
}

static void on_events(void *ctx, int fd, uint32_t events)
{
	struct libwatch *w = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			for (size_t i = 0; ev->len > 0 && i < w->cfg->n_libraries; i++) {
				if (w->wd[i] == ev->wd && strcmp(w->base[i], ev->name) == 0) {
					w->pending[i] = true;
					loop_timer_set(w->settle, LIBWATCH_SETTLE);
				}
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

int libwatch_new(struct loop *l, struct config *cfg, struct state *st, struct libwatch **out,
		 struct err *err)
{
	struct libwatch *w;
	size_t n = cfg->n_libraries;

	*out = NULL;
	if (n == 0)
		return 0;
	w = xcalloc(1, sizeof(*w));
	w->loop = l;
	w->cfg = cfg;
	w->st = st;
	w->wd = xcalloc(n, sizeof(*w->wd));
	w->base = xcalloc(n, sizeof(*w->base));
	w->pending = xcalloc(n, sizeof(*w->pending));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		err_set(err, "cannot watch the library files: %s", strerror(errno));
		libwatch_free(w);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *file = cfg->libraries[i].file, *slash = strrchr(file, '/');
		char *dir = slash ? xstrndup(file, slash == file ? 1 : (size_t)(slash - file))
				  : xstrdup(".");

		w->base[i] = xstrdup(slash ? slash + 1 : file);
		w->wd[i] = inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO);
		if (w->wd[i] < 0)
			log_warn("library \"%s\": cannot watch %s (%s): a change takes a reload",
				 cfg->libraries[i].name, dir, strerror(errno));
		free(dir);
	}
	w->settle = loop_timer_new(l, on_settle, w);
	fill(w);
	if (loop_watch(l, w->fd, EPOLLIN, on_events, w, err) != 0) {
		libwatch_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

void libwatch_free(struct libwatch *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		loop_unwatch(w->loop, w->fd);
		close(w->fd);
	}
	loop_timer_free(w->settle);
	for (size_t i = 0; w->base && i < w->cfg->n_libraries; i++)
		free(w->base[i]);
	free(w->base);
	free(w->wd);
	free(w->pending);
	free(w);
}
