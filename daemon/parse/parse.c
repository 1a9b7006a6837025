/*
 * parse/parse.c — reading a digest through a window, refusing what is not a digest, handing the
 * text to the format family that recognises it, and the rest, which no record of it claimed, to
 * the fallback.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "format.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

/* The window starts this large: big enough for any sane record (it grows for a longer one),
 * small enough to stay in a core's L2 cache while it is parsed. */
#define WINDOW_DEFAULT ((size_t)256 << 10)
#define WINDOW_MIN     64
/* A NUL byte this early means a binary file, not a digest with a stray byte in it. */
#define BINARY_PROBE 8192
/* A digest says what it is (a heading, a table header, a "Title:") within this many bytes. */
#define DETECT_MAX ((size_t)64 << 10)
/* Front matter ends within this many bytes, or it is not front matter. */
#define FRONT_MATTER_MAX ((size_t)4 << 10)
/* Digests spend at least this many bytes on a paper; sizes the set of ids seen. */
#define BYTES_PER_PAPER 1024

/* The formats, in their order of detection: each is one format_*.c file. */
extern const struct format format_table;
extern const struct format format_records;
extern const struct format format_list;

static const struct format *const formats[] = {
	&format_table,
	&format_records,
	&format_list,
};

static size_t none_feed(struct parser *p, void *state, char *text, size_t len, bool last)
{
	(void)state;
	(void)last;
	p->line += lex_count_lines(text, len);
	return len;
}

static void *none_start(struct parser *p)
{
	(void)p;
	return NULL;
}

/* For text in no known format: it reads nothing itself, so every paper link is the fallback's. */
static const struct format format_none = {
	.name = "fallback",
	.detect = NULL,
	.start = none_start,
	.feed = none_feed,
};

/* Where the bytes come from: a file, or memory (tests, the fuzzer). */
struct source {
	int fd;
	const char *mem;
	size_t left; /* bytes still to read: the size seen when the file was opened */
};

struct window {
	char *buf;
	size_t cap;    /* room in buf, besides one byte for a NUL */
	size_t len;    /* bytes in buf */
	size_t valid;  /* buf[0..valid) is known to be valid UTF-8 */
	size_t offset; /* where buf[0] is in the file */
	bool eof;
	size_t first_bad; /* file offset of the first ill-formed UTF-8, if any */
};

static ssize_t source_read(struct source *src, char *buf, size_t n)
{
	ssize_t r;

	if (n > src->left)
		n = src->left;
	if (n == 0)
		return 0;
	if (src->mem != NULL) {
		memcpy(buf, src->mem, n);
		src->mem += n;
		src->left -= n;
		return (ssize_t)n;
	}
	do {
		r = read(src->fd, buf, n);
	} while (r < 0 && errno == EINTR);
	if (r > 0)
		src->left -= (size_t)r;
	return r;
}

/* Tops the window up from the source; a file that shrank while we read ends early, one that
 * grew is read as it was when we looked (its growth is another event). */
static int window_fill(struct parser *p, struct window *w, struct source *src, struct err *err)
{
	while (w->len < w->cap && !w->eof) {
		ssize_t r = source_read(src, w->buf + w->len, w->cap - w->len);

		if (r < 0)
			return err_set(err, "%s: cannot read: %s", p->path, strerror(errno));
		if (r == 0)
			w->eof = true;
		else if (p->opts->raw != NULL)
			p->opts->raw(p->opts->ctx, w->buf + w->len, (size_t)r);
		w->len += (size_t)r;
	}
	w->buf[w->len] = '\0';
	return 0;
}

static void window_grow(struct window *w, size_t cap)
{
	w->cap = cap;
	w->buf = xreallocarray(w->buf, cap + 1, 1);
}

/* The length of the part of the window made of whole lines: all of it at the end of the file. */
static size_t window_whole(const struct window *w)
{
	const char *nl;

	if (w->eof)
		return w->len;
	nl = memrchr(w->buf, '\n', w->len);
	return nl ? (size_t)(nl - w->buf) + 1 : 0;
}

/* Makes buf[0..*whole) valid UTF-8, replacing ill-formed sequences with U+FFFD in place of the
 * original bytes; *whole grows by what the replacements add. Returns the replacements made. */
static size_t window_repair(struct window *w, size_t *whole)
{
	size_t ok, fixed_len, n_bad, tail;
	char *fixed;

	ok = w->valid + utf8_valid_prefix(w->buf + w->valid, *whole - w->valid);
	if (ok == *whole) {
		w->valid = ok;
		return 0;
	}
	if (w->first_bad == (size_t)-1)
		w->first_bad = w->offset + ok;
	fixed = utf8_repair(w->buf + ok, *whole - ok, &fixed_len, &n_bad);
	tail = w->len - *whole;
	if (ok + fixed_len + tail > w->cap)
		window_grow(w, ok + fixed_len + tail);
	memmove(w->buf + ok + fixed_len, w->buf + *whole, tail);
	memcpy(w->buf + ok, fixed, fixed_len);
	free(fixed);
	w->len = ok + fixed_len + tail;
	w->buf[w->len] = '\0';
	*whole = w->valid = ok + fixed_len;
	return n_bad;
}

/* Refuses, from its first bytes, what cannot be a digest; skips a UTF-8 byte order mark. (UTF-16
 * text, with its byte order mark, was made UTF-8 before.) */
static int window_check_start(struct parser *p, struct window *w, size_t *whole, struct err *err)
{
	const unsigned char *u = (const unsigned char *)w->buf;
	size_t probe;

	if (w->offset < BINARY_PROBE) {
		probe = BINARY_PROBE - w->offset < w->len ? BINARY_PROBE - w->offset : w->len;
		if (memchr(w->buf, '\0', probe) != NULL)
			return err_set(err, "%s: binary data, not a text digest", p->path);
	}
	if (w->offset == 0 && *whole >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		memmove(w->buf, w->buf + 3, w->len - 3 + 1);
		w->len -= 3;
		*whole -= 3;
		w->offset = 3;
	}
	return 0;
}

/* Looks for the format in the window's whole lines: the first line some format recognises, where
 * a weak format counts only when no other format's line comes. */
static const struct format *detect(char *buf, size_t len, bool *weak)
{
	const struct format *found_weak = NULL;
	struct lines it;
	struct span line;

	*weak = false;
	lines_init(&it, buf, len, 1);
	while (lines_next(&it, &line)) {
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			if (formats[i]->weak && found_weak != NULL)
				continue;
			if (!formats[i]->detect(line))
				continue;
			if (!formats[i]->weak)
				return formats[i];
			found_weak = formats[i];
		}
	}
	*weak = found_weak != NULL;
	return found_weak;
}

/* Whether a line links an arXiv paper (a record, then, not front matter). */
static bool front_links_paper(struct span line)
{
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX];
	struct link_scan ls;
	struct span url;

	link_scan_init(&ls, line);
	return link_scan_next(&ls, &url, id, version);
}

/* The length of a YAML front matter block ("---", "key: value" lines, "---") opening buf, as
 * GitHub Pages copies of digests have; 0 when there is none. A block with a paper link in it is
 * a record, not front matter; *lines counts the lines it holds. */
static size_t front_matter(char *buf, size_t len, unsigned *lines)
{
	struct span rest = {buf, len}, line;
	struct lines it;

	*lines = 0;
	if (!span_starts(rest, "---\n") && !span_starts(rest, "---\r\n"))
		return 0;
	lines_init(&it, rest.s, len < FRONT_MATTER_MAX ? len : FRONT_MATTER_MAX, 1);
	lines_next(&it, &line);
	while (lines_next(&it, &line)) {
		struct span t = span_trim(line);

		if (front_links_paper(line))
			return 0;
		if (it.no > 1 && (span_is(t, "---") || span_is(t, "..."))) {
			*lines = it.no;
			return (size_t)(it.p - buf);
		}
	}
	return 0;
}

/* The length of the blank lines that open buf[0..len), all of them whole; *lines counts them. */
static size_t leading_blank(const char *buf, size_t len, unsigned *lines)
{
	size_t i = 0, start = 0;

	*lines = 0;
	for (; i < len; i++) {
		if (buf[i] == '\n') {
			start = i + 1;
			(*lines)++;
		} else if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r') {
			break;
		}
	}
	return i == len ? len : start;
}

/* Drops the first n bytes of the window (parsed, or blank). */
static void window_drop(struct window *w, size_t n)
{
	memmove(w->buf, w->buf + n, w->len - n + 1);
	w->len -= n;
	w->valid -= n;
	w->offset += n;
}

/* What the start of the text says, before any record is fed. */
enum start_step {
	START_MORE,   /* refill the window (blank lines were dropped, or detection needs more) */
	START_NONE,   /* no text at all */
	START_FORMAT, /* *fmt is the format */
};

/* Drops blank lines before any text (so a file of only blank lines is empty however long, and
 * detection counts from the first text) and detects the format. Nothing else is consumed before
 * the format is known, so what a digest holds before its signature line is parsed too. */
static enum start_step window_start(struct parser *p, struct window *w, size_t whole,
				    const struct format **fmt)
{
	unsigned blank_lines;
	size_t blank = leading_blank(w->buf, whole, &blank_lines);
	const struct format *found;
	bool weak;

	if (blank > 0 && !(blank == whole && w->eof)) {
		p->line += blank_lines;
		window_drop(w, blank);
		return START_MORE;
	}
	if (blank == whole)
		return START_NONE;
	if (p->line == 1) {
		unsigned fm_lines;
		size_t fm = front_matter(w->buf, whole, &fm_lines);

		if (fm > 0) {
			p->line += fm_lines;
			window_drop(w, fm);
			return START_MORE;
		}
		if (whole < FRONT_MATTER_MAX && !w->eof &&
		    span_starts((struct span){w->buf, whole}, "---")) {
			window_grow(w, w->cap * 2); /* the front matter may close further on */
			return START_MORE;
		}
	}
	found = detect(w->buf, whole < DETECT_MAX ? whole : DETECT_MAX, &weak);
	if (found == NULL || weak) {
		if (!w->eof && whole < DETECT_MAX) {
			window_grow(w, w->cap * 2); /* a stronger format's line may come */
			return START_MORE;
		}
	}
	*fmt = found != NULL ? found : &format_none;
	return START_FORMAT;
}

/* Feeds text[0..len) to the format, then lets the fallback look at what no record claimed.
 * Returns the bytes used. */
static size_t feed(struct parser *p, const struct format *fmt, void *state, char *text, size_t len,
		   bool last)
{
	size_t used;
	unsigned used_line;

	p->text = text;
	used = fmt->feed(p, state, text, len, last);
	/* The format says where it stopped: the first line it did not use, or, when it used the
	 * whole text, the line after the last (the last itself when the file ends without a line
	 * break). */
	used_line = p->line;
	if (used == len && len > 0 && text[len - 1] != '\n')
		used_line--;
	fallback_collect(p, text, used, used_line);
	return used;
}

/* Says how much of the file its format read, when not all of it. */
static void report(struct parser *p)
{
	if (p->n_fallback == 0)
		return;
	if (p->n_fallback == p->n_papers)
		p->format = format_none.name; /* what the file seemed to be read nothing */
	if (strcmp(p->format, format_none.name) == 0)
		log_warn("%s: not in a known digest format; %zu paper%s read by the fallback from "
			 "the links to them, the first at line %u",
			 p->path, p->n_fallback, p->n_fallback == 1 ? "" : "s", p->first_bad);
	else
		log_warn("%s: only partly read as %s: %zu paper%s read by the format, %zu only by "
			 "the fallback from links no record held; the format stopped making sense "
			 "at line %u",
			 p->path, p->format, p->n_papers - p->n_fallback,
			 p->n_papers - p->n_fallback == 1 ? "" : "s", p->n_fallback, p->first_bad);
}

/* Reads the source window by window, feeding the format; the heart of the parser. */
static int parse_stream(struct parser *p, struct source *src, struct parse_result *res,
			struct err *err)
{
	struct window w = {.first_bad = (size_t)-1};
	const struct format *fmt = NULL;
	void *state = NULL;
	int rc = -1;
	size_t cap = p->opts->window >= WINDOW_MIN ? p->opts->window : WINDOW_DEFAULT;

	/* A file smaller than the window fits in one of its size (it is read as it was when
	 * opened): no 256 KiB taken, and given back, for a digest of a few KiB. */
	if (src->left < cap - 1)
		cap = src->left + 1 > WINDOW_MIN ? src->left + 1 : WINDOW_MIN;
	window_grow(&w, cap);
	for (;;) {
		size_t whole, used;

		if (window_fill(p, &w, src, err) != 0)
			goto out;
		whole = window_whole(&w);
		if (w.offset < BINARY_PROBE && window_check_start(p, &w, &whole, err) != 0)
			goto out;
		if (whole == 0 && !w.eof) {
			window_grow(&w, w.cap * 2); /* one line longer than the window */
			continue;
		}
		res->bad_utf8 += window_repair(&w, &whole);
		if (fmt == NULL) {
			enum start_step step = window_start(p, &w, whole, &fmt);

			if (step == START_NONE)
				break;
			if (step == START_MORE)
				continue;
			p->format = fmt->name; /* until the format names itself more exactly */
			state = fmt->start(p);
		}
		used = feed(p, fmt, state, w.buf, whole, w.eof);
		if (w.eof)
			break;
		if (used == 0) {
			window_grow(&w, w.cap * 2); /* one record longer than the window */
			continue;
		}
		window_drop(&w, used);
		arena_reset(&p->scratch);
	}
	if (fmt != NULL && fmt->end != NULL)
		fmt->end(p, state);
	fallback_emit(p);
	if (fmt == &format_none && p->n_papers == 0) {
		err_set(err,
			"%s: not in a known digest format (no '## Papers for' heading, paper table "
			"header, 'Title:' record or list of paper links in the first %zu KiB) and "
			"no link to an arXiv paper",
			p->path, DETECT_MAX >> 10);
		goto out;
	}
	report(p);
	if (res->bad_utf8 > 0)
		log_warn("%s: %zu ill-formed UTF-8 sequence%s replaced with U+FFFD, the first at "
			 "byte %zu",
			 p->path, res->bad_utf8, res->bad_utf8 == 1 ? "" : "s", w.first_bad);
	if (p->n_skipped > PARSER_SKIP_WARN_MAX)
		log_warn("%s: %zu records skipped in all (%zu not shown)", p->path, p->n_skipped,
			 p->n_skipped - PARSER_SKIP_WARN_MAX);
	rc = 0;
out:
	if (state != NULL && fmt->free != NULL)
		fmt->free(state);
	res->format = p->format;
	res->papers = p->n_papers;
	res->fallback = p->n_fallback;
	res->skipped = p->n_skipped;
	res->first_bad = p->first_bad;
	free(w.buf);
	return rc;
}

/* Whether text[0..n) opens with a UTF-16 byte order mark; *big says which order. */
static bool utf16_bom(const char *text, size_t n, bool *big)
{
	const unsigned char *u = (const unsigned char *)text;

	*big = n >= 2 && u[0] == 0xfe && u[1] == 0xff;
	return *big || (n >= 2 && u[0] == 0xff && u[1] == 0xfe);
}

/* Parses UTF-16 text, its byte order mark first, as the UTF-8 it stands for. The text is made
 * UTF-8 whole, not window by window: digests in UTF-16 (what Windows PowerShell writes by
 * default) are rare, and the size limit bounds them. raw sees the bytes as they were. */
static int parse_utf16(struct parser *p, const char *text, size_t n, bool big,
		       struct parse_result *res, struct err *err)
{
	struct parse_opts opts = *p->opts;
	const struct parse_opts *given = p->opts;
	struct source src = {.fd = -1};
	size_t len, bad;
	char *utf8;
	int rc;

	if (opts.raw != NULL)
		opts.raw(opts.ctx, text, n);
	opts.raw = NULL;
	p->opts = &opts;
	utf8 = utf8_from_utf16(text + 2, n - 2, big, &len, &bad);
	src.mem = utf8;
	src.left = len;
	rc = parse_stream(p, &src, res, err);
	if (rc == 0 && bad > 0)
		log_warn("%s: %zu ill-formed UTF-16 sequence%s replaced with U+FFFD", p->path, bad,
			 bad == 1 ? "" : "s");
	p->opts = given;
	free(utf8);
	return rc;
}

/* Reads the n bytes of the file at fd into a buffer the caller owns; NULL with errno set when
 * it cannot, or when the file shrank under us (then errno is 0). */
static char *read_whole(int fd, size_t n)
{
	char *buf = xmalloc(n + 1);
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int saved = r < 0 ? errno : 0;

			free(buf);
			errno = saved;
			return NULL;
		}
		got += (size_t)r;
	}
	return buf;
}

static void parser_init(struct parser *p, const char *path, const struct parse_opts *opts)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t len, n_bad;

	memset(p, 0, sizeof(*p));
	p->path = path;
	p->source = utf8_repair(base, strlen(base), &len, &n_bad);
	p->opts = opts;
	p->line = 1;
	arena_init(&p->keep);
	arena_init(&p->scratch);
	idset_init(&p->emitted);
	fallback_init(&p->fallback);
}

static void parser_free(struct parser *p)
{
	free(p->source);
	arena_free(&p->keep);
	arena_free(&p->scratch);
	idset_free(&p->emitted);
	fallback_free(&p->fallback);
}

/* O_NONBLOCK so that a FIFO dropped in the folder cannot hang us in open(). */
#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Opens path, which is FOLDER/NAME, only if what it names is inside folder: openat2 with
 * RESOLVE_BENEATH follows a symbolic link that stays inside and fails with EXDEV for one that
 * leaves, atomically. Where the kernel has no openat2, no symbolic link is followed at all. */
static int open_beneath(const char *folder, const char *path)
{
	struct open_how how = {.flags = OPEN_FLAGS,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	size_t n = strlen(folder);
	const char *name;
	int dir, fd, saved;

	while (n > 1 && folder[n - 1] == '/') /* "inbox/" is the folder "inbox" */
		n--;
	name = path + n + 1;
	if (strncmp(path, folder, n) != 0 || path[n] != '/') {
		errno = EXDEV;
		return -1;
	}
	dir = open(folder, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(dir, name, OPEN_FLAGS | O_NOFOLLOW);
	saved = errno;
	close(dir);
	errno = saved;
	return fd;
}

/* Parses the file as UTF-16 when its first bytes are a UTF-16 byte order mark; returns 1, the
 * file still unread, when they are not. */
static int parse_maybe_utf16(struct parser *p, struct source *src, struct parse_result *res,
			     struct err *err)
{
	char bom[2];
	bool big;
	char *text;
	int rc;

	if (pread(src->fd, bom, sizeof(bom), 0) != (ssize_t)sizeof(bom) ||
	    !utf16_bom(bom, sizeof(bom), &big))
		return 1;
	text = read_whole(src->fd, src->left);
	if (text == NULL)
		return err_set(err, "%s: cannot read: %s", p->path,
			       errno != 0 ? strerror(errno) : "it shrank while it was read");
	rc = parse_utf16(p, text, src->left, big, res, err);
	src->left = 0;
	free(text);
	return rc;
}

int parse_file(const char *path, const struct parse_opts *opts, struct parse_result *res,
	       struct err *err)
{
	size_t max = opts->max_size ? opts->max_size : PARSE_MAX_SIZE_DEFAULT;
	struct source src = {.fd = -1};
	struct parser p;
	struct stat st;
	int rc;

	memset(res, 0, sizeof(*res));
	src.fd = opts->folder ? open_beneath(opts->folder, path) : open(path, OPEN_FLAGS);
	if (src.fd < 0)
		return err_set(err, "%s: cannot open: %s", path,
			       errno == EXDEV ? "a symbolic link out of the folder, not followed"
					      : strerror(errno));
	if (fstat(src.fd, &st) != 0) {
		err_set(err, "%s: cannot stat: %s", path, strerror(errno));
		close(src.fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, "%s: not a regular file", path);
		close(src.fd);
		return -1;
	}
	if ((unsigned long long)st.st_size > max) {
		err_set(err, "%s: too large: %lld bytes, the limit is %zu", path,
			(long long)st.st_size, max);
		close(src.fd);
		return -1;
	}
	src.left = (size_t)st.st_size;
	res->dev = (unsigned long long)st.st_dev;
	res->ino = (unsigned long long)st.st_ino;
	res->size = (long long)st.st_size;
	res->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	parser_init(&p, path, opts);
	idset_reserve(&p.emitted, src.left / BYTES_PER_PAPER);
	rc = src.left >= 2 ? parse_maybe_utf16(&p, &src, res, err) : 1;
	if (rc > 0)
		rc = parse_stream(&p, &src, res, err);
	if (rc == 0 && src.left > 0)
		log_warn(
			"%s: the file shrank while it was read (%llu of %lld bytes); read what was "
			"there, and it is read again when its writer closes it",
			path, (unsigned long long)((size_t)st.st_size - src.left),
			(long long)st.st_size);
	parser_free(&p);
	close(src.fd);
	return rc;
}

int parse_memory(const char *name, const char *text, size_t len, const struct parse_opts *opts,
		 struct parse_result *res, struct err *err)
{
	struct source src = {.fd = -1, .mem = text, .left = len};
	struct parser p;
	bool big;
	int rc;

	memset(res, 0, sizeof(*res));
	parser_init(&p, name, opts);
	if (utf16_bom(text, len, &big))
		rc = parse_utf16(&p, text, len, big, res, err);
	else
		rc = parse_stream(&p, &src, res, err);
	parser_free(&p);
	return rc;
}

bool parse_partial(const struct parse_result *res)
{
	return res->fallback > 0 || res->skipped > 0;
}
