/*
 * notify_file.c — the file channel: one JSON line per alerted paper, appended to a file or
 * written to standard output. It is what the default configuration uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "xmalloc.h"

struct file_conf {
	char *path; /* "-" for standard output */
};

static const struct conf_key file_keys[] = {
	{.name = "", .type = CONF_INCLUDE, .sub = notify_common_keys, .desc = "name and type"},
	{
		.name = "path",
		.type = CONF_STRING,
		.required = true,
		.offset = offsetof(struct file_conf, path),
		.desc = "the file the JSON lines are appended to; \"-\" for standard output",
	},
	{.name = NULL},
};

/* The folder the file is to be in must be one already: every delivery would fail otherwise. */
static int check_folder(struct conf_ctx *c, const config_setting_t *entry, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;
	int rc = 0;

	if (strcmp(path, "-") == 0 || slash == NULL)
		return 0;
	dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st) != 0) {
		conf_error(c, config_setting_get_member(entry, "path"),
			   "path %s: its folder %s: %s; create it first", path, dir,
			   strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		conf_error(c, config_setting_get_member(entry, "path"),
			   "path %s: %s is not a folder", path, dir);
		rc = -1;
	}
	free(dir);
	return rc;
}

static int file_check(struct conf_ctx *c, const config_setting_t *entry, void **conf)
{
	struct file_conf *f = xcalloc(1, sizeof(*f));
	struct stat st;

	*conf = f;
	if (conf_read_group(c, entry, file_keys, f) != 0)
		return -1;
	if (f->path[0] == '\0') {
		conf_error(c, entry, "path must name a file, or be \"-\" for standard output");
		return -1;
	}
	/* A FIFO or a device would take the same lines again on every retry, or block. */
	if (strcmp(f->path, "-") != 0 && stat(f->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		conf_error(c, entry, "%s is not a regular file; the file channel appends to one",
			   f->path);
		return -1;
	}
	return check_folder(c, entry, f->path);
}

static int append_json(const char *buf, size_t size, void *data)
{
	notify_text_add(data, buf, size);
	return 0;
}

/* One message for the whole batch: a JSON line per paper, the paper object plus its source and
 * the message's key, written straight into one growing buffer. */
static int file_format(const struct notifier *n, const struct alert_batch *b,
		       struct message_list *out, struct err *err)
{
	struct notify_text body = {0};
	char *key = message_list_next_key(out, b);
	json_t *period = b->period ? notify_period_json(b) : NULL;

	(void)n;
	(void)err;
	for (size_t i = 0; i < b->n_alerts; i++) {
		const struct alert *a = &b->alerts[i];
		bool first = true;

		notify_text_add(&body, "{", 1);
		notify_paper_json_members(&body, &first, a);
		/* A scheduled message's papers come from several digests: each names its own. */
		notify_json_member(&body, &first, "source",
				   b->period && a->paper->source ? a->paper->source : b->source);
		notify_json_value(&body, &first, "period", period);
		/* A line written again after a crash carries the same key: a reader drops it. */
		notify_json_member(&body, &first, "message", key);
		notify_text_add(&body, "}\n", 2);
	}
	json_decref(period);
	message_list_add(out, b, body.s, body.len, b->n_alerts);
	free(key);
	return 0;
}

/* A notice: one JSON line, its fields and the message's key. */
static int file_format_notice(const struct notifier *n, const struct notice *nt,
			      struct message_list *out, struct err *err)
{
	struct notify_text body = {0};
	json_t *o = notify_notice_json(nt);
	char *key = xasprintf("%s-%zu", nt->key, out->n);

	(void)n;
	(void)err;
	json_object_set_new(o, "message", json_string(key));
	json_dump_callback(o, append_json, &body, JSON_COMPACT);
	json_decref(o);
	notify_text_add(&body, "\n", 1);
	message_list_add_notice(out, nt, body.s, body.len);
	free(key);
	return 0;
}

/* Writes all of buf, whatever the short writes. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int file_deliver(const struct notifier *n, const struct message *m, struct err *err)
{
	const struct file_conf *f = n->conf;
	struct stat st;
	int fd, rc;

	if (strcmp(f->path, "-") == 0) {
		if (write_all(STDOUT_FILENO, m->body, m->len) != 0)
			return err_set(err, "standard output: %s", strerror(errno));
		return 0;
	}
	/* O_NONBLOCK: a FIFO put in the file's place, with no reader, cannot hang the daemon. */
	fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0)
		return err_set(err, "%s: cannot open: %s", f->path,
			       errno == ENXIO ? "not a regular file (a FIFO nobody reads)"
					      : strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, "%s: not a regular file; the file channel appends to one",
			       f->path);
	}
	/* One write per message, so lines of two messages never interleave; fsync, because the
	 * outbox records the message as delivered right after. */
	rc = write_all(fd, m->body, m->len);
	if (rc == 0)
		rc = fsync(fd);
	if (rc != 0) {
		err_set(err, "%s: cannot write: %s", f->path, strerror(errno));
		/* A torn line would be glued to the retry's first one: the file goes back to how
		 * it was before this message. */
		if (ftruncate(fd, st.st_size) != 0)
			err_prefix(err, "%s: cannot cut a torn write back: %s; ", f->path,
				   strerror(errno));
	}
	close(fd);
	return rc;
}

static void file_free(void *conf)
{
	conf_free_group(file_keys, conf);
	free(conf);
}

const struct notifier_ops notifier_file = {
	.type = "file",
	.check = file_check,
	.format = file_format,
	.format_notice = file_format_notice,
	.deliver = file_deliver,
	.free = file_free,
};
