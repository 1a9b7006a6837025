/*
 * test_notify_discord.c — the Discord channel: Markdown and mentions escaped, hits in bold,
 * messages within every content and embed limit however many papers and however long their
 * fields, nobody pinged, and 429s waited out as long as Discord asks.
 */
#include "unit.h"

#include "alerts.h"

#define DISCORD_CONF                                                                               \
	"{ name = \"lab\"; type = \"discord\"; "                                                   \
	"url = \"https://discord.com/api/webhooks/123/DISCORDSECRET42\"; }"

static struct message_list format(const struct notifier *n, struct fake *f)
{
	struct message_list l = {0};
	struct err err;

	assert_int_equal(n->ops->format(n, &f->b, &l, &err), 0);
	return l;
}

static json_t *parse(const struct message *m)
{
	json_t *o = json_loadb(m->body, m->len, 0, NULL);

	assert_non_null(o);
	return o;
}

static void markdown_and_mentions_in_paper_text_are_escaped_and_hits_bold(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	struct fake f;
	struct message_list l;
	json_t *o, *e;

	(void)state;
	fake_batch(&f, 1, "my_digest.md");
	l = format(&cfg->notifiers[0], &f);
	assert_int_equal(l.n, 1);
	o = parse(&l.v[0]);
	assert_string_equal(json_string_value(json_object_get(o, "content")),
			    "**1 new paper** for 2024-10-21\n-# from my\\_digest.md");
	e = json_array_get(json_object_get(o, "embeds"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "title")),
			    "Paper 0: \\***Agents**\\* & \\<tools\\> for @\u200beveryone\\_ "
			    "\\[x\\]\\(y\\) \\~\\~über\\~\\~");
	assert_string_equal(json_string_value(json_object_get(e, "url")),
			    "https://arxiv.org/abs/2410.00000");
	assert_string_equal(
		json_string_value(json_object_get(e, "description")),
		"Zoë Ångström, Ada Lovelace, 李**小龙**\nWe study how large language "
		"models use tools when they act as **agents** in the wild, and what goes "
		"wrong when they do.");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(e, "fields"), 0), "value")),
			    "agents, tool\\-use");
	/* Nobody is pinged, whatever the text says. */
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(o, "allowed_mentions"), "parse")),
		0);
	json_decref(o);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

static void every_paper_shows_a_snippet_and_no_line_for_what_it_lacks(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	struct fake f;
	struct message_list l;
	json_t *o, *embeds;

	(void)state;
	fake_sparse(&f);
	l = format(&cfg->notifiers[0], &f);
	o = parse(&l.v[0]);
	embeds = json_object_get(o, "embeds");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(embeds, 1), "description")),
		"Zoë Ångström, Ada Lovelace, 李**小龙**\n" FAKE_LEAD);
	/* No abstract, no authors, the URL the title's link: no description at all. */
	assert_null(json_object_get(json_array_get(embeds, 2), "description"));
	json_decref(o);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

/* Checks one embed against Discord's per-field limits; returns the characters it counts. */
static size_t check_embed(const json_t *e)
{
	json_t *fields = json_object_get(e, "fields"), *fl;
	size_t chars = json_chars(json_object_get(e, "title")), i;

	assert_true(json_chars(json_object_get(e, "title")) <= 256);
	assert_true(json_chars(json_object_get(e, "description")) <= 4096);
	assert_true(json_array_size(fields) <= 25);
	chars += json_chars(json_object_get(e, "description"));
	json_array_foreach(fields, i, fl)
	{
		json_t *name = json_object_get(fl, "name"), *value = json_object_get(fl, "value");

		assert_true(json_chars(name) > 0 && json_chars(name) <= 256);
		assert_true(json_chars(value) > 0 && json_chars(value) <= 1024);
		chars += json_chars(name) + json_chars(value);
	}
	assert_null(json_object_get(e, "footer"));
	assert_null(json_object_get(e, "author"));
	return chars;
}

/* Checks one message against Discord's limits; counts the messages each paper is in. */
static void check_message(const struct message *m, size_t *seen)
{
	json_t *o = parse(m), *embeds = json_object_get(o, "embeds"), *e;
	size_t total = 0, i;

	assert_true(json_chars(json_object_get(o, "content")) <= 2000);
	assert_true(json_array_size(embeds) >= 1 && json_array_size(embeds) <= 10);
	assert_int_equal(json_array_size(embeds), m->n_papers);
	json_array_foreach(embeds, i, e)
	{
		unsigned k;

		total += check_embed(e);
		assert_int_equal(sscanf(json_string_value(json_object_get(e, "url")),
					"https://arxiv.org/abs/2410.%u", &k),
				 1);
		seen[k]++;
	}
	assert_true(total <= 6000);
	json_decref(o);
}

static void three_hundred_papers_split_within_discord_limits_and_none_is_dropped(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	struct fake f;
	struct message_list l;
	size_t seen[300] = {0}, carried = 0;

	(void)state;
	fake_batch(&f, 300, "big.md");
	fake_enormous(&f, 7);
	fake_enormous(&f, 150);
	l = format(&cfg->notifiers[0], &f);
	assert_true(l.n >= 30);
	for (size_t i = 0; i < l.n; i++) {
		check_message(&l.v[i], seen);
		carried += l.v[i].n_papers;
	}
	assert_int_equal(carried, 300);
	for (size_t k = 0; k < 300; k++)
		assert_int_equal(seen[k], 1);
	/* The enormous papers are there, shortened, their matched author shown. */
	assert_int_equal(messages_with(&l, "Author **Number1500** and 1989 more"), 2);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

static void a_429_waits_for_the_longer_of_the_header_and_the_json_retry_after(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	const struct notifier *n = &cfg->notifiers[0];
	struct send_result r;

	(void)state;
	r = judge_http(n, 429,
		       "{\"message\": \"You are being rate limited.\", \"retry_after\": 2.5, "
		       "\"global\": false}",
		       "1");
	assert_int_equal(r.status, SEND_RETRY);
	assert_true(r.retry_after == 2.5);
	r = judge_http(n, 429, "{\"retry_after\": 0.25}", "3");
	assert_true(r.retry_after == 3);
	r = judge_http(n, 429, "not json", NULL);
	assert_int_equal(r.status, SEND_RETRY);
	assert_true(r.retry_after == 0);
	config_unref(cfg);
}

static void discord_answers_are_judged_as_discord_means_them(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	const struct notifier *n = &cfg->notifiers[0];

	(void)state;
	assert_int_equal(judge_http(n, 200, "{\"id\": \"1\"}", NULL).status, SEND_DELIVERED);
	assert_int_equal(judge_http(n, 204, "", NULL).status, SEND_DELIVERED);
	assert_int_equal(judge_http(n, 502, "bad gateway", NULL).status, SEND_RETRY);
	assert_int_equal(judge_http(n, 400, "{\"embeds\": [\"0\"]}", NULL).status, SEND_FAILED);
	assert_int_equal(judge_http(n, 401, "{}", NULL).status, SEND_FAILED);
	assert_int_equal(judge_http(n, 403, "{}", NULL).status, SEND_FAILED);
	assert_non_null(
		strstr(judge_http(n, 404, "{\"message\": \"Unknown Webhook\"}", NULL).detail,
		       "Unknown Webhook"));
	config_unref(cfg);
}

static void details_never_show_the_webhook_token(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	const struct notifier *n = &cfg->notifiers[0];
	struct send_response r = {.code = CURLE_OK,
				  .status = 404,
				  .body = "no hook /api/webhooks/123/DISCORDSECRET42",
				  .body_len = strlen("no hook /api/webhooks/123/DISCORDSECRET42")};
	struct send_result out;

	(void)state;
	n->ops->classify(n, &r, &out);
	assert_null(strstr(out.detail, "DISCORDSECRET42"));
	config_unref(cfg);
}

static void a_notice_is_its_title_in_bold_and_its_detail_mentioning_no_one(void **state)
{
	struct config *cfg = fake_config(DISCORD_CONF);
	struct notice nt = fake_notice(true);
	struct message_list l = {0};
	struct err err;
	json_t *o;

	(void)state;
	assert_int_equal(cfg->notifiers[0].ops->format_notice(&cfg->notifiers[0], &nt, &l, &err),
			 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].key, "health_0123-0");
	o = parse(&l.v[0]);
	assert_string_equal(json_string_value(json_object_get(o, "content")),
			    "**paperwatch: no digest matching hf\\-\\*.md \\<for\\> 24h & "
			    "@\xe2\x80\x8b"
			    "everyone**\nThe last came at 2024\\-10\\-21 08:40:00 UTC.\n"
			    "Second \\*line\\*.");
	assert_null(json_object_get(o, "embeds"));
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(o, "allowed_mentions"), "parse")),
		0);
	json_decref(o);
	message_list_free(&l);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(markdown_and_mentions_in_paper_text_are_escaped_and_hits_bold),
		cmocka_unit_test(a_notice_is_its_title_in_bold_and_its_detail_mentioning_no_one),
		cmocka_unit_test(every_paper_shows_a_snippet_and_no_line_for_what_it_lacks),
		cmocka_unit_test(
			three_hundred_papers_split_within_discord_limits_and_none_is_dropped),
		cmocka_unit_test(a_429_waits_for_the_longer_of_the_header_and_the_json_retry_after),
		cmocka_unit_test(discord_answers_are_judged_as_discord_means_them),
		cmocka_unit_test(details_never_show_the_webhook_token),
	};

	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	return cmocka_run_group_tests_name("notify_discord", tests, NULL, NULL);
}
