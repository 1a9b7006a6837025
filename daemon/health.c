/*
 * health.c — the health checks: each condition (quiet per watch.expect pattern; small, stale and
 * partial per format, so two generators in one folder do not flap) kept in memory as the state
 * has it, changed only by a digest or by the quiet check's one timer, never by polling.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli.h"
#include "health.h"
#include "hex.h"
#include "log.h"
#include "notify.h"
#include "utf8.h"
#include "xmalloc.h"

#define NOTICE_KEY_STEM  "health_"
#define NOTICE_KEY_BYTES 16
/* A condition's detail for people, and a name or pattern in it. */
#define DETAIL_MAX     1024
#define NAME_MAX_SHOWN 200

/* One condition, as the state's health table has it. */
struct cond {
	char *condition, *subject;
	bool active;
	long long since_ms, last_ms;
	char *detail;
};

struct health {
	struct state *st;
	const struct config *cfg;
	struct cond *v;
	size_t n, cap;
	struct loop_timer *quiet; /* at the earliest deadline of a pattern not yet quiet */
	health_changed_fn changed;
	void *ctx;
	bool any_change; /* a condition started or cleared in the check under way */
};

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

size_t health_median(size_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_size);
	return v[(n - 1) / 2];
}

/* The condition (condition, subject), made (cleared, never seen) when it is not there yet. */
static struct cond *cond_get(struct health *h, const char *condition, const char *subject)
{
	struct cond *c;

	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->v[i].condition, condition) == 0 &&
		    strcmp(h->v[i].subject, subject) == 0)
			return &h->v[i];
	}
	h->v = xgrow(h->v, &h->cap, h->n + 1, sizeof(*h->v));
	c = &h->v[h->n++];
	*c = (struct cond){.condition = xstrdup(condition),
			   .subject = xstrdup(subject),
			   .detail = xstrdup("")};
	return c;
}

static void on_loaded(void *ctx, const struct state_health *sh)
{
	struct cond *c = cond_get(ctx, sh->condition, sh->subject);

	c->active = sh->active;
	c->since_ms = sh->since_ms;
	c->last_ms = sh->last_ms;
	free(c->detail);
	c->detail = xstrdup(sh->detail);
}

/* Writes the condition as memory has it, in the transaction that is open. */
static int cond_put(struct health *h, const struct cond *c, struct err *err)
{
	struct state_health sh = {.condition = c->condition,
				  .subject = c->subject,
				  .active = c->active,
				  .since_ms = c->since_ms,
				  .last_ms = c->last_ms,
				  .detail = c->detail};

	return state_health_put(h->st, &sh, err);
}

/* A name from the folder as a notice and the log can carry it: valid UTF-8, cut short. The
 * caller frees it. */
static char *shown(const char *name)
{
	size_t n = strlen(name), len, bad;
	char *s = utf8_repair(name, n, &len, &bad);

	if (len > NAME_MAX_SHOWN)
		memcpy(s + utf8_cut(s, len, NAME_MAX_SHOWN), "…", sizeof("…"));
	return s;
}

/* "24h", "7d", "90m", "30s": a duration as watch.expect would write it. */
static void duration_text(double seconds, char *out, size_t size)
{
	long long s = (long long)seconds;

	if (s % 86400 == 0 && s >= 2 * 86400LL)
		snprintf(out, size, "%lldd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, size, "%lldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, size, "%lldm", s / 60);
	else
		snprintf(out, size, "%llds", s);
}

/* A wall-clock time in UTC, for notices read anywhere: "2026-12-02 08:00:00 UTC". */
static void time_text(long long ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "-");
}

/* Queues the notice of c starting or clearing to every notifier of health.notify. */
static int notice_queue(struct health *h, const struct cond *c, const char *title, size_t *queued,
			struct err *err)
{
	unsigned char r[NOTICE_KEY_BYTES];
	char key[sizeof(NOTICE_KEY_STEM) + HEX_LEN(NOTICE_KEY_BYTES)];
	long long now = state_now_ms();
	struct notice nt = {.type = "health",
			    .condition = c->condition,
			    .subject = c->subject,
			    .clears = !c->active,
			    .title = title,
			    .detail = c->detail,
			    .key = key,
			    .created_ms = now};

	if (h->cfg->health.n_targets == 0)
		return 0;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return err_set(err, "cannot read random bytes for message ids: %s",
			       strerror(errno));
	memcpy(key, NOTICE_KEY_STEM, sizeof(NOTICE_KEY_STEM) - 1);
	hex_encode(r, sizeof(r), key + sizeof(NOTICE_KEY_STEM) - 1);
	for (size_t i = 0; i < h->cfg->health.n_targets; i++) {
		const struct notifier *n = &h->cfg->notifiers[h->cfg->health.targets[i]];
		struct message_list msgs = {0};
		int rc = 0;

		if (n->ops->format_notice(n, &nt, &msgs, err) != 0)
			return err_prefix(err, "%s: ", n->name);
		for (size_t j = 0; j < msgs.n && rc == 0; j++)
			rc = state_outbox_add(h->st, n->name, msgs.v[j].key, c->subject,
					      msgs.v[j].body, msgs.v[j].len, 0, now, err);
		*queued += msgs.n;
		message_list_free(&msgs);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Starts or clears c (active says which), with its detail and the notice's title: the state
 * changed in the open transaction, the log told, the notice queued. */
static int cond_change(struct health *h, struct cond *c, bool active, const char *title,
		       const char *detail, size_t *queued, struct err *err)
{
	c->active = active;
	h->any_change = true;
	if (active)
		c->since_ms = state_now_ms();
	free(c->detail);
	c->detail = xstrdup(detail);
	if (active)
		log_warn("health: %s: %s", title, detail);
	else
		log_info("health: %s: %s", title, detail);
	if (cond_put(h, c, err) != 0)
		return -1;
	return notice_queue(h, c, title, queued, err);
}

/* ---- quiet: no digest matching a pattern within its watch.expect ---- */

/* The pattern as a notice says it. */
static void pattern_text(const char *pattern, char *out, size_t size)
{
	char *p = shown(pattern);

	if (strcmp(pattern, "*") == 0)
		snprintf(out, size, "no digest");
	else
		snprintf(out, size, "no digest matching %s", p);
	free(p);
}

/* A check's writes were rolled back (the state failed): memory goes back to what the state
 * holds, so the next check says again what this one could not record. */
static void resync(struct health *h, struct err *err)
{
	struct err again;

	log_error("health: %s", err->msg);
	if (health_reload(h, &again) != 0)
		log_error("health: %s", again.msg);
}

/* Ends a check's transaction (open: one was begun): committed when the check went well, its
 * changes told; rolled back otherwise, and what is in memory read again from the state. */
static void check_end(struct health *h, bool open, int rc, size_t queued, struct err *err)
{
	if (open && rc == 0)
		rc = state_commit(h->st, err);
	else if (open)
		state_rollback(h->st);
	if (rc != 0)
		resync(h, err);
	else if (h->any_change)
		h->changed(h->ctx, queued);
	h->any_change = false;
}

/* Opens the transaction of a check at its first write. */
static int begin_once(struct health *h, bool *open, struct err *err)
{
	if (*open)
		return 0;
	if (state_begin(h->st, err) != 0)
		return -1;
	*open = true;
	return 0;
}

/* Raises the quiet condition of pattern e, whose last digest came at c->last_ms. */
static int quiet_raise(struct health *h, const struct config_expect *e, struct cond *c,
		       size_t *queued, struct err *err)
{
	char title[512], detail[DETAIL_MAX], every[32], last[64];

	duration_text(e->every, every, sizeof(every));
	time_text(c->last_ms, last, sizeof(last));
	pattern_text(e->pattern, title, sizeof(title));
	snprintf(title + strlen(title), sizeof(title) - strlen(title), " for %s", every);
	/* Until it is raised, the detail of a quiet condition names the last digest, if any. */
	if (c->detail[0] != '\0')
		snprintf(detail, sizeof(detail),
			 "The last, %s, came at %s; watch.expect says one comes every %s. The "
			 "generator may have stopped.",
			 c->detail, last, every);
	else
		snprintf(
			detail, sizeof(detail),
			"None has come since paperwatch began waiting at %s; watch.expect says one "
			"comes every %s.",
			last, every);
	return cond_change(h, c, true, title, detail, queued, err);
}

/* Raises the quiet condition of every expected pattern past its deadline, and arms the timer
 * for the next deadline. Called by the timer, at start, after a reload and after a digest. */
static void quiet_check(void *ctx)
{
	struct health *h = ctx;
	long long now = state_now_ms(), next = -1;
	size_t queued = 0;
	struct err err;
	bool open = false;
	int rc = 0;

	for (size_t i = 0; i < h->cfg->watch.n_expects && rc == 0; i++) {
		const struct config_expect *e = &h->cfg->watch.expects[i];
		struct cond *c = cond_get(h, "quiet", e->pattern);
		long long due;

		if (c->last_ms == 0) {
			/* Never seen: the wait starts now, and is remembered. */
			c->last_ms = now;
			if ((rc = begin_once(h, &open, &err)) == 0)
				rc = cond_put(h, c, &err);
		}
		due = c->last_ms + (long long)(e->every * 1000);
		if (c->active || rc != 0)
			continue;
		if (due > now) {
			next = next < 0 || due < next ? due : next;
			continue;
		}
		if ((rc = begin_once(h, &open, &err)) == 0)
			rc = quiet_raise(h, e, c, &queued, &err);
	}
	check_end(h, open, rc, queued, &err);
	/* The timer is monotonic, the deadlines wall-clock: a clock set while it runs is looked
	 * at again through health_clock_set. */
	loop_timer_set(h->quiet, next < 0 ? -1 : (double)(next - now) / 1000.0);
}

/* A digest came: every pattern it matches waits anew, and is no longer quiet. */
static int quiet_digest(struct health *h, const char *name, const char *shown_name, size_t *queued,
			struct err *err)
{
	long long now = state_now_ms();

	for (size_t i = 0; i < h->cfg->watch.n_expects; i++) {
		const struct config_expect *e = &h->cfg->watch.expects[i];
		struct cond *c;
		char title[512], detail[DETAIL_MAX], last[64], *p;
		long long last_ms;

		if (fnmatch(e->pattern, name, FNM_PERIOD) != 0)
			continue;
		c = cond_get(h, "quiet", e->pattern);
		last_ms = c->last_ms;
		c->last_ms = now;
		if (!c->active) {
			free(c->detail);
			c->detail = xstrdup(shown_name);
			if (cond_put(h, c, err) != 0)
				return -1;
			continue;
		}
		p = shown(e->pattern);
		if (strcmp(e->pattern, "*") == 0)
			snprintf(title, sizeof(title), "digests come again");
		else
			snprintf(title, sizeof(title), "digests matching %s come again", p);
		free(p);
		time_text(last_ms, last, sizeof(last));
		snprintf(detail, sizeof(detail), "%s came; the one before came at %s.", shown_name,
			 last);
		if (cond_change(h, c, false, title, detail, queued, err) != 0)
			return -1;
		free(c->detail);
		c->detail = xstrdup(shown_name);
		if (cond_put(h, c, err) != 0)
			return -1;
	}
	return 0;
}

/* ---- small, stale, partial: judged per format ---- */

/* What one digest says of the three conditions of its format. */
struct verdict {
	bool judged, active;
	char title[512], detail[DETAIL_MAX];
};

static void judge_partial(const char *name, const struct pipeline_result *r, struct verdict *v)
{
	v->judged = true;
	v->active = r->fallback > 0 || r->skipped > 0;
	if (v->active) {
		snprintf(v->title, sizeof(v->title), "%s was read only partly", name);
		snprintf(v->detail, sizeof(v->detail),
			 "%zu paper%s only from their links (the fallback), %zu record%s left out; "
			 "paperwatch parse --strict FILE says what was not understood.",
			 r->fallback, plural(r->fallback), r->skipped, plural(r->skipped));
	} else {
		snprintf(v->title, sizeof(v->title), "%s digests are read whole again", r->format);
		snprintf(v->detail, sizeof(v->detail), "%s was read whole.", name);
	}
}

static int judge_small(struct health *h, const char *name, const char *shown_name,
		       const struct pipeline_result *r, struct verdict *v, struct err *err)
{
	size_t before[HEALTH_MEDIAN_OF], n, median;
	double ratio = h->cfg->health.small_ratio;

	if (ratio <= 0)
		return 0;
	if (state_files_papers(h->st, r->format, name, HEALTH_MEDIAN_OF, before, &n, err) != 0)
		return -1;
	if (n < HEALTH_SMALL_AFTER)
		return 0;
	median = health_median(before, n);
	v->judged = true;
	v->active = (double)r->papers < ratio * (double)median;
	if (v->active)
		snprintf(v->title, sizeof(v->title), "%s holds only %zu paper%s", shown_name,
			 r->papers, plural(r->papers));
	else
		snprintf(v->title, sizeof(v->title), "%s digests are their usual size again",
			 r->format);
	snprintf(v->detail, sizeof(v->detail),
		 "%s: %zu paper%s; the median of the last %zu %s digests is %zu%s.", shown_name,
		 r->papers, plural(r->papers), n, r->format, median,
		 v->active ? " (cut short, or a search capped?)" : "");
	return 0;
}

static int judge_stale(struct health *h, const char *name, const char *shown_name,
		       const struct pipeline_result *r, struct verdict *v, struct err *err)
{
	char other[256], *o;

	if (r->papers == 0)
		return 0; /* an empty digest repeats nothing: small says what there is to say */
	if (state_file_repeats(h->st, name, r->papers_sum, r->papers, other, sizeof(other), err) !=
	    0)
		return -1;
	v->judged = true;
	v->active = other[0] != '\0';
	o = shown(other);
	if (v->active) {
		snprintf(v->title, sizeof(v->title), "%s repeats %s", shown_name, o);
		snprintf(v->detail, sizeof(v->detail),
			 "All %zu of its papers are those of %s: a stale copy, or a generator that "
			 "sends its last digest again.",
			 r->papers, o);
	} else {
		snprintf(v->title, sizeof(v->title), "%s digests bring new papers again",
			 r->format);
		snprintf(v->detail, sizeof(v->detail),
			 "%s has papers no earlier digest had all of.", shown_name);
	}
	free(o);
	return 0;
}

/* Applies a verdict on (condition, format): a change of state is raised or cleared. */
static int apply(struct health *h, const char *condition, const char *format,
		 const struct verdict *v, size_t *queued, struct err *err)
{
	struct cond *c;

	if (!v->judged)
		return 0;
	c = cond_get(h, condition, format);
	if (c->active == v->active)
		return 0;
	return cond_change(h, c, v->active, v->title, v->detail, queued, err);
}

void health_digest(struct health *h, const char *name, const struct pipeline_result *r)
{
	struct verdict partial = {0}, small = {0}, stale = {0};
	char *n = shown(name);
	size_t queued = 0;
	struct err err;
	int rc;

	if (state_begin(h->st, &err) != 0) {
		log_error("health: %s: %s", n, err.msg);
		free(n);
		return;
	}
	rc = quiet_digest(h, name, n, &queued, &err);
	if (rc == 0 && r->format != NULL) {
		judge_partial(n, r, &partial);
		rc = judge_small(h, name, n, r, &small, &err);
		if (rc == 0)
			rc = judge_stale(h, name, n, r, &stale, &err);
	}
	if (rc == 0)
		rc = apply(h, "partial", r->format, &partial, &queued, &err);
	if (rc == 0)
		rc = apply(h, "small", r->format, &small, &queued, &err);
	if (rc == 0)
		rc = apply(h, "stale", r->format, &stale, &queued, &err);
	check_end(h, true, rc, queued, &err);
	/* A pattern waits anew from this digest: the timer is set again on the loop's next turn,
	 * once the burst's digests are all in. */
	if (h->cfg->watch.n_expects > 0)
		loop_timer_set(h->quiet, 0);
	free(n);
}

/* ---- The module ---- */

/* Forgets the conditions in memory. */
static void conds_free(struct health *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].condition);
		free(h->v[i].subject);
		free(h->v[i].detail);
	}
	h->n = 0;
}

int health_reload(struct health *h, struct err *err)
{
	conds_free(h);
	if (state_health_each(h->st, on_loaded, h, err) != 0)
		return -1;
	loop_timer_set(h->quiet, 0);
	return 0;
}

int health_new(struct loop *l, struct state *st, const struct config *cfg, health_changed_fn fn,
	       void *ctx, struct health **out, struct err *err)
{
	struct health *h = xcalloc(1, sizeof(*h));

	*h = (struct health){.st = st, .cfg = cfg, .changed = fn, .ctx = ctx};
	h->quiet = loop_timer_new(l, quiet_check, h);
	/* A shared state's database not reached yet: its conditions are read once it is. */
	if (state_health_each(st, on_loaded, h, err) != 0 && !state_down(st)) {
		health_free(h);
		return -1;
	}
	health_set_config(h, cfg);
	*out = h;
	return 0;
}

void health_set_config(struct health *h, const struct config *cfg)
{
	struct err err;

	h->cfg = cfg;
	/* A pattern no longer expected is no longer quiet: said in the log only. */
	for (size_t i = 0; i < h->n; i++) {
		struct cond *c = &h->v[i];
		bool expected = false;

		if (strcmp(c->condition, "quiet") != 0 || !c->active)
			continue;
		for (size_t j = 0; j < cfg->watch.n_expects && !expected; j++)
			expected = strcmp(cfg->watch.expects[j].pattern, c->subject) == 0;
		if (expected)
			continue;
		c->active = false;
		log_info("health: %s is no longer expected (watch.expect): no longer quiet",
			 c->subject);
		if (state_begin(h->st, &err) != 0 || cond_put(h, c, &err) != 0 ||
		    state_commit(h->st, &err) != 0) {
			state_rollback(h->st);
			log_error("health: %s", err.msg);
		}
	}
	/* On the loop's next turn: what the folder holds (the start-up scan) is read first, so a
	 * digest that came while the daemon was down counts. */
	loop_timer_set(h->quiet, 0);
}

void health_clock_set(struct health *h)
{
	if (h != NULL)
		loop_timer_set(h->quiet, 0);
}

size_t health_summary(const struct health *h, char *out, size_t size)
{
	size_t n = 0, len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < h->n; i++) {
		const struct cond *c = &h->v[i];
		int w;

		if (!c->active)
			continue;
		/* Past the end, the rest is counted, not written: snprintf ended the text. */
		w = len + 1 < size ? snprintf(out + len, size - len, "%s%s %s", n ? ", " : "",
					      c->condition, c->subject)
				   : 0;
		len = w < 0 || len + (size_t)w >= size ? size : len + (size_t)w;
		n++;
	}
	return n;
}

void health_free(struct health *h)
{
	if (h == NULL)
		return;
	conds_free(h);
	free(h->v);
	loop_timer_free(h->quiet);
	free(h);
}

/* state_health_each's callback for health_line: each condition raised, "quiet hf-*.md". */
struct line {
	char *out;
	size_t size, len, raised;
};

static void line_one(void *ctx, const struct state_health *sh)
{
	struct line *l = ctx;
	int w;

	if (!sh->active || l->len + 1 >= l->size)
		return;
	w = snprintf(l->out + l->len, l->size - l->len, "%s%s %s", l->raised ? ", " : "",
		     sh->condition, sh->subject);
	l->len = w < 0 || l->len + (size_t)w >= l->size ? l->size : l->len + (size_t)w;
	l->raised++;
}

int health_line(struct state *st, char *out, size_t size, struct err *err)
{
	struct state_digest latest;
	char when[40], *name, raised[256] = "";
	struct line l = {.out = raised, .size = sizeof(raised)};
	size_t n;

	if (state_files_latest(st, 1, &latest, &n, err) != 0 ||
	    state_health_each(st, line_one, &l, err) != 0)
		return -1;
	if (n == 0) {
		snprintf(out, size, "no digest has been read yet");
		return 0;
	}
	name = shown(latest.name);
	time_text(latest.processed_ms, when, sizeof(when));
	snprintf(out, size, "the latest digest, %s, %zu paper%s at %s; %s%s", name, latest.papers,
		 plural(latest.papers), when, l.raised ? "health: " : "nothing looks wrong",
		 raised);
	free(name);
	return 0;
}
