/*
 * alerts.h — made-up alert batches for the notifier tests: many papers, hostile and very long
 * fields, hits where a rule would put them, and notifiers loaded from configuration text.
 */
#ifndef PW_TEST_ALERTS_H
#define PW_TEST_ALERTS_H

#include <jansson.h>
#include <stdbool.h>

#include "arena.h"
#include "config.h"
#include "log.h"
#include "channel.h"
#include "xmalloc.h"

/* Everything a batch points at lives in the arena. */
struct fake {
	struct arena arena;
	struct alert *alerts;
	struct paper *papers; /* alerts[i].paper is &papers[i], here to be changed */
	size_t n;
	struct alert_batch b;
};

/* A hit on the first occurrence of word in text (which must hold it). */
static inline struct match_hit fake_hit(enum match_field f, unsigned author, const char *text,
					const char *word)
{
	const char *at = strstr(text, word);

	assert_non_null(at);
	return (struct match_hit){.field = f,
				  .author = author,
				  .start = (size_t)(at - text),
				  .end = (size_t)(at - text) + strlen(word)};
}

/* Paper i: Markdown, mention and HTML bait in its title, a multi-byte author, an abstract hit. */
static inline void fake_paper(struct fake *f, size_t i)
{
	struct paper *p = &f->papers[i];
	const char **authors = arena_alloc(&f->arena, 3 * sizeof(*authors));
	static const char *const rules[] = {"agents", "tool-use"};
	struct match_hit *h = arena_alloc(&f->arena, 3 * sizeof(*h));
	char buf[256];

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "2410.%05zu", i);
	p->id = arena_strndup(&f->arena, buf, strlen(buf));
	p->version = "v1";
	p->date = "2024-10-21";
	snprintf(buf, sizeof(buf), "https://arxiv.org/abs/2410.%05zu", i);
	p->url = arena_strndup(&f->arena, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "Paper %zu: *Agents* & <tools> for @everyone_ [x](y) ~~über~~",
		 i);
	p->title = arena_strndup(&f->arena, buf, strlen(buf));
	authors[0] = "Zoë Ångström";
	authors[1] = "Ada Lovelace";
	authors[2] = "李小龙";
	p->authors = authors;
	p->n_authors = 3;
	p->abstract = "We study how large language models use tools when they act as agents in "
		      "the wild, and what goes wrong when they do.";
	h[0] = fake_hit(MATCH_TITLE, 0, p->title, "Agents");
	h[1] = fake_hit(MATCH_AUTHORS, 2, authors[2], "小龙");
	h[2] = fake_hit(MATCH_ABSTRACT, 0, p->abstract, "agents");
	f->alerts[i] = (struct alert){.paper = p,
				      .rules = (const char *const *)rules,
				      .n_rules = 2,
				      .hits = h,
				      .n_hits = 3};
}

/* A batch of n such papers from a digest called source. */
static inline void fake_batch(struct fake *f, size_t n, const char *source)
{
	memset(f, 0, sizeof(*f));
	arena_init(&f->arena);
	f->alerts = arena_alloc(&f->arena, (n + 1) * sizeof(*f->alerts));
	f->papers = arena_alloc(&f->arena, (n + 1) * sizeof(*f->papers));
	f->n = n;
	for (size_t i = 0; i < n; i++)
		fake_paper(f, i);
	f->b = (struct alert_batch){.source = source,
				    .alerts = f->alerts,
				    .n_alerts = n,
				    .key = "msg_0123456789abcdef",
				    .created_ms = 1729500000123LL};
}

/* Makes paper i enormous: a 10,000-character title and 2,000 authors, the 1,500th matched. */
static inline void fake_enormous(struct fake *f, size_t i)
{
	struct paper *p = &f->papers[i];
	char *title = arena_alloc(&f->arena, 10001);
	const char **authors = arena_alloc(&f->arena, 2000 * sizeof(*authors));
	struct match_hit *h = arena_alloc(&f->arena, 2 * sizeof(*h));

	memset(title, 'x', 10000);
	memcpy(title + 5000, "Agents", 6);
	title[10000] = '\0';
	for (size_t k = 0; k < 2000; k++) {
		char name[32];

		snprintf(name, sizeof(name), "Author Number%zu", k);
		authors[k] = arena_strndup(&f->arena, name, strlen(name));
	}
	p->title = title;
	p->authors = authors;
	p->n_authors = 2000;
	h[0] = fake_hit(MATCH_TITLE, 0, title, "Agents");
	h[1] = fake_hit(MATCH_AUTHORS, 1500, authors[1500], "Number1500");
	f->alerts[i].hits = h;
	f->alerts[i].n_hits = 2;
}

/* A batch of three: paper 0 as fake_paper makes it, paper 1 whose abstract no rule matched (its
 * snippet is its first two sentences), paper 2 with no abstract and no authors. */
#define FAKE_LEAD "Sparse attention cuts the cost of long contexts. We review forty methods."
static inline void fake_sparse(struct fake *f)
{
	fake_batch(f, 3, "d.md");
	f->papers[1].abstract = FAKE_LEAD " The rest of this abstract goes on for a while.";
	f->alerts[1].n_hits = 2;
	f->papers[2].abstract = NULL;
	f->papers[2].authors = NULL;
	f->papers[2].n_authors = 0;
	f->alerts[2].n_hits = 1;
}

static inline void fake_free(struct fake *f)
{
	arena_free(&f->arena);
}

/* A configuration holding one notifier given as libconfig text; fails the test if it is bad. */
static inline struct config *fake_config(const char *notifier)
{
	struct config_diag d = {0};
	char *text = xasprintf(
		"notifiers = ( %s );\nrules = ( { name = \"a\"; query = \"x\"; } );\n", notifier);
	struct config *cfg = config_load_string("test.conf", text, &d);

	for (size_t i = 0; i < d.n; i++)
		print_message("%s\n", d.items[i].text);
	free(text);
	config_diag_free(&d);
	assert_non_null(cfg);
	return cfg;
}

/* A health notice whose text has markup and a mention in it, and two lines of detail. */
static inline struct notice fake_notice(bool clears)
{
	return (struct notice){.type = "health",
			       .condition = "quiet",
			       .subject = "hf-*.md",
			       .clears = clears,
			       .title = "no digest matching hf-*.md <for> 24h & @everyone",
			       .detail =
				       "The last came at 2024-10-21 08:40:00 UTC.\nSecond *line*.",
			       .key = "health_0123",
			       .created_ms = 1729500000000LL};
}

/* The characters a service counts, for checking limits from the outside. */
static inline size_t json_chars(const json_t *s)
{
	return s ? notify_chars(json_string_value(s), json_string_length(s)) : 0;
}

/* How many messages of l mention needle (each counted once). */
static inline size_t messages_with(const struct message_list *l, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += strstr(l->v[i].body, needle) != NULL;
	return n;
}

/* How the notifier judges an HTTP answer with this status, body and Retry-After header. */
static inline struct send_result judge_http(const struct notifier *n, long status, const char *body,
					    const char *retry_after)
{
	struct send_response r = {.code = CURLE_OK,
				  .status = status,
				  .body = body,
				  .body_len = strlen(body),
				  .retry_after = retry_after};
	struct send_result out;

	n->ops->classify(n, &r, &out);
	return out;
}

#endif
