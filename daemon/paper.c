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

/* The string member key of o, copied into the arena; NULL when it is not a string. */
static const char *arena_member(struct arena *a, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? arena_strndup(a, json_string_value(v), json_string_length(v))
				 : NULL;
}

int paper_from_json(struct arena *a, struct paper *p, const json_t *o)
{
	const json_t *authors = json_object_get(o, "authors");

	*p = (struct paper){0};
	if ((p->title = arena_member(a, o, "title")) == NULL)
		return -1;
	p->id = arena_member(a, o, "id");
	p->version = arena_member(a, o, "version");
	p->abstract = arena_member(a, o, "abstract");
	p->translation = arena_member(a, o, "translation");
	p->date = arena_member(a, o, "date");
	p->url = arena_member(a, o, "url");
	p->source = arena_member(a, o, "source");
	p->authors_truncated = json_is_true(json_object_get(o, "authors_truncated"));
	if (json_is_array(authors)) {
		size_t n = json_array_size(authors);
		const char **names = arena_alloc(a, (n + 1) * sizeof(*names));

		for (size_t i = 0; i < n; i++) {
			const json_t *v = json_array_get(authors, i);

			if (json_is_string(v))
				names[p->n_authors++] = arena_strndup(a, json_string_value(v),
								      json_string_length(v));
		}
		p->authors = names;
	}
	return 0;
}
