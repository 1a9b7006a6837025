/*
 * match/litscan.c — the q-gram method with a stride: a literal of length L has L - 2 three-byte
 * groups starting at consecutive offsets, so looking at every (Lmin - 2)th position of the text
 * meets one group of every occurrence of every literal. A group seen there is looked up (behind a
 * bit filter) and each literal holding it is compared where it would have to start.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "litscan.h"
#include "xmalloc.h"

#define NONE UINT32_MAX
/* Bits in the filter of groups, indexed by the top bits of a multiplicative hash. */
#define GROUP_BITS 16

/* One group of one literal: the literal, where in it the group is, the next with the same
 * bytes. */
struct group {
	uint32_t lit, offset, next;
};

struct literal {
	const char *s;
	uint32_t len;
};

struct litscan {
	struct literal *lits;
	size_t n_lits, cap_lits;
	struct group *groups;
	size_t n_groups, cap_groups;
	struct hmap index; /* the three bytes of a group -> its first entry in groups[] */
	uint64_t filter[(1u << GROUP_BITS) / 64];
	size_t stride;
};

static uint32_t group_value(const char *p)
{
	return (uint32_t)(unsigned char)p[0] << 16 | (uint32_t)(unsigned char)p[1] << 8 |
	       (unsigned char)p[2];
}

static uint32_t group_bit(uint32_t g)
{
	return (g * 0x9e3779b1u) >> (32 - GROUP_BITS);
}

struct litscan *litscan_new(void)
{
	struct litscan *ls = xcalloc(1, sizeof(*ls));

	hmap_init(&ls->index);
	return ls;
}

void litscan_free(struct litscan *ls)
{
	if (ls == NULL)
		return;
	free(ls->lits);
	free(ls->groups);
	hmap_free(&ls->index);
	free(ls);
}

uint32_t litscan_add(struct litscan *ls, const char *s, size_t n)
{
	ls->lits = xgrow(ls->lits, &ls->cap_lits, ls->n_lits + 1, sizeof(*ls->lits));
	ls->lits[ls->n_lits] = (struct literal){s, (uint32_t)n};
	return (uint32_t)ls->n_lits++;
}

void litscan_build(struct litscan *ls)
{
	size_t shortest = SIZE_MAX;

	for (uint32_t l = 0; l < ls->n_lits; l++) {
		const struct literal *lit = &ls->lits[l];

		if (lit->len < shortest)
			shortest = lit->len;
		for (uint32_t o = 0; o + 3 <= lit->len; o++) {
			bool existed;
			struct hmap_slot *slot = hmap_put(&ls->index, lit->s + o, 3, &existed);

			ls->groups = xgrow(ls->groups, &ls->cap_groups, ls->n_groups + 1,
					   sizeof(*ls->groups));
			ls->groups[ls->n_groups] =
				(struct group){l, o, existed ? slot->value : NONE};
			slot->value = (uint32_t)ls->n_groups++;
			ls->filter[group_bit(group_value(lit->s + o)) >> 6] |=
				(uint64_t)1 << (group_bit(group_value(lit->s + o)) & 63);
		}
	}
	ls->stride = shortest == SIZE_MAX ? 1 : shortest - 2;
}

/* The literals holding the group at text[i], each compared where it would start. */
static void check_group(const struct litscan *ls, const char *text, size_t n, size_t i,
			litscan_fn found, void *ctx)
{
	const uint32_t *first = hmap_get(&ls->index, text + i, 3);

	for (uint32_t k = first ? *first : NONE; k != NONE; k = ls->groups[k].next) {
		const struct group *g = &ls->groups[k];
		const struct literal *lit = &ls->lits[g->lit];

		if (g->offset > i || i - g->offset + lit->len > n)
			continue;
		if (memcmp(text + i - g->offset, lit->s, lit->len) == 0)
			found(ctx, g->lit);
	}
}

void litscan_find(const struct litscan *ls, const char *text, size_t n, litscan_fn found, void *ctx)
{
	if (ls->n_lits == 0)
		return;
	for (size_t i = 0; i + 3 <= n; i += ls->stride) {
		uint32_t bit = group_bit(group_value(text + i));

		if ((ls->filter[bit >> 6] >> (bit & 63)) & 1)
			check_group(ls, text, n, i, found, ctx);
	}
}
