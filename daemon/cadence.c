/*
 * cadence.c — a period's message from the state: held alerts decoded, the most relevant kept up
 * to max_papers, grouped by their first rule, counted by rule past the cap, formatted by the
 * notifier's channel and queued with the period closed, in one transaction.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cadence.h"
#include "health.h"
#include "log.h"
#include "match/match.h"
#include "paper.h"
#include "xmalloc.h"

char *cadence_encode(const struct alert *a, size_t *len)
{
	json_t *o = json_object(), *rules = json_array(), *hits = json_array();
	char *s;

	for (size_t i = 0; i < a->n_rules; i++)
		json_array_append_new(rules, json_string(a->rules[i]));
	for (size_t i = 0; i < a->n_hits; i++) {
		const struct match_hit *h = &a->hits[i];

		json_array_append_new(hits, json_pack("[I, i, I, I, I]", (json_int_t)h->term,
						      (int)h->field, (json_int_t)h->author,
						      (json_int_t)h->start, (json_int_t)h->end));
	}
	json_object_set_new(o, "paper", paper_json(a->paper));
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "hits", hits);
	if (a->why != NULL) {
		json_object_set_new(o, "why", json_string(a->why));
		json_object_set_new(o, "score", json_real(a->score));
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		abort(); /* jansson fails only when memory does */
	*len = strlen(s);
	return s;
}

/* A held alert, decoded, with what orders it. */
struct held {
	struct alert alert;
	size_t order; /* when it was held, among the period's */
	int group;    /* its first rule's place in the configuration; rules gone come last */
};

struct gather {
	const struct config *cfg;
	struct arena arena;
	struct held *v;
	size_t n, cap;
	size_t unreadable;
};

/* A hit read back, or false when the array is not one. */
static bool decode_hit(json_t *v, const struct paper *p, struct match_hit *h)
{
	json_int_t term, field, author, start, end;

	if (json_unpack(v, "[I, I, I, I, I]", &term, &field, &author, &start, &end) != 0 ||
	    field < MATCH_TITLE || field > MATCH_ID || start < 0 || end < start)
		return false;
	if (field == MATCH_AUTHORS && (size_t)author >= p->n_authors)
		return false;
	*h = (struct match_hit){.term = (unsigned)term,
				.field = (enum match_field)field,
				.author = (unsigned)author,
				.start = (size_t)start,
				.end = (size_t)end};
	return true;
}

static void on_held(void *ctx, const char *bytes, size_t len, long long created_ms)
{
	struct gather *g = ctx;
	json_t *o = json_loadb(bytes, len, 0, NULL);
	json_t *rules = json_object_get(o, "rules"), *hits = json_object_get(o, "hits");
	struct paper *p = arena_alloc(&g->arena, sizeof(*p));
	struct held *h;
	const char **names;
	struct match_hit *hv;
	size_t n = 0;

	(void)created_ms;
	if (o == NULL || paper_from_json(&g->arena, p, json_object_get(o, "paper")) != 0 ||
	    !json_is_array(rules) || json_array_size(rules) == 0) {
		/* Not what cadence_encode wrote: counted and said, never sent half-made. */
		g->unreadable++;
		json_decref(o);
		return;
	}
	g->v = xgrow(g->v, &g->cap, g->n + 1, sizeof(*g->v));
	h = &g->v[g->n];
	names = arena_alloc(&g->arena, json_array_size(rules) * sizeof(*names));
	for (size_t i = 0; i < json_array_size(rules); i++) {
		const json_t *r = json_array_get(rules, i);

		if (json_is_string(r))
			names[n++] = arena_strndup(&g->arena, json_string_value(r),
						   json_string_length(r));
	}
	hv = arena_alloc(&g->arena, (json_array_size(hits) + 1) * sizeof(*hv));
	h->alert = (struct alert){.paper = p, .rules = names, .n_rules = n, .hits = hv};
	if (json_is_string(json_object_get(o, "why"))) {
		h->alert.why =
			arena_strndup(&g->arena, json_string_value(json_object_get(o, "why")),
				      json_string_length(json_object_get(o, "why")));
		h->alert.score = json_number_value(json_object_get(o, "score"));
	}
	for (size_t i = 0; i < json_array_size(hits); i++)
		h->alert.n_hits += decode_hit(json_array_get(hits, i), p, &hv[h->alert.n_hits]);
	h->order = g->n;
	h->group = n > 0 ? config_rule_index(g->cfg, names[0]) : -1;
	if (h->group < 0)
		h->group = (int)g->cfg->n_rules;
	g->n += n > 0;
	json_decref(o);
}

/* Most relevant first: scored by a like: rule, the more similar first; then more rules hit;
 * then held earlier. */
static int by_relevance(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	double sx = x->alert.why ? x->alert.score : -1, sy = y->alert.why ? y->alert.score : -1;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->alert.n_rules != y->alert.n_rules)
		return x->alert.n_rules > y->alert.n_rules ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* By first rule, in the configuration's order, and by relevance within it. */
static int by_group(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return by_relevance(a, b);
}

/* The papers left out past the cap, counted by first rule, into the period. */
static void count_more(const struct held *v, size_t from, size_t n, struct alert_period *p,
		       const char **names, size_t *counts)
{
	for (size_t i = from; i < n; i++) {
		const char *rule = v[i].alert.rules[0];
		size_t k = 0;

		while (k < p->n_more && strcmp(names[k], rule) != 0)
			k++;
		if (k == p->n_more) {
			names[k] = rule;
			counts[k] = 0;
			p->n_more++;
		}
		counts[k]++;
	}
	p->more_rules = names;
	p->more_counts = counts;
}

/* How many deadlines fall after last_ms up to due_ms. */
static unsigned periods_between(const struct schedule *w, long long last_ms, long long due_ms)
{
	unsigned n = 0;

	for (long long t = last_ms; n < CADENCE_PERIODS_MAX;) {
		t = schedule_next(w, t);
		if (t > due_ms)
			break;
		n++;
	}
	return n > 0 ? n : 1;
}

/* What a period's message says of itself: its title and, when it is late or covers more than
 * one period, a note. */
struct period_words {
	char title[96], note[256], schedule[96], due[40];
};

static void period_words(const struct notifier *n, const struct state_period *sp, long long due_ms,
			 long long now_ms, struct alert_period *p, struct period_words *w)
{
	const struct schedule *when = &n->when;
	char day[40], at[64], made[40], since[64];
	size_t used = 0;

	schedule_time(when, due_ms, SCHEDULE_DAY, day, sizeof(day));
	if (when->kind == SCHEDULE_WEEKLY)
		snprintf(w->title, sizeof(w->title), "Weekly papers, week to %s", day);
	else
		snprintf(w->title, sizeof(w->title), "Daily papers, %s", day);
	schedule_describe(when, w->schedule, sizeof(w->schedule));
	schedule_time(when, due_ms, SCHEDULE_RFC3339, w->due, sizeof(w->due));
	p->title = w->title;
	p->schedule = w->schedule;
	p->due = w->due;
	p->late = now_ms - due_ms > CADENCE_LATE_MS;
	p->periods = periods_between(when, sp->last_ms, due_ms);
	w->note[0] = '\0';
	if (p->late) {
		schedule_time(when, due_ms, SCHEDULE_MINUTE, at, sizeof(at));
		schedule_time(when, now_ms, SCHEDULE_CLOCK, made, sizeof(made));
		used = (size_t)snprintf(w->note, sizeof(w->note),
					"late: due %s, sent %s (paperwatch was not running)", at,
					made);
	}
	if (p->periods > 1 && used < sizeof(w->note)) {
		schedule_time(when, sp->last_ms, SCHEDULE_MINUTE, since, sizeof(since));
		snprintf(w->note + used, sizeof(w->note) - used, "%scovers %u %s since %s",
			 used ? "; " : "", p->periods,
			 when->kind == SCHEDULE_WEEKLY ? "weeks" : "days", since);
	}
	p->note = w->note[0] ? w->note : NULL;
}

/* Formats the period's papers and queues the messages; *queued says how many. */
static int queue_period(const struct notifier *n, struct state *st, struct gather *g,
			const struct state_period *sp, struct alert_period *period,
			long long now_ms, size_t *queued, size_t *papers, struct err *err)
{
	size_t shown = g->n < (size_t)n->cadence.max_papers ? g->n : (size_t)n->cadence.max_papers;
	struct alert *alerts = xcalloc(shown + 1, sizeof(*alerts));
	const char **names = xcalloc(g->n + 1, sizeof(*names));
	size_t *counts = xcalloc(g->n + 1, sizeof(*counts));
	struct message_list msgs = {0};
	struct alert_batch b;
	int rc;

	qsort(g->v, g->n, sizeof(*g->v), by_relevance);
	count_more(g->v, shown, g->n, period, names, counts);
	qsort(g->v, shown, sizeof(*g->v), by_group);
	for (size_t i = 0; i < shown; i++)
		alerts[i] = g->v[i].alert;
	period->total = g->n;
	b = (struct alert_batch){.source = period->title,
				 .alerts = alerts,
				 .n_alerts = shown,
				 .key = sp->key,
				 .created_ms = now_ms,
				 .period = period};
	rc = n->ops->format(n, &b, &msgs, err);
	for (size_t i = 0; i < msgs.n && rc == 0; i++)
		rc = state_outbox_add(st, n->name, msgs.v[i].key, period->title, msgs.v[i].body,
				      msgs.v[i].len, msgs.v[i].n_papers, now_ms, err);
	*queued = msgs.n;
	*papers = shown;
	message_list_free(&msgs);
	free(alerts);
	free(names);
	free(counts);
	return rc;
}

/* Says what a period's message held. */
static void log_period(const struct notifier *n, const struct alert_period *p, size_t papers,
		       size_t queued)
{
	const char *s = plural(papers), *ms = plural(queued);

	if (p->late)
		log_warn("%s: %s: %zu paper%s in %zu message%s, %s", n->name, p->title, papers, s,
			 queued, ms, p->note);
	else
		log_info("%s: %s: %zu paper%s in %zu message%s", n->name, p->title, papers, s,
			 queued, ms);
}

/* A period without papers, for a notifier that wants to hear of it: a notice saying so and how
 * the input looks, so that silence always means something. */
static int queue_empty(const struct notifier *n, struct state *st, const struct state_period *sp,
		       const struct alert_period *period, long long now_ms, size_t *queued,
		       struct err *err)
{
	char title[160], detail[768], health[512];
	struct notice nt = {.type = "period",
			    .title = title,
			    .detail = detail,
			    .key = sp->key,
			    .created_ms = now_ms};
	struct message_list msgs = {0};
	int rc;

	if (health_line(st, health, sizeof(health), err) != 0)
		return -1;
	snprintf(title, sizeof(title), "%s: no new papers for your rules", period->title);
	snprintf(detail, sizeof(detail), "%s%s%s", period->note ? period->note : "",
		 period->note ? "\n" : "", health);
	rc = n->ops->format_notice(n, &nt, &msgs, err);
	for (size_t i = 0; i < msgs.n && rc == 0; i++)
		rc = state_outbox_add(st, n->name, msgs.v[i].key, period->title, msgs.v[i].body,
				      msgs.v[i].len, 0, now_ms, err);
	*queued = msgs.n;
	message_list_free(&msgs);
	return rc;
}

/* Inside the transaction: the period's message, if it is due, queued with the held alerts let
 * go and the period closed; *made counts it (nothing when it was not due). The period's words
 * live in w. */
static int make_period(const struct config *cfg, const struct notifier *n, struct state *st,
		       long long now_ms, struct alert_period *period, struct period_words *w,
		       struct cadence_result *made, struct err *err)
{
	struct gather g = {.cfg = cfg};
	struct state_period sp;
	bool scheduled = n->when.kind != SCHEDULE_INSTANT;
	long long due = scheduled ? schedule_last(&n->when, now_ms) : now_ms;
	int64_t last_id = 0;
	int rc;

	if (state_period(st, n->name, due, &sp, err) != 0)
		return -1;
	if (scheduled && due <= sp.last_ms)
		return 0; /* not due: the period is open */
	arena_init(&g.arena);
	rc = state_held(st, n->name, on_held, &g, &last_id, err);
	if (rc == 0 && g.unreadable > 0)
		log_error("%s: %zu held alert%s could not be read back and are left out", n->name,
			  g.unreadable, plural(g.unreadable));
	if (scheduled) {
		period_words(n, &sp, due, now_ms, period, w);
	} else {
		/* The schedule was taken out of the file: what it held goes now. */
		period->title = "Papers held for a schedule no longer set";
		period->periods = 1;
	}
	if (rc == 0 && g.n > 0)
		rc = queue_period(n, st, &g, &sp, period, now_ms, &made->messages, &made->papers,
				  err);
	else if (rc == 0 && scheduled && n->cadence.send_empty)
		rc = queue_empty(n, st, &sp, period, now_ms, &made->messages, err);
	if (rc == 0 && last_id > 0)
		rc = state_held_release(st, n->name, last_id, err);
	if (rc == 0)
		rc = state_period_close(st, n->name, scheduled ? due : sp.last_ms, err);
	free(g.v);
	arena_free(&g.arena);
	return rc;
}

/* One notifier's due period, if it has one, in one transaction. */
static int run_one(const struct config *cfg, const struct notifier *n, struct state *st,
		   long long now_ms, struct cadence_result *res, struct err *err)
{
	struct alert_period period = {0};
	struct period_words words;
	struct cadence_result made = {0};
	size_t held;
	long long oldest;

	if (n->when.kind == SCHEDULE_INSTANT) {
		if (state_held_count(st, n->name, &held, &oldest, err) != 0)
			return -1;
		if (held == 0)
			return 0;
	}
	if (state_begin(st, err) != 0)
		return -1;
	if (make_period(cfg, n, st, now_ms, &period, &words, &made, err) != 0) {
		state_rollback(st);
		return -1;
	}
	if (state_commit(st, err) != 0)
		return -1;
	if (period.title != NULL)
		log_period(n, &period, made.papers, made.messages);
	res->messages += made.messages;
	res->papers += made.papers;
	return 0;
}

int cadence_run(struct config *cfg, struct state *st, long long now_ms, struct cadence_result *res,
		long long *next_ms)
{
	int rc = 0;

	memset(res, 0, sizeof(*res));
	*next_ms = -1;
	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		const struct notifier *n = &cfg->notifiers[i];
		struct err err;

		if (run_one(cfg, n, st, now_ms, res, &err) != 0) {
			/* A shared state's database away: its return makes the message. */
			if (!state_down(st))
				log_error("%s: the scheduled message was not made: %s", n->name,
					  err.msg);
			rc = -1;
		}
		if (n->when.kind != SCHEDULE_INSTANT) {
			long long next = schedule_next(&n->when, now_ms);

			if (*next_ms < 0 || next < *next_ms)
				*next_ms = next;
		}
	}
	return rc;
}
