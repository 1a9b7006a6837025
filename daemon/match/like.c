/*
 * match/like.c — the library as an inverted index, and a paper's score against it. Terms are
 * 64-bit hashes of stems (and of pairs of stems for the title's bigrams), so the index holds no
 * strings but one display form per term. Postings are packed in 32 bits, the library paper in
 * 24 and its quantised term weight in 8, grouped by term: finding a paper's closest library
 * paper walks the postings of its own terms only, never the library paper by paper. The score
 * itself is one dot product with the centroid, whatever the library's size.
 */
#include <dlfcn.h>
#include <libstemmer.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "like.h"
#include "text.h"
#include "xmalloc.h"

#define NONE UINT32_MAX

/* Slots of the table a paper's terms are counted in: twice as many as it may have. */
#define PT_SLOTS ((size_t)2 * LIKE_MAX_TERMS)
/* Buckets counting how many papers seen had a term the library does not: its IDF. */
#define SEEN_BUCKETS (1u << 18)
/* A paper's terms of one bucket start their probe at one slot (bucket_first). */
_Static_assert(PT_SLOTS <= SEEN_BUCKETS, "a slot of a paper's table is a bucket's low bits");
/* Words whose stems are remembered; past this the memory starts again. */
#define CACHE_MAX (1u << 17)
/* The weight of a posting is kept in 1/16ths. */
#define Q_SCALE 16.0
/* Library papers at most: 24 bits of a posting. */
#define MAX_ITEMS (1u << 24)

/* A term in more than this share of the library (and more than COMMON_MIN of its papers)
 * tells its papers apart little: the walk for the closest paper passes it by, and its
 * postings are most of the walk's cost. It still counts in the cosine with the centroid and in
 * the paper's norm. */
#define COMMON_SHARE 0.03
#define COMMON_MIN   64
/* Nor more than this many: what one paper costs grows with the library no further. */
#define COMMON_MAX 256

/* libstemmer is loaded with dlopen() when a library is first indexed: its tables for every
 * language, relocated when it is mapped, cost each process 0.65 MiB, half of it its own pages,
 * and most configurations have no like rule. */
#define STEMMER_LIBRARY "libstemmer.so.0d"

#define STEMMER_FUNCTIONS(X)                                                                       \
	X(sb_stemmer_new)                                                                          \
	X(sb_stemmer_delete)                                                                       \
	X(sb_stemmer_stem)                                                                         \
	X(sb_stemmer_length)

static struct {
#define STEMMER_FIELD(f) __typeof__(f) *(f);
	STEMMER_FUNCTIONS(STEMMER_FIELD)
#undef STEMMER_FIELD
} sb;

/* English words that say nothing of a topic; stems are looked up after these are dropped. */
static const char *const stopwords[] = {
	"a",        "about",    "above",   "after",   "again",   "against", "all",   "also",
	"am",       "an",       "and",     "any",     "are",     "as",      "at",    "be",
	"been",     "before",   "being",   "below",   "between", "both",    "but",   "by",
	"can",      "could",    "did",     "do",      "does",    "doing",   "down",  "during",
	"each",     "few",      "for",     "from",    "further", "had",     "has",   "have",
	"having",   "he",       "her",     "here",    "hers",    "him",     "his",   "how",
	"however",  "i",        "if",      "in",      "into",    "is",      "it",    "its",
	"itself",   "just",     "may",     "me",      "more",    "most",    "my",    "no",
	"nor",      "not",      "now",     "of",      "off",     "on",      "once",  "only",
	"or",       "other",    "our",     "ours",    "out",     "over",    "own",   "same",
	"she",      "should",   "so",      "some",    "such",    "than",    "that",  "the",
	"their",    "theirs",   "them",    "then",    "there",   "these",   "they",  "this",
	"those",    "through",  "thus",    "to",      "too",     "under",   "until", "up",
	"upon",     "us",       "very",    "via",     "was",     "we",      "were",  "what",
	"when",     "where",    "which",   "while",   "who",     "whom",    "why",   "will",
	"with",     "within",   "without", "would",   "you",     "your",    "yours", "paper",
	"propose",  "proposed", "show",    "results", "using",   "based",   "new",   "method",
	"approach", "present",  "work",    "study",   "novel",   "however", "et",    "al",
	NULL};

/* The vocabulary: 64-bit term hash -> term, open addressing. */
struct vocab {
	uint64_t *keys; /* 0 marks an empty slot */
	uint32_t *vals;
	uint32_t mask, n;
};

/* A paper's terms as it is being counted, in a table cleared by generation. */
struct pterm {
	uint64_t h;
	uint32_t gen;
	float tf;
	uint32_t term; /* in the vocabulary, or NONE */
	uint32_t disp; /* the word that gave it, for explanations: index into the word list */
};

struct like {
	struct vocab vocab;
	size_t n_terms;
	uint32_t *lib_df;  /* per term: library papers that have it (its postings) */
	uint32_t *seen_df; /* per term: papers seen that have it */
	float *idf;        /* per term, as of the last refresh */
	float *centroid;   /* per term: the library's mean unit vector less the background */
	float *seen_unit;  /* per term: its sum over the papers seen's unit vectors, without IDF */
	double centroid_norm;
	const char **disp;  /* per term: a form to show */
	uint32_t *post_off; /* n_terms + 1 */
	uint32_t *post;     /* item << 8 | weight */
	size_t n_post;

	size_t n_items;
	const char **titles; /* per item */
	float *norm;         /* per item: its vector's length, as of the last refresh */

	uint32_t *seen_bucket; /* SEEN_BUCKETS: papers seen, by term hash, for unknown terms */
	uint64_t n_seen, seen_at_refresh;

	struct sb_stemmer *stemmer;
	struct hmap cache; /* folded word -> index in cache_hash (the stem's hash; 0: stopword) */
	uint64_t *cache_hash;
	size_t cap_cache;
	struct arena cache_arena;

	/* Scratch for one paper. */
	struct text_words tw;
	struct pterm *pt; /* table of 2 * LIKE_MAX_TERMS */
	uint32_t gen;
	uint32_t *pt_used; /* slots used, in order */
	size_t n_used;
	float *acc; /* per item */
	uint32_t *touched;
	size_t n_touched;
	struct arena arena; /* titles and display forms */
};

/* ---- Hashing and the vocabulary ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	h = mix64(h);
	return h ? h : 1;
}

static uint64_t hash_pair(uint64_t a, uint64_t b)
{
	uint64_t h = mix64(a * 31 + mix64(b ^ 0x9e3779b97f4a7c15ULL));

	return h ? h : 1;
}

static uint32_t vocab_get(const struct vocab *v, uint64_t h)
{
	if (v->keys == NULL)
		return NONE;
	for (uint32_t i = (uint32_t)h & v->mask;; i = (i + 1) & v->mask) {
		if (v->keys[i] == h)
			return v->vals[i];
		if (v->keys[i] == 0)
			return NONE;
	}
}

static void vocab_insert(struct vocab *v, uint64_t h, uint32_t val)
{
	uint32_t i = (uint32_t)h & v->mask;

	while (v->keys[i] != 0)
		i = (i + 1) & v->mask;
	v->keys[i] = h;
	v->vals[i] = val;
	v->n++;
}

static void vocab_grow(struct vocab *v)
{
	struct vocab old = *v;
	uint32_t cap = old.keys ? (old.mask + 1) * 2 : 1024;

	v->keys = xcalloc(cap, sizeof(*v->keys));
	v->vals = xcalloc(cap, sizeof(*v->vals));
	v->mask = cap - 1;
	v->n = 0;
	for (uint32_t i = 0; old.keys && i <= old.mask; i++) {
		if (old.keys[i] != 0)
			vocab_insert(v, old.keys[i], old.vals[i]);
	}
	free(old.keys);
	free(old.vals);
}

/* ---- Words to stems ---- */

static bool is_stopword(const char *w, size_t n)
{
	for (size_t i = 0; stopwords[i] != NULL; i++) {
		if (strlen(stopwords[i]) == n && memcmp(stopwords[i], w, n) == 0)
			return true;
	}
	return false;
}

/* The hash of a folded word's stem, 0 for a word that does not count; remembered per word. */
static uint64_t stem_hash(struct like *lk, const char *w, size_t n)
{
	bool existed, digits = true;
	struct hmap_slot *slot;
	uint64_t h = 0;

	if (n < 2 || n > LIKE_MAX_WORD)
		return 0;
	for (size_t i = 0; i < n && digits; i++)
		digits = w[i] >= '0' && w[i] <= '9';
	if (digits)
		return 0;
	if (lk->cache.count >= CACHE_MAX) {
		hmap_clear(&lk->cache);
		arena_reset(&lk->cache_arena);
	}
	slot = hmap_put(&lk->cache, w, n, &existed);
	if (existed)
		return lk->cache_hash[slot->value];
	slot->key = arena_strndup(&lk->cache_arena, w, n);
	slot->value = lk->cache.count - 1;
	if (!is_stopword(w, n)) {
		const sb_symbol *s = NULL;

		if (lk->stemmer != NULL)
			s = sb.sb_stemmer_stem(lk->stemmer, (const sb_symbol *)w, (int)n);
		if (s != NULL)
			h = hash_bytes((const char *)s, (size_t)sb.sb_stemmer_length(lk->stemmer));
		else
			h = hash_bytes(w, n);
	}
	lk->cache_hash =
		xgrow(lk->cache_hash, &lk->cap_cache, slot->value + 1, sizeof(*lk->cache_hash));
	lk->cache_hash[slot->value] = h;
	return h;
}

/* ---- A text into its terms ---- */

/* Adds weight w to term h of the paper being cut. */
static void add_term(struct like *lk, uint64_t h, float w, uint32_t disp)
{
	uint32_t mask = (uint32_t)PT_SLOTS - 1;

	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		struct pterm *t = &lk->pt[i];

		if (t->gen == lk->gen && t->h == h) {
			t->tf += w;
			return;
		}
		if (t->gen != lk->gen) {
			if (lk->n_used >= LIKE_MAX_TERMS)
				return;
			*t = (struct pterm){.h = h, .gen = lk->gen, .tf = w, .disp = disp};
			lk->pt_used[lk->n_used++] = i;
			return;
		}
	}
}

/* Cuts the paper's title (with bigrams) and abstract into lk->pt. */
static void cut(struct like *lk, const char *title, const char *abstract)
{
	struct text_words *tw = &lk->tw;
	uint64_t prev = 0;
	uint32_t prev_w = 0;

	if (++lk->gen == 0) {
		memset(lk->pt, 0, PT_SLOTS * sizeof(*lk->pt));
		lk->gen = 1;
	}
	lk->n_used = 0;
	text_words_clear(tw);
	if (title != NULL)
		text_cut(tw, title, strlen(title), 0);
	if (abstract != NULL)
		text_cut(tw, abstract, strlen(abstract), 1);
	for (size_t i = 0; i < tw->n; i++) {
		const struct text_word *w = &tw->w[i];
		uint64_t h;
		float fw = w->seg == 0 ? (float)LIKE_TITLE_WEIGHT : 1.0f;

		if (w->flags & TEXT_WORD_NOSPACE)
			continue;
		h = stem_hash(lk, text_word_bytes(tw, i), w->len);
		if (h == 0)
			continue;
		add_term(lk, h, fw, (uint32_t)i);
		if (w->seg == 0 && prev != 0)
			add_term(lk, hash_pair(prev, h), fw * (float)LIKE_BIGRAM_WEIGHT, prev_w);
		if (w->seg == 0) {
			prev = h;
			prev_w = (uint32_t)i;
		}
	}
	for (size_t k = 0; k < lk->n_used; k++) {
		struct pterm *t = &lk->pt[lk->pt_used[k]];

		t->term = vocab_get(&lk->vocab, t->h);
		t->tf = 1.0f + logf(t->tf); /* sublinear: 1 + ln tf */
	}
}

/* The display form of a paper's term: its word, or for a bigram its two words. */
static const char *term_display(struct like *lk, const struct pterm *t, bool bigram)
{
	const struct text_words *tw = &lk->tw;
	const struct text_word *a = &tw->w[t->disp];
	size_t j = t->disp + 1;
	char buf[2 * LIKE_MAX_WORD + 2];
	size_t n = a->len;

	memcpy(buf, text_word_bytes(tw, t->disp), n);
	if (bigram) {
		while (j < tw->n && stem_hash(lk, text_word_bytes(tw, j), tw->w[j].len) == 0)
			j++;
		if (j < tw->n && tw->w[j].seg == 0) {
			buf[n++] = ' ';
			memcpy(buf + n, text_word_bytes(tw, j), tw->w[j].len);
			n += tw->w[j].len;
		}
	}
	return arena_strndup(&lk->arena, buf, n);
}

/* ---- Building ---- */

static double idf_of(uint64_t n_docs, uint64_t df)
{
	return pow(log((double)(n_docs + 1) / (double)(df + 1)) + 1.0, LIKE_IDF_POWER);
}

/* Whether the library counts in the IDF of n_seen papers seen: only until they are enough. */
static bool library_in_idf(uint64_t n_seen)
{
	return n_seen < LIKE_IDF_SEEN_MIN;
}

/* The IDF of every term and the length of every library paper, for the papers seen now. */
static void refresh(struct like *lk)
{
	bool lib = library_in_idf(lk->n_seen);
	uint64_t n_docs = (lib ? lk->n_items : 0) + lk->n_seen;
	double c2 = 0;

	memset(lk->norm, 0, lk->n_items * sizeof(*lk->norm));
	for (size_t t = 0; t < lk->n_terms; t++) {
		double idf = idf_of(n_docs, (lib ? lk->lib_df[t] : 0) + (uint64_t)lk->seen_df[t]);

		lk->idf[t] = (float)idf;
		for (uint32_t k = lk->post_off[t]; k < lk->post_off[t + 1]; k++) {
			double w = (double)(lk->post[k] & 0xff) / Q_SCALE * idf;

			lk->norm[lk->post[k] >> 8] += (float)(w * w);
		}
	}
	for (size_t i = 0; i < lk->n_items; i++)
		lk->norm[i] = sqrtf(lk->norm[i]);
	/* The centroid: the library as one paper, for what the topic as a whole shares, less a
	 * share of the papers seen as one paper, for what every digest says anyway. A term may
	 * weigh less than nothing: a paper made of the digests' common words scores 0. */
	for (size_t t = 0; t < lk->n_terms; t++) {
		double c = 0;

		for (uint32_t k = lk->post_off[t]; k < lk->post_off[t + 1]; k++) {
			uint32_t i = lk->post[k] >> 8;

			if (lk->norm[i] > 0)
				c += (double)(lk->post[k] & 0xff) / Q_SCALE * lk->idf[t] /
				     lk->norm[i];
		}
		c /= (double)lk->n_items;
		if (lk->n_seen > 0)
			c -= LIKE_BACKGROUND * lk->idf[t] * lk->seen_unit[t] / (double)lk->n_seen;
		lk->centroid[t] = (float)c;
		c2 += (double)lk->centroid[t] * lk->centroid[t];
	}
	lk->centroid_norm = sqrt(c2);
	lk->seen_at_refresh = lk->n_seen;
}

/* A new term of the library, its display form taken from the item being read. */
static uint32_t new_term(struct like *lk, const struct pterm *t, size_t *cap)
{
	uint32_t id = (uint32_t)lk->n_terms;
	bool bigram = false;

	if (lk->vocab.keys == NULL || (lk->vocab.n + 1) * 2 > lk->vocab.mask + 1)
		vocab_grow(&lk->vocab);
	vocab_insert(&lk->vocab, t->h, id);
	lk->disp = xgrow(lk->disp, cap, lk->n_terms + 1, sizeof(*lk->disp));
	/* A bigram's hash is never a word's: tell them by whether the word's own hash is it. */
	bigram = stem_hash(lk, text_word_bytes(&lk->tw, t->disp), lk->tw.w[t->disp].len) != t->h;
	lk->disp[id] = term_display(lk, t, bigram);
	lk->n_terms++;
	return id;
}

static uint32_t quantise(float w)
{
	double q = round((double)w * Q_SCALE);

	return q < 1 ? 1 : q > 255 ? 255 : (uint32_t)q;
}

/* Once; the library stays loaded. */
int like_load(struct err *err)
{
	static void *handle;
	void *fn;

	if (handle != NULL)
		return 0;
	handle = dlopen(STEMMER_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		return err_set(err, "cannot load libstemmer, which like rules need: %s", dlerror());
		/* A function's address as dlsym() returns it; POSIX makes the conversion exact. */
#define STEMMER_FIND(f)                                                                            \
	fn = dlsym(handle, #f);                                                                    \
	if (fn == NULL)                                                                            \
		goto missing;                                                                      \
	sb.f = (__typeof__(sb.f))fn;
	STEMMER_FUNCTIONS(STEMMER_FIND)
#undef STEMMER_FIND
	return 0;
missing:
	err_set(err, "%s has no function paperwatch calls: %s", STEMMER_LIBRARY, dlerror());
	dlclose(handle);
	handle = NULL;
	return -1;
}

static void scratch_init(struct like *lk)
{
	hmap_init(&lk->cache);
	arena_init(&lk->cache_arena);
	arena_init(&lk->arena);
	text_words_init(&lk->tw);
	if (like_load(NULL) == 0)
		lk->stemmer = sb.sb_stemmer_new("english", "UTF_8");
	lk->pt = xcalloc(PT_SLOTS, sizeof(*lk->pt));
	lk->pt_used = xcalloc(LIKE_MAX_TERMS, sizeof(*lk->pt_used));
	lk->seen_bucket = xcalloc(SEEN_BUCKETS, sizeof(*lk->seen_bucket));
}

/* Whether library entry e is indexed: it has text with a term in it. Cuts it into lk->pt. */
static bool entry_terms(struct like *lk, const struct library_entry *e)
{
	if (e->title == NULL && e->abstract == NULL)
		return false;
	cut(lk, e->title, e->abstract);
	return lk->n_used > 0;
}

/* The first pass over the library: the vocabulary, each term's postings counted in
 * post_off[t + 1], and the titles. */
static void count_terms(struct like *lk, const struct library_file *f)
{
	size_t cap_disp = 0, cap_titles = 0, cap_off = 1;

	lk->post_off = xcalloc(1, sizeof(*lk->post_off));

	for (size_t e = 0; e < f->n && lk->n_items < MAX_ITEMS; e++) {
		const struct library_entry *le = &f->v[e];

		if (!entry_terms(lk, le))
			continue;
		for (size_t k = 0; k < lk->n_used; k++) {
			struct pterm *t = &lk->pt[lk->pt_used[k]];

			if (t->term == NONE) {
				t->term = new_term(lk, t, &cap_disp);
				lk->post_off = xgrow(lk->post_off, &cap_off, lk->n_terms + 1,
						     sizeof(*lk->post_off));
				lk->post_off[t->term + 1] = 0;
			}
			lk->post_off[t->term + 1]++;
		}
		lk->titles = xgrow(lk->titles, &cap_titles, lk->n_items + 1, sizeof(*lk->titles));
		lk->titles[lk->n_items++] =
			le->title ? arena_strndup(&lk->arena, le->title, strlen(le->title))
				  : "(untitled)";
	}
}

/* The second pass: each entry cut again and its terms' postings written in place, in item
 * order, so that each term's postings are sorted by item. Two passes keep no list of every
 * (term, item) pair: a large library's load peaks lower. */
static void fill_postings(struct like *lk, const struct library_file *f)
{
	uint32_t item = 0;

	for (size_t t = 0; t < lk->n_terms; t++)
		lk->post_off[t + 1] += lk->post_off[t];
	lk->n_post = lk->post_off[lk->n_terms];
	lk->post = xreallocarray(NULL, lk->n_post + 1, sizeof(*lk->post));
	for (size_t e = 0; e < f->n && item < lk->n_items; e++) {
		if (!entry_terms(lk, &f->v[e]))
			continue;
		for (size_t k = 0; k < lk->n_used; k++) {
			const struct pterm *t = &lk->pt[lk->pt_used[k]];

			lk->post[lk->post_off[t->term] + lk->lib_df[t->term]++] =
				item << 8 | quantise(t->tf);
		}
		item++;
	}
}

struct like *like_new(const struct library_file *f)
{
	struct like *lk = xcalloc(1, sizeof(*lk));

	scratch_init(lk);
	count_terms(lk, f);
	lk->lib_df = xcalloc(lk->n_terms + 1, sizeof(*lk->lib_df));
	lk->seen_df = xcalloc(lk->n_terms + 1, sizeof(*lk->seen_df));
	lk->idf = xcalloc(lk->n_terms + 1, sizeof(*lk->idf));
	lk->centroid = xcalloc(lk->n_terms + 1, sizeof(*lk->centroid));
	lk->seen_unit = xcalloc(lk->n_terms + 1, sizeof(*lk->seen_unit));
	fill_postings(lk, f);
	lk->norm = xcalloc(lk->n_items + 1, sizeof(*lk->norm));
	lk->acc = xcalloc(lk->n_items + 1, sizeof(*lk->acc));
	lk->touched = xcalloc(lk->n_items + 1, sizeof(*lk->touched));
	refresh(lk);
	return lk;
}

void like_free(struct like *lk)
{
	if (lk == NULL)
		return;
	free(lk->vocab.keys);
	free(lk->vocab.vals);
	free(lk->lib_df);
	free(lk->seen_df);
	free(lk->idf);
	free(lk->centroid);
	free(lk->seen_unit);
	free(lk->disp);
	free(lk->post_off);
	free(lk->post);
	free(lk->titles);
	free(lk->norm);
	free(lk->seen_bucket);
	if (lk->stemmer != NULL)
		sb.sb_stemmer_delete(lk->stemmer);
	hmap_free(&lk->cache);
	free(lk->cache_hash);
	arena_free(&lk->cache_arena);
	text_words_free(&lk->tw);
	free(lk->pt);
	free(lk->pt_used);
	free(lk->acc);
	free(lk->touched);
	arena_free(&lk->arena);
	free(lk);
}

size_t like_size(const struct like *lk)
{
	return lk->n_items;
}

size_t like_bytes(const struct like *lk)
{
	return (size_t)(lk->vocab.mask + 1) * 12 + lk->n_terms * (4 + 4 + 4 + 4 + 4 + 8 + 4) +
	       lk->n_post * 4 + lk->n_items * (8 + 4 + 4 + 4) + (size_t)SEEN_BUCKETS * 4;
}

/* The weight of term t of the paper, tf times IDF: the library's IDF as of the last refresh, or
 * for a term the library does not have an IDF of now. Its bucket counts the papers seen so far,
 * so it is divided against the papers seen so far (and the library's, which never have the term,
 * while they count), not those of the last refresh: fewer than the papers with the term, they
 * took the log below -1 and the power of it to NaN. */
static double paper_weight(const struct like *lk, const struct pterm *t)
{
	uint64_t n_docs = (library_in_idf(lk->n_seen) ? lk->n_items : 0) + lk->n_seen;

	if (t->term != NONE)
		return (double)t->tf * lk->idf[t->term];
	return (double)t->tf * idf_of(n_docs, lk->seen_bucket[t->h & (SEEN_BUCKETS - 1)]);
}

/* Whether the term in slot i of the paper's table, one the library does not have, is the first
 * of the paper's such terms in its bucket: the one counted, so that a bucket counts papers, never
 * more than were seen, as the IDF's log needs. Terms of one bucket start their probe at one slot
 * and fill the slots from there on, so the first is the first met from there. */
static bool bucket_first(const struct like *lk, uint32_t i)
{
	uint32_t mask = (uint32_t)PT_SLOTS - 1;
	uint64_t b = lk->pt[i].h & (SEEN_BUCKETS - 1);

	for (uint32_t j = (uint32_t)lk->pt[i].h & mask; j != i; j = (j + 1) & mask) {
		if (lk->pt[j].term == NONE && (lk->pt[j].h & (SEEN_BUCKETS - 1)) == b)
			return false;
	}
	return true;
}

void like_observe(struct like *lk, const struct paper *p)
{
	double norm2 = 0, norm;

	cut(lk, p->title, p->abstract);
	for (size_t k = 0; k < lk->n_used; k++) {
		const struct pterm *t = &lk->pt[lk->pt_used[k]];
		double w = paper_weight(lk, t);

		norm2 += w * w;
		if (t->term != NONE)
			lk->seen_df[t->term]++;
		else if (bucket_first(lk, lk->pt_used[k]))
			lk->seen_bucket[t->h & (SEEN_BUCKETS - 1)]++;
	}
	/* The paper's unit vector into the background, the IDF left for the refresh to apply:
	 * the norm is the one of the IDF as of now, close enough as it changes in steps. */
	norm = sqrt(norm2);
	for (size_t k = 0; norm > 0 && k < lk->n_used; k++) {
		const struct pterm *t = &lk->pt[lk->pt_used[k]];

		if (t->term != NONE)
			lk->seen_unit[t->term] += (float)(t->tf / norm);
	}
	lk->n_seen++;
	/* The library's lengths follow the IDF in steps, not paper by paper. */
	if (lk->n_seen >= lk->seen_at_refresh + lk->seen_at_refresh / 10 + 100)
		refresh(lk);
}

/* ---- Scoring ---- */

/* The best k items by similarity, into best[] (most similar first); returns how many. */
static size_t best_items(struct like *lk, double pnorm, uint32_t *best, double *sim, size_t k)
{
	size_t n = 0;

	for (size_t j = 0; j < lk->n_touched; j++) {
		uint32_t i = lk->touched[j];
		double s = lk->norm[i] > 0 ? lk->acc[i] / (pnorm * lk->norm[i]) : 0;
		size_t at;

		lk->acc[i] = 0;
		if (n == k && s <= sim[n - 1])
			continue;
		at = n < k ? n++ : n - 1;
		/* Ties go to the earlier library paper: scores do not depend on the order touched.
		 */
		while (at > 0 && (sim[at - 1] < s || (sim[at - 1] == s && best[at - 1] > i))) {
			sim[at] = sim[at - 1];
			best[at] = best[at - 1];
			at--;
		}
		sim[at] = s;
		best[at] = i;
	}
	lk->n_touched = 0;
	return n;
}

/* The weight of term t in library item i, from its postings (sorted by item), or 0. */
static double item_weight(const struct like *lk, uint32_t t, uint32_t i)
{
	uint32_t lo = lk->post_off[t], hi = lk->post_off[t + 1];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, it = lk->post[mid] >> 8;

		if (it == i)
			return (double)(lk->post[mid] & 0xff) / Q_SCALE * lk->idf[t];
		if (it < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The terms that brought the most to the closest item, into why. */
static void explain(struct like *lk, uint32_t item, struct like_why *why)
{
	double top[LIKE_WHY_TERMS] = {0};
	size_t top_k[LIKE_WHY_TERMS] = {0};

	why->n_terms = 0;
	for (size_t k = 0; k < lk->n_used; k++) {
		const struct pterm *t = &lk->pt[lk->pt_used[k]];
		double c;
		size_t at;

		if (t->term == NONE)
			continue;
		c = paper_weight(lk, t) * item_weight(lk, t->term, item);
		if (c <= 0 || (why->n_terms == LIKE_WHY_TERMS && c <= top[LIKE_WHY_TERMS - 1]))
			continue;
		at = why->n_terms < LIKE_WHY_TERMS ? why->n_terms++ : LIKE_WHY_TERMS - 1;
		while (at > 0 && top[at - 1] < c) {
			top[at] = top[at - 1];
			top_k[at] = top_k[at - 1];
			at--;
		}
		top[at] = c;
		top_k[at] = k;
	}
	for (size_t j = 0; j < why->n_terms; j++)
		why->terms[j] = lk->disp[lk->pt[lk->pt_used[top_k[j]]].term];
}

/* The library paper closest to the paper just cut, of norm pnorm, into why: the walk of its
 * terms' postings, but for the terms too common in the library to tell its papers apart. */
static void closest(struct like *lk, double pnorm, struct like_why *why)
{
	uint32_t common = (uint32_t)((double)lk->n_items * COMMON_SHARE), best;
	double sim;

	common = common < COMMON_MIN ? COMMON_MIN : common > COMMON_MAX ? COMMON_MAX : common;
	for (size_t j = 0; j < lk->n_used; j++) {
		const struct pterm *t = &lk->pt[lk->pt_used[j]];
		float a;

		if (t->term == NONE || lk->lib_df[t->term] > common)
			continue;
		a = (float)(paper_weight(lk, t) * lk->idf[t->term] / Q_SCALE);
		for (uint32_t q = lk->post_off[t->term]; q < lk->post_off[t->term + 1]; q++) {
			uint32_t i = lk->post[q] >> 8;

			if (lk->acc[i] == 0)
				lk->touched[lk->n_touched++] = i;
			lk->acc[i] += a * (float)(lk->post[q] & 0xff);
		}
	}
	if (best_items(lk, pnorm, &best, &sim, 1) == 0)
		return;
	why->closest = lk->titles[best];
	why->closest_sim = sim;
	explain(lk, best, why);
}

double like_score(struct like *lk, const struct paper *p, struct like_why *why)
{
	double norm2 = 0, cdot = 0, score;

	if (why != NULL)
		*why = (struct like_why){0};
	if (lk->n_items == 0)
		return 0;
	cut(lk, p->title, p->abstract);
	for (size_t j = 0; j < lk->n_used; j++) {
		const struct pterm *t = &lk->pt[lk->pt_used[j]];
		double w = paper_weight(lk, t);

		norm2 += w * w;
		if (t->term != NONE)
			cdot += w * lk->centroid[t->term];
	}
	if (norm2 <= 0 || lk->centroid_norm <= 0)
		return 0;
	score = cdot / (sqrt(norm2) * lk->centroid_norm);
	score = score < 0 ? 0 : score > 1 ? 1 : score;
	/* Six decimals: sums in another order must not change what is shown or compared. */
	score = round(score * 1e6) / 1e6;
	if (why != NULL) {
		why->score = score;
		closest(lk, sqrt(norm2), why);
	}
	return score;
}
