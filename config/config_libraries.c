/*
 * config_libraries.c — the libraries rules compare papers with (like:NAME): each a name and a
 * file, read at load and again when the file changes. A library that cannot be read, or that
 * has no entry with text, is an error: a rule on it would silently match nothing. Entries that
 * cannot be read are warnings, and the others are used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_libraries.h"
#include "log.h"
#include "match/like.h"
#include "match/match.h"
#include "state.h"
#include "utf8.h"
#include "xmalloc.h"

/* Bytes of the closest library paper's title an explanation shows. */
#define CLOSEST_MAX 160

static const struct conf_key library_keys[] = {
	{
		.name = "name",
		.type = CONF_STRING,
		.required = true,
		.offset = offsetof(struct config_library, name),
		.desc = "what rules call it, as in like:NAME",
	},
	{
		.name = "file",
		.type = CONF_STRING,
		.required = true,
		.offset = offsetof(struct config_library, file),
		.desc = "a BibTeX or CSL JSON export, or a list of arXiv ids; read again when it "
			"changes",
	},
	{.name = NULL},
};

/* A problem with one entry of a library, as a warning of the configuration. */
struct entry_warn {
	struct conf_ctx *c;
	const config_setting_t *at;
};

static void warn_entry(void *ctx, const char *file, unsigned line, const char *reason)
{
	struct entry_warn *w = ctx;

	if (w->c != NULL)
		conf_warn(w->c, w->at, "library %s:%u: %s", file, line, reason);
	else
		log_warn("library %s:%u: %s", file, line, reason);
}

/* The index of a library's file: NULL with err set when it cannot be read or has no entry
 * with text. A list of arXiv ids goes into *ids (the caller's), its index empty until
 * config_libraries_fill gives its papers their text. */
static struct like *load_index(const char *path, struct entry_warn *w, struct library_file **ids,
			       struct err *err)
{
	struct library_file f;
	struct like *lk;

	*ids = NULL;
	if (like_load(err) != 0 || library_read_file(path, &f, warn_entry, w, err) != 0)
		return NULL;
	lk = like_new(&f);
	if (f.n == 0) {
		err_set(err, "%s: no entry read: not BibTeX, CSL JSON or a list of arXiv ids",
			path);
		like_free(lk);
		lk = NULL;
	} else if (f.format == LIBRARY_IDS) {
		/* Its papers' text comes from the state, as digests bring them. */
		*ids = xmalloc(sizeof(**ids));
		**ids = f;
		return lk;
	} else if (like_size(lk) == 0) {
		err_set(err, "%s: no entry with a title or an abstract (%zu read as %s)", path, f.n,
			library_format_name(f.format));
		like_free(lk);
		lk = NULL;
	}
	library_file_free(&f);
	return lk;
}

static void ids_free(struct library_file *ids)
{
	library_file_free(ids);
	free(ids);
}

/* Loads one entry of the list into cfg->libraries[cfg->n_libraries]. */
static void load_library(struct conf_ctx *c, const config_setting_t *e, struct config *cfg)
{
	struct config_library *l = &cfg->libraries[cfg->n_libraries];
	struct entry_warn w = {c, e};
	struct err err;

	memset(l, 0, sizeof(*l));
	l->line = config_setting_source_line(e);
	if (conf_read_group(c, e, library_keys, l) != 0) {
		conf_free_group(library_keys, l);
		return;
	}
	if (config_library_index(cfg, l->name) >= 0) {
		conf_error(c, e, "a second library named \"%s\"", l->name);
	} else if ((l->like = load_index(l->file, &w, &l->ids, &err)) == NULL) {
		conf_error(c, config_setting_get_member(e, "file"), "library \"%s\": %s", l->name,
			   err.msg);
	} else {
		if (l->ids != NULL)
			conf_warn(
				c, config_setting_get_member(e, "file"),
				"library \"%s\": %zu arXiv ids: each paper counts once a digest "
				"has brought it (the state keeps the last papers_kept papers read)",
				l->name, l->ids->n);
		cfg->keeps_papers |= l->ids != NULL;
		cfg->n_libraries++;
		return;
	}
	conf_free_group(library_keys, l);
}

/* Every like:NAME of every rule must name a library. */
static void check_rules(struct conf_ctx *c, const config_t *cf, struct config *cfg)
{
	const config_setting_t *list = config_lookup(cf, "rules");
	struct err err;

	for (size_t r = 0; r < cfg->n_rules; r++) {
		const char *name;

		for (size_t i = 0; (name = matcher_like_name(cfg->matcher, (unsigned)r, i)); i++) {
			if (config_library_check(cfg, name, &err) == 0)
				continue;
			conf_error(c, list ? config_setting_get_elem(list, (unsigned)r) : NULL,
				   "rule \"%s\": %s", cfg->rules[r].name, err.msg);
		}
	}
}

/* Whether like:name holds for the paper under rule: its score reaches the rule's min_score. */
static bool like_holds(void *ctx, unsigned rule, const char *name, const struct paper *p)
{
	struct config *cfg = ctx;
	int i = config_library_index(cfg, name);
	struct config_library *l;

	if (i < 0 || rule >= cfg->n_rules)
		return false;
	l = &cfg->libraries[i];
	if (l->scored_gen != cfg->like_gen) {
		l->score = like_score(l->like, p, NULL);
		l->scored_gen = cfg->like_gen;
	}
	return l->score >= cfg->rules[rule].min_score;
}

void config_load_libraries(struct conf_ctx *c, const config_t *cf, struct config *cfg)
{
	const config_setting_t *list = config_lookup(cf, "libraries");
	int n;

	if (list != NULL && config_setting_type(list) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(list) == CONFIG_TYPE_ARRAY && config_setting_length(list) == 0)) {
		conf_error(c, list, "libraries must be a list ( { ... }, { ... } ), not %s",
			   conf_type_name(config_setting_type(list)));
		list = NULL;
	}
	n = list ? config_setting_length(list) : 0;
	cfg->libraries = xcalloc((size_t)n + 1, sizeof(*cfg->libraries));
	for (int i = 0; i < n; i++)
		load_library(c, config_setting_get_elem(list, (unsigned)i), cfg);
	check_rules(c, cf, cfg);
	matcher_set_like(cfg->matcher, like_holds, cfg);
}

void config_free_libraries(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_libraries; i++) {
		like_free(cfg->libraries[i].like);
		ids_free(cfg->libraries[i].ids);
		conf_free_group(library_keys, &cfg->libraries[i]);
	}
	free(cfg->libraries);
	cfg->libraries = NULL;
	cfg->n_libraries = 0;
}

int config_library_index(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_libraries; i++) {
		if (strcmp(c->libraries[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

int config_library_check(const struct config *c, const char *name, struct err *err)
{
	if (c != NULL && config_library_index(c, name) >= 0)
		return 0;
	return err_set(err,
		       "like:%s names no library (libraries = ( { name = \"%s\"; file = \"...\"; "
		       "} ))",
		       name, name);
}

void config_like_begin(struct config *c, const struct paper *p)
{
	c->like_gen++;
	for (size_t i = 0; i < c->n_libraries; i++)
		like_observe(c->libraries[i].like, p);
}

double config_like_score(struct config *c, unsigned rule, const struct paper *p, size_t *library)
{
	double best = -1;
	const char *name;

	for (size_t i = 0; (name = matcher_like_name(c->matcher, rule, i)) != NULL; i++) {
		int k = config_library_index(c, name);
		struct config_library *l;

		if (k < 0)
			continue;
		l = &c->libraries[k];
		if (l->scored_gen != c->like_gen) {
			l->score = like_score(l->like, p, NULL);
			l->scored_gen = c->like_gen;
		}
		if (l->score > best) {
			best = l->score;
			*library = (size_t)k;
		}
	}
	return best;
}

int config_library_reload(struct config *c, size_t i, size_t *papers, struct err *err)
{
	struct config_library *l = &c->libraries[i];
	struct entry_warn w = {NULL, NULL};
	struct library_file *ids;
	struct like *lk = load_index(l->file, &w, &ids, err);

	if (lk == NULL)
		return err_prefix(err, "library \"%s\" kept as it was: ", l->name);
	if ((l->ids != NULL) != (ids != NULL)) {
		like_free(lk);
		ids_free(ids);
		return err_set(err,
			       "library \"%s\" kept as it was: a list of ids and a library "
			       "with text take a reload to change one into the other",
			       l->name);
	}
	like_free(l->like);
	ids_free(l->ids);
	l->ids = ids;
	l->like = lk;
	l->scored_gen = 0;
	*papers = like_size(lk);
	return 0;
}

char *config_like_explain(struct config *c, unsigned rule, const struct paper *p, double *score)
{
	struct like_why why;
	size_t lib = 0;
	char terms[256] = "";
	size_t used = 0;

	*score = config_like_score(c, rule, p, &lib);
	if (*score < 0)
		return NULL;
	like_score(c->libraries[lib].like, p, &why);
	for (size_t i = 0; i < why.n_terms && used < sizeof(terms); i++)
		used += (size_t)snprintf(terms + used, sizeof(terms) - used, "%s%s", i ? ", " : "",
					 why.terms[i]);
	if (why.closest == NULL)
		return xasprintf("like:%s %.2f, nothing close", c->libraries[lib].name, *score);
	return xasprintf("like:%s %.2f, closest \u201c%.*s\u201d (%.2f)%s%s",
			 c->libraries[lib].name, *score,
			 (int)utf8_cut(why.closest, strlen(why.closest), CLOSEST_MAX), why.closest,
			 why.closest_sim, why.n_terms ? ", shared: " : "", terms);
}

/* A paper of a list of ids being given its text. */
struct fill {
	struct library_file *f;
	struct library_entry *e;
};

static void on_text(void *ctx, const char *title, const char *abstract)
{
	struct fill *x = ctx;

	x->e->title = arena_strndup(&x->f->arena, title, strlen(title));
	if (abstract != NULL)
		x->e->abstract = arena_strndup(&x->f->arena, abstract, strlen(abstract));
}

int config_libraries_fill(struct config *c, struct state *st, size_t *filled, struct err *err)
{
	*filled = 0;
	for (size_t i = 0; i < c->n_libraries; i++) {
		struct config_library *l = &c->libraries[i];
		size_t before = *filled;

		for (size_t k = 0; l->ids != NULL && k < l->ids->n; k++) {
			struct fill x = {l->ids, &l->ids->v[k]};

			if (x.e->title != NULL)
				continue;
			if (state_paper_text(st, x.e->id, on_text, &x, err) != 0)
				return -1;
			*filled += x.e->title != NULL;
		}
		if (*filled == before)
			continue;
		like_free(l->like);
		l->like = like_new(l->ids);
		l->scored_gen = 0;
	}
	return 0;
}
