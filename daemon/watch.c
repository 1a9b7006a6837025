/*
 * watch.c — inotify on the digest folder. IN_CLOSE_WRITE (a file written and closed),
 * IN_MOVED_TO (a file renamed in), IN_CREATE of a link and IN_ATTRIB (a file made readable) name
 * the files to read; IN_Q_OVERFLOW means events were lost, so everything is scanned again; the
 * folder's own removal, move or unmount sends the watcher up to the nearest ancestor that
 * exists, to wait for the folder to come back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"
#include "watch.h"
#include "xmalloc.h"

#define FILE_EVENTS                                                                                \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF |    \
	 IN_ONLYDIR)
#define WAIT_EVENTS                                                                                \
	(IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* Re-checks after watch changes before giving up on a folder appearing step by step. */
#define ATTACH_TRIES 64

/* Names never read, whatever the patterns say: hidden files and files still being written. */
static const char *const temporary[] = {".*", "*.tmp", "*.part", "*.swp", "*~", NULL};

/* Filesystems where inotify cannot see what other machines write. */
static const struct {
	long magic;
	const char *name;
} remote_fs[] = {
	{0x6969, "NFS"},
	{0x517b, "SMB"},
	{(long)0xff534d42, "CIFS"},
	{(long)0xfe534d42, "SMB2"},
	{0x65735546, "FUSE"},
	{0x564c, "NCP"},
	{0x7461636f, "OCFS2"},
	{0x00c36400, "Ceph"},
};

struct watcher {
	struct loop *loop;
	const struct config_watch *cfg;
	watch_file_fn fn;
	void *ctx;
	int fd;           /* the inotify descriptor */
	int wd;           /* the folder's watch, or -1 while it is gone */
	int wait_wd;      /* while gone: the watch on the ancestor we wait in, or -1 */
	char *dir;        /* the folder, as configured */
	char *real;       /* the folder's real path, for keeping symlinks inside it */
	char *waiting_in; /* the ancestor waited in */
	/* A rescan found files changed a moment ago that may still be being written: it looks
	 * again once they have settled. */
	struct loop_timer *settle;
};

bool watch_name_wanted(const struct config_watch *cfg, const char *name)
{
	bool included = false;

	for (size_t i = 0; temporary[i] != NULL; i++) {
		if (fnmatch(temporary[i], name, FNM_PERIOD) == 0)
			return false;
	}
	for (size_t i = 0; i < cfg->include.n && !included; i++)
		included = fnmatch(cfg->include.v[i], name, FNM_PERIOD) == 0;
	for (size_t i = 0; i < cfg->exclude.n && included; i++)
		included = fnmatch(cfg->exclude.v[i], name, FNM_PERIOD) != 0;
	return included;
}

/* Whether path is inside the folder (for a symlink's target). */
static bool inside(const struct watcher *w, const char *path)
{
	size_t n = w->real ? strlen(w->real) : 0;

	return w->real != NULL && strncmp(path, w->real, n) == 0 && path[n] == '/';
}

/* The path of the folder's file name into path; false when it is too long. */
static bool folder_path(const struct watcher *w, const char *name, char path[PATH_MAX])
{
	return (size_t)snprintf(path, PATH_MAX, "%s/%s", w->dir, name) < PATH_MAX;
}

/* Reports one name of the folder if it is a file paperwatch reads. */
static void offer(struct watcher *w, const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct stat st;

	if (!watch_name_wanted(w->cfg, name))
		return;
	if (!folder_path(w, name, path)) {
		log_warn("%s/%s: name too long, left alone", w->dir, name);
		return;
	}
	if (lstat(path, &st) != 0) {
		/* Gone between the event and now: its replacement, if any, has its own event. */
		if (errno == ENOENT)
			log_info("%s: gone before it could be read", path);
		else
			log_warn("%s: %s", path, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		if (realpath(path, target) == NULL || !inside(w, target)) {
			log_warn("%s: a symbolic link out of the folder, not followed", path);
			return;
		}
		if (stat(path, &st) != 0)
			return;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("%s: not a regular file, left alone", path);
		return;
	}
	w->fn(w->ctx, path, name);
}

static bool still_written(const struct watcher *w, const char *name);

/* A name that appeared without being written (`ln`, `ln -s`), or a file whose attributes
 * changed (made readable with chmod): offered as a file that is complete. A name created to be
 * written is not, since it is read once its writer closes it; a file read already and unchanged
 * is skipped by the state. */
static void offer_linked_or_changed(struct watcher *w, const char *name, bool created)
{
	char path[PATH_MAX];
	struct stat st;

	if (!watch_name_wanted(w->cfg, name) || !folder_path(w, name, path) ||
	    lstat(path, &st) != 0)
		return;
	if (created && !S_ISLNK(st.st_mode) && !(S_ISREG(st.st_mode) && st.st_nlink > 1))
		return;
	/* Unlike a close, neither says the file is complete. */
	if (!still_written(w, name))
		offer(w, name);
}

/* Sorts names so a folder is read in a predictable order. */
static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file changed this recently may still be being written. */
#define SETTLE_SECONDS 2.0

static bool modified_lately(const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (double)(now.tv_sec - st->st_mtim.tv_sec) +
		       (double)(now.tv_nsec - st->st_mtim.tv_nsec) / 1e9 <
	       SETTLE_SECONDS;
}

/* Whether the folder's file name is open for writing by some process, so that a rescan leaves
 * it for the close event its writer will send: an event says a file is complete, a rescan does
 * not, and a file read half-written may end in a cut id that names another paper. A read lease
 * cannot be had on a file open for writing; a process that may not take one (not the file's
 * owner, without CAP_LEASE) waits for a file changed in the last SETTLE_SECONDS instead. */
static bool still_written(const struct watcher *w, const char *name)
{
	char path[PATH_MAX];
	bool busy = false;
	struct stat st;
	int fd;

	if (!watch_name_wanted(w->cfg, name) || !folder_path(w, name, path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETLEASE, F_UNLCK);
	} else if (errno == EAGAIN) {
		busy = true;
	} else if (fstat(fd, &st) == 0 && modified_lately(&st)) {
		/* No lease for us: a file written a moment ago may still be open. Looked at again
		 * once it has settled, in case its writer has closed it already. */
		busy = true;
		loop_timer_set(w->settle, SETTLE_SECONDS);
	}
	close(fd);
	if (busy)
		log_info("%s: still being written; read when its writer closes it", path);
	return busy;
}

void watcher_rescan(struct watcher *w)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct arena text;
	struct dirent *e;
	DIR *d;

	if (w->wd < 0)
		return;
	d = opendir(w->dir);
	if (d == NULL) {
		log_error("%s: cannot read the folder: %s", w->dir, strerror(errno));
		return;
	}
	/* A folder may hold many thousand files: one array doubling, the names in one arena. */
	arena_init(&text);
	while ((e = readdir(d)) != NULL) {
		names = xgrow(names, &cap, n + 1, sizeof(*names));
		names[n++] = arena_strndup(&text, e->d_name, strlen(e->d_name));
	}
	closedir(d);
	/* qsort's array may not be NULL even when empty, and a folder removed between opendir() and
	 * readdir() lists no names at all, not even "." and "..". */
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (!still_written(w, names[i]))
			offer(w, names[i]);
	}
	arena_free(&text);
	free(names);
}

/* The reason inotify_add_watch failed, with the remedy when there is one. */
static void watch_error(const char *path, struct err *err)
{
	if (errno == ENOSPC)
		err_set(err,
			"%s: cannot watch: the inotify watch limit is reached (raise "
			"fs.inotify.max_user_watches, e.g. sysctl "
			"fs.inotify.max_user_watches=524288)",
			path);
	else
		err_set(err, "%s: cannot watch: %s", path, strerror(errno));
}

/* Warns when the folder is on a filesystem where inotify misses other machines' writes. */
static void check_filesystem(const char *dir)
{
	struct statfs fs;

	if (statfs(dir, &fs) != 0)
		return;
	for (size_t i = 0; i < sizeof(remote_fs) / sizeof(remote_fs[0]); i++) {
		if ((long)fs.f_type == remote_fs[i].magic)
			log_warn("%s is on %s: files written there by other machines are not seen "
				 "until paperwatch restarts or is reloaded; prefer a local folder",
				 dir, remote_fs[i].name);
	}
}

/* Watches the folder itself; false when it is not there or cannot be watched (err says why,
 * or is empty when the folder simply does not exist). */
static bool attach(struct watcher *w, struct err *err)
{
	char real[PATH_MAX];

	err->msg[0] = '\0';
	w->wd = inotify_add_watch(w->fd, w->dir, FILE_EVENTS);
	if (w->wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			watch_error(w->dir, err);
		return false;
	}
	free(w->real);
	w->real = realpath(w->dir, real) ? xstrdup(real) : NULL;
	check_filesystem(w->dir);
	return true;
}

/* The deepest existing ancestor of path, in a new string. */
static char *existing_ancestor(const char *path)
{
	char *p = xstrdup(path);
	struct stat st;

	for (;;) {
		char *slash = strrchr(p, '/');

		if (slash == NULL) {
			free(p);
			return xstrdup(".");
		}
		if (slash == p) {
			p[1] = '\0';
			return p;
		}
		*slash = '\0';
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return p;
	}
}

static void stop_waiting(struct watcher *w)
{
	if (w->wait_wd >= 0)
		inotify_rm_watch(w->fd, w->wait_wd);
	w->wait_wd = -1;
	free(w->waiting_in);
	w->waiting_in = NULL;
}

/* Attaches to the folder if it is there; else waits in its nearest existing ancestor for it
 * (or a nearer ancestor) to appear. Each new wait is followed by another look, so a folder made
 * while the watch moved is not missed. Returns whether the folder is attached. */
static bool reattach(struct watcher *w)
{
	for (int i = 0; i < ATTACH_TRIES; i++) {
		struct err err;
		char *anc;

		if (attach(w, &err)) {
			stop_waiting(w);
			return true;
		}
		if (err.msg[0] != '\0')
			log_error("%s", err.msg);
		anc = existing_ancestor(w->dir);
		if (w->waiting_in != NULL && strcmp(anc, w->waiting_in) == 0) {
			free(anc);
			return false;
		}
		stop_waiting(w);
		w->waiting_in = anc;
		w->wait_wd = inotify_add_watch(w->fd, anc, WAIT_EVENTS);
		if (w->wait_wd < 0) {
			watch_error(anc, &err);
			log_error("%s", err.msg);
			return false;
		}
	}
	return false;
}

/* Something changed where we wait: the folder may be back. */
static void retry_attach(struct watcher *w)
{
	if (reattach(w)) {
		log_info("%s: the folder is back; reading what it holds", w->dir);
		watcher_rescan(w);
	}
}

static void on_event(struct watcher *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		log_warn("%s: too many events at once, some were lost; reading the whole folder "
			 "again",
			 w->dir);
		watcher_rescan(w);
		return;
	}
	if (ev->wd == w->wd && ev->wd >= 0) {
		if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
			if (ev->len > 0 && !(ev->mask & IN_ISDIR))
				offer(w, ev->name);
		} else if ((ev->mask & (IN_CREATE | IN_ATTRIB)) && ev->len > 0 &&
			   !(ev->mask & IN_ISDIR)) {
			offer_linked_or_changed(w, ev->name, (ev->mask & IN_CREATE) != 0);
		} else if ((ev->mask & IN_ATTRIB) && ev->len == 0) {
			/* The folder's own permissions changed: what could not be read may be now.
			 */
			log_info("%s: the folder's attributes changed; reading it again", w->dir);
			watcher_rescan(w);
		} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
			if (ev->mask & IN_MOVE_SELF)
				inotify_rm_watch(w->fd,
						 w->wd); /* it watches the folder elsewhere */
			w->wd = -1;
			log_warn("%s: the folder was removed, moved away or unmounted; waiting for "
				 "it "
				 "to come back",
				 w->dir);
			retry_attach(w);
		}
	} else if (ev->wd == w->wait_wd && ev->wd >= 0) {
		if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
			/* The ancestor went too: wait further up. */
			free(w->waiting_in);
			w->waiting_in = NULL;
			w->wait_wd = -1;
		}
		retry_attach(w);
	}
}

static void on_inotify(void *ctx, int fd, uint32_t events)
{
	struct watcher *w = ctx;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)events;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				log_error("%s: reading inotify events: %s", w->dir,
					  strerror(errno));
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			on_event(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* Files a rescan left because they had just changed have settled: it looks again. */
static void on_settle(void *ctx)
{
	watcher_rescan(ctx);
}

int watcher_new(struct loop *l, const struct config_watch *cfg, watch_file_fn fn, void *ctx,
		struct watcher **out, struct err *err)
{
	struct watcher *w = xcalloc(1, sizeof(*w));

	w->loop = l;
	w->cfg = cfg;
	w->fn = fn;
	w->ctx = ctx;
	w->settle = loop_timer_new(l, on_settle, w);
	w->wd = w->wait_wd = -1;
	w->dir = xstrdup(cfg->dir);
	while (strlen(w->dir) > 1 && w->dir[strlen(w->dir) - 1] == '/')
		w->dir[strlen(w->dir) - 1] = '\0';
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		err_set(err, "inotify: %s%s", strerror(errno),
			errno == EMFILE ? " (raise fs.inotify.max_user_instances)" : "");
		goto fail;
	}
	if (loop_watch(l, w->fd, EPOLLIN, on_inotify, w, err) != 0)
		goto fail;
	if (!reattach(w))
		log_warn("%s: the folder is not there (or cannot be watched); waiting for it",
			 w->dir);
	*out = w;
	return 0;
fail:
	watcher_free(w);
	return -1;
}

void watcher_free(struct watcher *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		loop_unwatch(w->loop, w->fd);
		close(w->fd);
	}
	loop_timer_free(w->settle);
	free(w->waiting_in);
	free(w->dir);
	free(w->real);
	free(w);
}
