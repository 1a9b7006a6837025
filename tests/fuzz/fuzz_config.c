/*
 * fuzz_config.c — libFuzzer target for the configuration loader. Any text must load or be
 * refused with a reason, without a crash, a leak or undefined behaviour; a configuration that
 * loads must hold together (every rule's targets real notifiers, names unique, the matcher one
 * rule per rule, settings in range), match a paper and format a message through every notifier,
 * and free cleanly.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "match/match.h"
#include "notify.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_strings(const struct conf_strings *l)
{
	for (size_t i = 0; i < l->n; i++)
		check(l->v[i] != NULL);
}

static void check_settings(const struct config *cfg)
{
	const struct config_delivery *d = &cfg->delivery;

	check(cfg->refs == 1 && cfg->path != NULL && strcmp(cfg->path, NAME) == 0);
	check(cfg->watch.dir != NULL && cfg->state != NULL && cfg->watch.max_file_size >= 1);
	check(cfg->watch.include.n >= 1);
	check_strings(&cfg->watch.include);
	check_strings(&cfg->watch.exclude);
	/* Delays become timers and curl's milliseconds: finite, never negative. */
	check(isfinite(d->max_age) && isfinite(d->retry_base) && isfinite(d->retry_max) &&
	      isfinite(d->shutdown_grace));
	check(d->max_age >= 1 && d->retry_base >= 0 && d->retry_max >= d->retry_base &&
	      d->shutdown_grace >= 0);
}

static void check_notifiers(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		const struct notifier *n = &cfg->notifiers[i];

		check(n->name != NULL && n->name[0] != '\0' && n->ops != NULL && n->conf != NULL);
		check(notify_find(n->ops->type) == n->ops);
		check(config_notifier_index(cfg, n->name) == (int)i);
	}
}

static void check_rules(const struct config *cfg)
{
	check(cfg->matcher != NULL && matcher_count(cfg->matcher) == cfg->n_rules);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct config_rule *r = &cfg->rules[i];

		check(r->name != NULL && r->name[0] != '\0' && r->query != NULL);
		check(config_rule_index(cfg, r->name) == (int)i);
		check_strings(&r->notify);
		/* Without notify, every notifier in order; with it, exactly the ones it names. */
		if (r->notify.n == 0) {
			check(r->n_targets == cfg->n_notifiers);
			for (size_t t = 0; t < r->n_targets; t++)
				check(r->targets[t] == t);
			continue;
		}
		check(r->n_targets == r->notify.n);
		for (size_t t = 0; t < r->n_targets; t++) {
			check(r->targets[t] < cfg->n_notifiers);
			check(strcmp(cfg->notifiers[r->targets[t]].name, r->notify.v[t]) == 0);
		}
	}
}

/* A matching rule must be a real one, and its hits real terms of it. */
static void on_match(void *ctx, unsigned rule, const struct match_hit *hits, size_t n_hits)
{
	const struct config *cfg = ctx;

	check(rule < cfg->n_rules);
	for (size_t i = 0; i < n_hits; i++)
		check(hits[i].term < matcher_term_count(cfg->matcher, rule) &&
		      hits[i].start <= hits[i].end);
}

/* Every notifier formats the sample alert as `paperwatch test-notify` would. */
static void format_sample(struct config *cfg)
{
	struct alert_batch b = notify_sample_batch();

	b.key = "msg_fuzz";
	b.created_ms = 1700000000000;
	matcher_match(cfg->matcher, b.alerts[0].paper, true, on_match, cfg);
	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		const struct notifier *n = &cfg->notifiers[i];
		struct message_list l = {0};
		struct err err;

		if (n->ops->format(n, &b, &l, &err) == 0) {
			check(l.n >= 1);
			for (size_t m = 0; m < l.n; m++)
				check(l.v[m].key != NULL && l.v[m].body != NULL);
		}
		message_list_free(&l);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct config_diag d = {0};
	struct config *cfg;

	/* Silent: the loader's warnings are the expected answer to most inputs. */
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	cfg = config_load_string(NAME, text, &d);
	/* A refusal says why; every message names the text and says something. */
	check(d.n_errors <= d.n && (cfg != NULL) == (d.n_errors == 0));
	for (size_t i = 0; i < d.n; i++)
		check(strncmp(d.items[i].text, NAME ":", strlen(NAME ":")) == 0 &&
		      strlen(d.items[i].text) > strlen(NAME ":"));
	if (cfg != NULL) {
		check_settings(cfg);
		check_notifiers(cfg);
		check_rules(cfg);
		format_sample(cfg);
		/* A send in flight keeps its configuration alive past a reload. */
		check(config_ref(cfg) == cfg && cfg->refs == 2);
		config_unref(cfg);
		config_unref(cfg);
	}
	config_diag_free(&d);
	free(text);
	return 0;
}
