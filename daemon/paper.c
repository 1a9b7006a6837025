/*
 * paper.c — copying a paper out of the parser's buffers, and its JSON form.
 */
#include <string.h>

#include "paper.h"

static const char *copy_str(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

void paper_copy(struct arena *a, struct paper *c, const struct paper *p)
{
	*c = *p;
	c->id = copy_str(a, p->id);
	c->version = copy_str(a, p->version);
	c->title = copy_str(a, p->title);
	c->abstract = copy_str(a, p->abstract);
	c->translation = copy_str(a, p->translation);
	c->date = copy_str(a, p->date);
	c->url = copy_str(a, p->url);
	c->source = copy_str(a, p->source);
	if (p->authors != NULL) {
		const char **names = arena_alloc(a, p->n_authors * sizeof(*names));

		for (size_t i = 0; i < p->n_authors; i++)
			names[i] = copy_str(a, p->authors[i]);
		c->authors = names;
	}
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *paper_json(const struct paper *p)
{
	json_t *o = json_object();
	json_t *authors = json_null();

	if (p->authors != NULL) {
		authors = json_array();
		for (size_t i = 0; i < p->n_authors; i++)
			json_array_append_new(authors, json_string(p->authors[i]));
	}
	json_object_set_new(o, "id", json_str_or_null(p->id));
	json_object_set_new(o, "version", json_str_or_null(p->version));
	json_object_set_new(o, "title", json_string(p->title));
	json_object_set_new(o, "authors", authors);
	json_object_set_new(o, "authors_truncated",
			    p->authors ? json_boolean(p->authors_truncated) : json_null());
	json_object_set_new(o, "abstract", json_str_or_null(p->abstract));
	json_object_set_new(o, "translation", json_str_or_null(p->translation));
	json_object_set_new(o, "date", json_str_or_null(p->date));
	json_object_set_new(o, "url", json_str_or_null(p->url));
	json_object_set_new(o, "source", json_str_or_null(p->source));
	json_object_set_new(o, "format", json_str_or_null(p->format));
	return o;
}
