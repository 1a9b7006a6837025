/*
 * test_notify_slack.c — the Slack channel: mrkdwn escaping and highlights, Block Kit messages
 * within Slack's limits however many papers and however long their fields, Slack's answers
 * judged, and no webhook token in any detail.
 */
#include "unit.h"

#include "alerts.h"

#define SLACK_CONF                                                                                 \
	"{ name = \"team\"; type = \"slack\"; "                                                    \
	"url = \"https://hooks.slack.com/services/T000/B000/SLACKSECRET42\"; }"

/* Formats f's batch through the channel; checks the call succeeded. */
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

static void text_escapes_ampersand_and_angle_brackets_and_bolds_hits(void **state)
{
	struct config *cfg = fake_config(SLACK_CONF);
	struct fake f;
	struct message_list l;
	json_t *o, *context;
	const char *paper, *fallback;

	(void)state;
	fake_batch(&f, 1, "digest <1>.md");
	l = format(&cfg->notifiers[0], &f);
	assert_int_equal(l.n, 1);
	o = parse(&l.v[0]);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_array_get(json_object_get(o, "blocks"), 0), "text"),
			"text")),
		"paperwatch: *1 new paper* for 2024-10-21");
	/* The file name is the context line under the heading. */
	context = json_array_get(json_object_get(o, "blocks"), 1);
	assert_string_equal(json_string_value(json_object_get(context, "type")), "context");
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(context, "elements"), 0), "text")),
		"from digest &lt;1&gt;.md");
	paper = json_string_value(json_object_get(
		json_object_get(json_array_get(json_object_get(o, "blocks"), 2), "text"), "text"));
	assert_non_null(paper);
	assert_true(strncmp(paper, "<https://arxiv.org/abs/2410.00000|Paper 0: ", 43) == 0);
	/* The title's own asterisks stay: mrkdwn has no way to escape them. */
	assert_non_null(strstr(paper, "Paper 0: **Agents** &amp; &lt;tools&gt; for @everyone_"));
	assert_non_null(strstr(paper, "\nZoë Ångström, Ada Lovelace, 李*小龙*\n"));
	assert_non_null(strstr(paper, "act as *agents* in the wild"));
	assert_non_null(strstr(paper, "_Rules:_ agents, tool-use · 2410.00000v1 · 2024-10-21"));
	assert_null(strstr(paper, "<tools>"));
	/* The notification text: plain, escaped, no highlight markers of ours. */
	fallback = json_string_value(json_object_get(o, "text"));
	assert_string_equal(fallback,
			    "paperwatch: 1 new paper for 2024-10-21: Paper 0: "
			    "*Agents* &amp; &lt;tools&gt; for @everyone_ [x](y) ~~über~~");
	assert_true(json_is_false(json_object_get(o, "unfurl_links")));
	json_decref(o);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

/* The section of paper k in message o, found by its link. */
static const char *section_of(json_t *o, size_t k)
{
	json_t *b;
	size_t i;
	char link[64];

	snprintf(link, sizeof(link), "<https://arxiv.org/abs/2410.%05zu|", k);
	json_array_foreach(json_object_get(o, "blocks"), i, b)
	{
		const char *t =
			json_string_value(json_object_get(json_object_get(b, "text"), "text"));

		if (t != NULL && strncmp(t, link, strlen(link)) == 0)
			return t;
	}
	fail_msg("no section for paper %zu", k);
	return NULL;
}

static void every_paper_shows_a_snippet_and_no_line_for_what_it_lacks(void **state)
{
	struct config *cfg = fake_config(SLACK_CONF);
	struct fake f;
	struct message_list l;
	json_t *o;

	(void)state;
	fake_sparse(&f);
	l = format(&cfg->notifiers[0], &f);
	o = parse(&l.v[0]);
	assert_non_null(
		strstr(section_of(o, 0),
		       "~~über~~>\nZoë Ångström, Ada Lovelace, 李*小龙*\nWe study how large "
		       "language models use tools when they act as *agents* in the wild, and "
		       "what goes wrong when they do.\n_Rules:_ "));
	assert_non_null(strstr(section_of(o, 1), "李*小龙*\n" FAKE_LEAD "\n_Rules:_ "));
	/* No abstract, no authors: the rules line follows the title, and no line is empty. */
	assert_non_null(strstr(section_of(o, 2), "~~über~~>\n_Rules:_ agents, tool-use"));
	assert_null(strstr(section_of(o, 2), "\n\n"));
	json_decref(o);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

/* Checks one message against Slack's limits: a heading, the file name's context line, then the
 * papers' sections. Counts the papers each id appears in. */
static void check_message(const struct message *m, size_t *seen, size_t n_papers)
{
	json_t *o = parse(m), *blocks = json_object_get(o, "blocks"), *b;
	size_t i;

	assert_true(json_array_size(blocks) >= 3 && json_array_size(blocks) <= 50);
	assert_int_equal(json_array_size(blocks) - 2, m->n_papers);
	assert_true(json_chars(json_object_get(o, "text")) <= 3000);
	json_array_foreach(blocks, i, b)
	{
		json_t *t = json_object_get(json_object_get(b, "text"), "text");

		if (i == 1) {
			assert_string_equal(json_string_value(json_object_get(b, "type")),
					    "context");
			continue;
		}
		assert_string_equal(json_string_value(json_object_get(b, "type")), "section");
		assert_true(json_chars(t) > 0 && json_chars(t) <= 3000);
		for (size_t k = 0; k < n_papers && i > 0; k++) {
			char id[32];

			snprintf(id, sizeof(id), "abs/2410.%05zu|", k);
			seen[k] += strstr(json_string_value(t), id) != NULL;
		}
	}
	json_decref(o);
}

static void three_hundred_papers_split_within_slack_limits_and_none_is_dropped(void **state)
{
	struct config *cfg = fake_config(SLACK_CONF);
	struct fake f;
	struct message_list l;
	size_t seen[300] = {0}, carried = 0;

	(void)state;
	fake_batch(&f, 300, "big.md");
	fake_enormous(&f, 7);
	l = format(&cfg->notifiers[0], &f);
	/* 48 papers a message beside the heading and the context line: seven messages. */
	assert_int_equal(l.n, 7);
	for (size_t i = 0; i < l.n; i++) {
		check_message(&l.v[i], seen, 300);
		carried += l.v[i].n_papers;
	}
	assert_int_equal(carried, 300);
	for (size_t k = 0; k < 300; k++)
		assert_int_equal(seen[k], 1);
	/* The enormous paper is there, shortened, with its matched author. */
	assert_int_equal(messages_with(&l, "Author *Number1500*"), 1);
	assert_int_equal(messages_with(&l, " and 1989 more"), 1);
	assert_int_equal(messages_with(&l, "part 7 of 7 (papers 289–300)"), 1);
	message_list_free(&l);
	fake_free(&f);
	config_unref(cfg);
}

static void slack_answers_are_judged_as_slack_means_them(void **state)
{
	struct config *cfg = fake_config(SLACK_CONF);
	const struct notifier *n = &cfg->notifiers[0];
	struct send_result r;

	(void)state;
	assert_int_equal(judge_http(n, 200, "ok", NULL).status, SEND_DELIVERED);
	r = judge_http(n, 429, "rate_limited", "3");
	assert_int_equal(r.status, SEND_RETRY);
	assert_true(r.retry_after == 3);
	assert_int_equal(judge_http(n, 500, "rollup_error", NULL).status, SEND_RETRY);
	r = judge_http(n, 400, "invalid_payload", NULL);
	assert_int_equal(r.status, SEND_FAILED);
	assert_non_null(strstr(r.detail, "invalid_payload"));
	assert_int_equal(judge_http(n, 403, "action_prohibited", NULL).status, SEND_FAILED);
	r = judge_http(n, 404, "no_service", NULL);
	assert_int_equal(r.status, SEND_FAILED);
	assert_non_null(strstr(r.detail, "no_service"));
	assert_int_equal(judge_http(n, 410, "channel_is_archived", NULL).status, SEND_FAILED);
	/* One message a second to a webhook, as Slack asks. */
	assert_true(n->ops->min_interval >= 1.0);
	config_unref(cfg);
}

static void details_never_show_the_webhook_token(void **state)
{
	struct config *cfg = fake_config(SLACK_CONF);
	const struct notifier *n = &cfg->notifiers[0];
	struct send_response r = {
		.code = CURLE_COULDNT_CONNECT,
		.error = "cannot reach https://hooks.slack.com/services/T000/B000/SLACKSECRET42"};
	struct send_result out;

	(void)state;
	n->ops->classify(n, &r, &out);
	assert_int_equal(out.status, SEND_RETRY);
	assert_null(strstr(out.detail, "SLACKSECRET42"));
	assert_non_null(strstr(out.detail, "cannot reach"));
	config_unref(cfg);
}

static void only_https_webhooks_are_accepted(void **state)
{
	struct config_diag d = {0};
	struct config *cfg = config_load_string(
		"t.conf",
		"notifiers = ({ name = \"s\"; type = \"slack\"; url = \"http://x/T/B/SECRET\"; });",
		&d);

	(void)state;
	assert_null(cfg);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.items[0].text, "must start with https://"));
	assert_null(strstr(d.items[0].text, "SECRET"));
	config_diag_free(&d);
}

static void a_notice_is_one_section_of_its_title_in_bold_and_its_detail(void **state)
{
	struct config *cfg = fake_config(SLACK_CONF);
	struct notice nt = fake_notice(false);
	struct message_list l = {0};
	struct err err;
	json_t *o;

	(void)state;
	assert_int_equal(cfg->notifiers[0].ops->format_notice(&cfg->notifiers[0], &nt, &l, &err),
			 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].key, "health_0123-0");
	assert_int_equal(l.v[0].n_papers, 0);
	o = parse(&l.v[0]);
	assert_string_equal(
		json_string_value(json_object_get(o, "text")),
		"paperwatch: no digest matching hf-*.md &lt;for&gt; 24h &amp; @everyone");
	assert_int_equal(json_array_size(json_object_get(o, "blocks")), 1);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_array_get(json_object_get(o, "blocks"), 0), "text"),
			"text")),
		"*paperwatch: no digest matching hf-*.md &lt;for&gt; 24h &amp; "
		"@everyone*\nThe last came at 2024-10-21 08:40:00 UTC.\nSecond *line*.");
	json_decref(o);
	message_list_free(&l);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_escapes_ampersand_and_angle_brackets_and_bolds_hits),
		cmocka_unit_test(a_notice_is_one_section_of_its_title_in_bold_and_its_detail),
		cmocka_unit_test(every_paper_shows_a_snippet_and_no_line_for_what_it_lacks),
		cmocka_unit_test(
			three_hundred_papers_split_within_slack_limits_and_none_is_dropped),
		cmocka_unit_test(slack_answers_are_judged_as_slack_means_them),
		cmocka_unit_test(details_never_show_the_webhook_token),
		cmocka_unit_test(only_https_webhooks_are_accepted),
	};

	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	return cmocka_run_group_tests_name("notify_slack", tests, NULL, NULL);
}
