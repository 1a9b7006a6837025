/*
 * pipeline.c — a digest file from bytes to queued messages. Parsing streams; only the papers
 * that match are kept (with their hits), then one transaction records the new alerts and the
 * messages that carry them.
 */
#include <errno.h>
#include <xxhash.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "cadence.h"
#include "hex.h"
#include "log.h"
#include "match/match.h"
#include "notify.h"
#include "parse/parse.h"
#include "pipeline.h"
#include "xmalloc.h"

/* A batch key is the stem and the hex of random bytes. */
#define BATCH_KEY_STEM  "msg_"
#define BATCH_KEY_BYTES 16
_Static_assert(PIPELINE_KEY_SIZE == sizeof(BATCH_KEY_STEM) + HEX_LEN(BATCH_KEY_BYTES),
	       "a batch key fills its buffer");
_Static_assert(STATE_HASH_SIZE == HEX_LEN(sizeof(XXH128_canonical_t)) + 1,
	       "the state keeps a 128-bit hash in hex");

/* A paper that matched, kept past the parser's callback. */
struct kept {
	struct paper paper;
	unsigned *rules; /* indices of the rules it matched */
	size_t n_rules;
	struct match_hit *hits;
	size_t n_hits;
	double *scores;  /* per rule: its like: score, -1 for a rule with none */
	double score;    /* the best of them, by which the papers of a message are ordered */
	const char *why; /* what the best like: rule made of the paper, or NULL */
	size_t order;    /* where it came in the digest, for ties */
};

struct run {
	struct config *cfg;
	struct arena arena;
	struct kept *kept;
	size_t n_kept, cap_kept;
	/* The paper being matched: its rules and hits gather here first. */
	unsigned *rules;
	size_t n_rules, cap_rules;
	struct match_hit *hits;
	size_t n_hits, cap_hits;
	XXH3_state_t *hash; /* of the file's bytes, as the parser reads them */
	size_t papers, with_authors;
	uint64_t papers_sum;   /* of every paper's identity hash: the same papers, the same sum */
	struct file_read read; /* what the parser said of the file, for the state */
	struct paper *read_papers; /* with an id, for libraries that list ids (keeps_papers) */
	size_t n_read, cap_read;
	long long now_ms; /* when the file's alerts were recorded */
};

static void on_rule(void *ctx, unsigned rule, const struct match_hit *hits, size_t n_hits)
{
	struct run *r = ctx;

	r->rules = xgrow(r->rules, &r->cap_rules, r->n_rules + 1, sizeof(*r->rules));
	r->rules[r->n_rules++] = rule;
	r->hits = xgrow(r->hits, &r->cap_hits, r->n_hits + n_hits, sizeof(*r->hits));
	memcpy(r->hits + r->n_hits, hits, n_hits * sizeof(*hits));
	r->n_hits += n_hits;
}

/* FNV-1a over the bytes of one part of a key. */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* The title folded as pipeline_paper_key folds it, after "title:": written into o when o is not
 * NULL (with its NUL), hashed into h either way. */
static uint64_t fold_title(const char *title, char *o, uint64_t h)
{
	bool gap = false, started = false;

	for (const char *s = title; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z')) {
			if (gap && started) {
				h = fnv_byte(h, ' ');
				if (o)
					*o++ = ' ';
			}
			c = (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
			h = fnv_byte(h, c);
			if (o)
				*o++ = (char)c;
			gap = false;
			started = true;
		} else {
			gap = true;
		}
	}
	if (o)
		*o = '\0';
	return h;
}

/* The 64-bit hash of the paper's identity key, without building the key; mixed at the end
 * (splitmix64's finaliser) so that sums of hashes of similar keys spread out. */
static uint64_t paper_key_hash(const struct paper *p)
{
	uint64_t h = FNV_OFFSET;

	if (p->id != NULL) {
		for (const char *s = p->id; *s; s++)
			h = fnv_byte(h, (unsigned char)*s);
	} else {
		for (const char *s = "title:"; *s; s++)
			h = fnv_byte(h, (unsigned char)*s);
		h = fold_title(p->title, NULL, h);
	}
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* The like: scores of a kept paper's rules, and why the best one holds. */
static void keep_scores(struct run *r, struct kept *k, const struct paper *p)
{
	k->scores = arena_alloc(&r->arena, k->n_rules * sizeof(*k->scores) + 1);
	k->score = -1;
	k->why = NULL;
	k->order = r->n_kept;
	for (size_t i = 0; i < k->n_rules; i++) {
		double s;
		char *why = r->cfg->n_libraries ? config_like_explain(r->cfg, k->rules[i], p, &s)
						: NULL;

		k->scores[i] = why ? s : -1;
		if (why != NULL && s > k->score) {
			k->score = s;
			k->why = arena_strndup(&r->arena, why, strlen(why));
		}
		free(why);
	}
}

/* The parser's callback: match, and keep a copy of what matched. */
static void on_paper(void *ctx, const struct paper *p)
{
	struct run *r = ctx;
	struct kept *k;

	r->papers++;
	r->papers_sum += paper_key_hash(p);
	r->with_authors += p->n_authors > 0;
	r->n_rules = r->n_hits = 0;
	if (r->cfg->n_libraries > 0)
		config_like_begin(r->cfg, p);
	if (r->cfg->keeps_papers && p->id != NULL) {
		r->read_papers =
			xgrow(r->read_papers, &r->cap_read, r->n_read + 1, sizeof(*r->read_papers));
		paper_copy(&r->arena, &r->read_papers[r->n_read++], p);
	}
	if (matcher_match(r->cfg->matcher, p, true, on_rule, r) == 0)
		return;
	r->kept = xgrow(r->kept, &r->cap_kept, r->n_kept + 1, sizeof(*r->kept));
	k = &r->kept[r->n_kept++];
	paper_copy(&r->arena, &k->paper, p);
	k->n_rules = r->n_rules;
	k->rules = arena_alloc(&r->arena, r->n_rules * sizeof(*k->rules));
	memcpy(k->rules, r->rules, r->n_rules * sizeof(*k->rules));
	k->n_hits = r->n_hits;
	k->hits = arena_alloc(&r->arena, r->n_hits * sizeof(*k->hits) + 1);
	memcpy(k->hits, r->hits, r->n_hits * sizeof(*k->hits));
	keep_scores(r, k, p);
}

static void on_raw(void *ctx, const char *data, size_t len)
{
	struct run *r = ctx;

	XXH3_128bits_update(r->hash, data, len);
}

char *pipeline_paper_key(const struct paper *p)
{
	char *key;

	if (p->id != NULL)
		return xstrdup(p->id);
	/* Case, punctuation and spacing differ between digests; the words do not. */
	key = xmalloc(strlen(p->title) + sizeof("title:"));
	fold_title(p->title, key + sprintf(key, "title:"), FNV_OFFSET);
	return key;
}

void pipeline_describe(const struct pipeline_result *r, char *out, size_t size)
{
	int n = snprintf(out, size, "%zu paper%s, %zu matched, %zu new alert%s in %zu message%s",
			 r->papers, plural(r->papers), r->matched, r->alerts, plural(r->alerts),
			 r->messages, plural(r->messages));

	if (r->held > 0 && n > 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ", %zu held for scheduled messages", r->held);
}

/* The libraries that list ids, given the text of papers just kept; a failure here costs only
 * those papers' counting until the next digest, and is said. */
static void fill_libraries(struct config *cfg, struct state *st)
{
	struct err err;
	size_t filled;

	if (config_libraries_fill(cfg, st, &filled, &err) != 0)
		log_warn("%s", err.msg);
	else if (filled > 0)
		log_info("%zu paper%s of the libraries listing ids now known", filled,
			 plural(filled));
}

/* Most similar first; papers no like: rule scored keep their order, after those scored. */
static int by_score(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A paper's place in one rule's ranking. */
struct ranked {
	double score;
	size_t paper, slot; /* r->kept[paper].rules[slot] */
};

static int by_rank(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->paper < y->paper ? -1 : x->paper > y->paper;
}

/* Slots from the last: taken off in this order, none moves another still to take. */
static int by_slot(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return x->slot < y->slot ? 1 : x->slot > y->slot ? -1 : 0;
}

/* Takes rule slot j off paper k, the others keeping their order. */
static void drop_rule(struct kept *k, size_t j)
{
	memmove(k->rules + j, k->rules + j + 1, (k->n_rules - j - 1) * sizeof(*k->rules));
	memmove(k->scores + j, k->scores + j + 1, (k->n_rules - j - 1) * sizeof(*k->scores));
	k->n_rules--;
}

/* A rule with top = N keeps only its N best papers of the digest: it is taken off the others,
 * and a paper left with no rule is not kept. Then the papers are ordered by score. */
static void rank(struct run *r)
{
	size_t kept = 0;

	struct ranked *v = xcalloc(r->n_kept + 1, sizeof(*v));

	for (size_t q = 0; q < r->cfg->n_rules; q++) {
		long long top = r->cfg->rules[q].top;
		size_t n = 0;

		for (size_t i = 0; top > 0 && i < r->n_kept; i++) {
			for (size_t j = 0; j < r->kept[i].n_rules; j++) {
				if (r->kept[i].rules[j] == q)
					v[n++] = (struct ranked){r->kept[i].scores[j], i, j};
			}
		}
		if (n <= (size_t)top)
			continue;
		qsort(v, n, sizeof(*v), by_rank);
		/* From the last, so that taking a rule off does not move the next one to take. */
		qsort(v + top, n - (size_t)top, sizeof(*v), by_slot);
		for (size_t i = (size_t)top; i < n; i++)
			drop_rule(&r->kept[v[i].paper], v[i].slot);
	}
	free(v);
	qsort(r->kept, r->n_kept, sizeof(*r->kept), by_score);
	for (size_t i = 0; i < r->n_kept; i++) {
		if (r->kept[i].n_rules > 0)
			r->kept[kept++] = r->kept[i];
	}
	r->n_kept = kept;
}

/* A fresh batch key: "msg_" and BATCH_KEY_BYTES random bytes, the idempotency key's stem. */
static int batch_key(char out[PIPELINE_KEY_SIZE], struct err *err)
{
	unsigned char r[BATCH_KEY_BYTES];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return err_set(err, "cannot read random bytes for message ids: %s",
			       strerror(errno));
	memcpy(out, BATCH_KEY_STEM, sizeof(BATCH_KEY_STEM) - 1);
	hex_encode(r, sizeof(r), out + sizeof(BATCH_KEY_STEM) - 1);
	return 0;
}

/* One notifier's share of a digest: the papers with new alerts for it, and their rules. */
struct share {
	struct alert *alerts;
	size_t n_alerts;
	char key[PIPELINE_KEY_SIZE];
	/* A notifier with a schedule: its open period (known once a paper is held for it), and
	 * how many papers were held for its message. */
	struct state_period period;
	bool period_known;
	size_t held;
};

/* Whether paper k goes to notifier t at once: it has no schedule, or an urgent rule matched. */
static bool goes_now(const struct config *cfg, const struct kept *k, size_t t)
{
	if (cfg->notifiers[t].when.kind == SCHEDULE_INSTANT)
		return true;
	for (size_t i = 0; i < k->n_rules; i++) {
		if (cfg->rules[k->rules[i]].urgent)
			return true;
	}
	return false;
}

/* The batch key a held paper's alerts carry: the notifier's open period's. */
static const char *period_key(struct run *r, struct state *st, struct share *sh, size_t t,
			      struct err *err)
{
	const struct notifier *n = &r->cfg->notifiers[t];

	if (!sh[t].period_known &&
	    state_period(st, n->name, schedule_last(&n->when, r->now_ms), &sh[t].period, err) != 0)
		return NULL;
	sh[t].period_known = true;
	return sh[t].period.key;
}

/* Keeps a paper for the notifier's next scheduled message, with all it needs. */
static int hold_paper(struct run *r, struct state *st, const struct alert *a, size_t t,
		      struct share *sh, struct err *err)
{
	size_t len;
	char *held = cadence_encode(a, &len);
	int rc = state_hold(st, r->cfg->notifiers[t].name, held, len, r->now_ms, err);

	free(held);
	sh[t].held += rc == 0;
	return rc;
}

/* Records the alerts of one kept paper; adds it to every notifier it is new for. */
static int record_paper(struct run *r, struct state *st, const struct kept *k, struct share *sh,
			const char **names, struct err *err)
{
	struct config *cfg = r->cfg;
	char *key = pipeline_paper_key(&k->paper);
	int rc = 0;

	for (size_t t = 0; t < cfg->n_notifiers && rc == 0; t++) {
		bool now = goes_now(cfg, k, t);
		const char *batch = now ? sh[t].key : NULL;
		size_t n_new = 0;

		for (size_t i = 0; i < k->n_rules && rc == 0; i++) {
			const struct config_rule *rule = &cfg->rules[k->rules[i]];
			bool fresh = false, targets = false;
			struct state_alert a;

			for (size_t j = 0; j < rule->n_targets; j++)
				targets |= rule->targets[j] == t;
			if (!targets)
				continue;
			if (batch == NULL && (batch = period_key(r, st, sh, t, err)) == NULL) {
				rc = -1;
				break;
			}
			a = (struct state_alert){.paper = key,
						 .rule = rule->name,
						 .notifier = cfg->notifiers[t].name,
						 .batch = batch,
						 .title = k->paper.title,
						 .created_ms = r->now_ms};
			rc = state_alert_add(st, &a, &fresh, err);
			if (fresh)
				names[n_new++] = rule->name;
		}
		if (rc == 0 && n_new > 0) {
			const char **rules = arena_alloc(&r->arena, n_new * sizeof(*rules));
			struct alert a;

			memcpy(rules, names, n_new * sizeof(*rules));
			a = (struct alert){.paper = &k->paper,
					   .rules = rules,
					   .n_rules = n_new,
					   .hits = k->hits,
					   .n_hits = k->n_hits,
					   .why = k->why,
					   .score = k->score};
			if (now)
				sh[t].alerts[sh[t].n_alerts++] = a;
			else
				rc = hold_paper(r, st, &a, t, sh, err);
		}
	}
	free(key);
	return rc;
}

/* Formats each notifier's share and queues its messages. */
static int queue_shares(struct run *r, struct state *st, const char *source, struct share *sh,
			struct pipeline_result *res, struct err *err)
{
	struct config *cfg = r->cfg;
	long long now = state_now_ms();

	for (size_t t = 0; t < cfg->n_notifiers; t++) {
		const struct notifier *n = &cfg->notifiers[t];
		struct alert_batch b = {.source = source,
					.alerts = sh[t].alerts,
					.n_alerts = sh[t].n_alerts,
					.key = sh[t].key,
					.created_ms = now};
		struct message_list msgs = {0};
		int rc = 0;

		res->alerts += sh[t].held;
		res->held += sh[t].held;
		if (b.n_alerts == 0)
			continue;
		if (n->ops->format(n, &b, &msgs, err) != 0)
			return err_prefix(err, "%s: ", n->name);
		for (size_t i = 0; i < msgs.n && rc == 0; i++)
			rc = state_outbox_add(st, n->name, msgs.v[i].key, source, msgs.v[i].body,
					      msgs.v[i].len, msgs.v[i].n_papers, now, err);
		res->messages += msgs.n;
		res->alerts += b.n_alerts;
		message_list_free(&msgs);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The text of the papers read, for the libraries that list ids, and only the last papers_kept
 * of them. */
static int keep_papers(struct run *r, struct state *st, struct err *err)
{
	int rc = 0;

	for (size_t i = 0; i < r->n_read && rc == 0; i++)
		rc = state_paper_keep(st, r->read_papers[i].id, r->read_papers[i].title,
				      r->read_papers[i].abstract, r->now_ms, err);
	if (rc == 0 && r->n_read > 0)
		rc = state_papers_trim(st, r->cfg->papers_kept, err);
	return rc;
}

/* The one transaction: alerts, messages and the file's record. */
static int record(struct run *r, struct state *st, const char *name, const char *source,
		  const struct file_stamp *stamp, struct pipeline_result *res, struct err *err)
{
	struct config *cfg = r->cfg;
	struct share *sh = xcalloc(cfg->n_notifiers + 1, sizeof(*sh));
	const char **names = xcalloc(cfg->n_rules + 1, sizeof(*names));
	int rc = state_begin(st, err);

	r->now_ms = state_now_ms();
	for (size_t t = 0; t < cfg->n_notifiers && rc == 0; t++) {
		sh[t].alerts = xcalloc(r->n_kept + 1, sizeof(*sh[t].alerts));
		rc = batch_key(sh[t].key, err);
	}
	for (size_t i = 0; i < r->n_kept && rc == 0; i++)
		rc = record_paper(r, st, &r->kept[i], sh, names, err);
	if (rc == 0)
		rc = queue_shares(r, st, source, sh, res, err);
	if (rc == 0)
		rc = state_file_done(st, name, stamp, &r->read, state_now_ms(), err);
	if (rc == 0)
		rc = keep_papers(r, st, err);
	if (rc == 0)
		rc = state_commit(st, err);
	else
		state_rollback(st);
	for (size_t t = 0; t < cfg->n_notifiers; t++)
		free(sh[t].alerts);
	free(sh);
	free(names);
	return rc;
}

int pipeline_file(struct config *cfg, struct state *st, const char *path, const char *name,
		  const char *folder, unsigned flags, struct pipeline_result *res, struct err *err)
{
	struct run r = {.cfg = cfg};
	struct parse_opts opts = {.max_size = cfg->watch.max_file_size,
				  .emit = on_paper,
				  .ctx = &r,
				  .raw = on_raw,
				  .folder = folder};
	struct file_stamp stamp = {0};
	struct parse_result pres;
	XXH128_canonical_t digest;
	char known[STATE_HASH_SIZE];
	struct stat sb;
	bool seen = false;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (stat(path, &sb) == 0) {
		stamp = (struct file_stamp){.dev = sb.st_dev,
					    .ino = sb.st_ino,
					    .size = sb.st_size,
					    .mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
							sb.st_mtim.tv_nsec};
		if (state_file_seen(st, name, &stamp, &seen, err) != 0) {
			res->state_failed = true;
			return -1;
		}
		if (seen && !(flags & PIPELINE_AGAIN)) {
			res->unchanged = true;
			return 0;
		}
	}
	arena_init(&r.arena);
	r.hash = XXH3_createState();
	if (r.hash == NULL) {
		err_set(err, "%s: out of memory", name);
		goto out;
	}
	XXH3_128bits_reset(r.hash);
	if (parse_file(path, &opts, &pres, err) != 0)
		goto out;
	XXH128_canonicalFromHash(&digest, XXH3_128bits_digest(r.hash));
	r.read = (struct file_read){.papers = r.papers,
				    .fallback = pres.fallback,
				    .skipped = pres.skipped,
				    .format = pres.format,
				    .with_authors = r.with_authors,
				    .papers_sum = r.papers_sum};
	/* Record the file as it was while we read it, not as stat() saw it before. */
	stamp = (struct file_stamp){
		.dev = pres.dev, .ino = pres.ino, .size = pres.size, .mtime_ns = pres.mtime_ns};
	hex_encode(digest.digest, sizeof(digest.digest), stamp.hash);
	res->state_failed = true; /* from here on, only the state can fail */
	if (state_file_hash(st, name, known, err) != 0)
		goto out;
	if (strcmp(known, stamp.hash) == 0 && !(flags & PIPELINE_AGAIN)) {
		/* Touched, or copied over itself: the same bytes. Only the record is brought up to
		 * date. */
		res->unchanged = true;
		rc = state_file_done(st, name, &stamp, &r.read, state_now_ms(), err);
		goto out;
	}
	res->papers = r.papers;
	res->fallback = pres.fallback;
	res->skipped = pres.skipped;
	rank(&r);
	res->matched = r.n_kept;
	res->format = pres.format;
	res->papers_sum = r.papers_sum;
	/* Papers carry the file name as valid UTF-8; with none kept, no message needs it. */
	rc = record(&r, st, name, r.n_kept ? r.kept[0].paper.source : "", &stamp, res, err);
	if (rc == 0 && r.n_read > 0)
		fill_libraries(cfg, st);
out:
	if (rc == 0)
		res->state_failed = false;
	XXH3_freeState(r.hash);
	free(r.kept);
	free(r.rules);
	free(r.hits);
	free(r.read_papers);
	arena_free(&r.arena);
	return rc;
}
