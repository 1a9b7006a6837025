/*
 * test_config.c — loading and checking configuration: every problem reported with its line,
 * secrets from files, defaults, durations and sizes.
 */
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_read.h"
#include "log.h"
#include "notify.h"

/* Loads text; returns the config (or NULL) and leaves the messages in d. */
static struct config *load(const char *text, struct config_diag *d)
{
	memset(d, 0, sizeof(*d));
	return config_load_string("test.conf", text, d);
}

/* Whether some message of d contains every one of the given pieces. */
static bool said(const struct config_diag *d, const char *a, const char *b)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strstr(d->items[i].text, a) != NULL &&
		    (b == NULL || strstr(d->items[i].text, b)))
			return true;
	}
	return false;
}

static void durations_and_sizes_read_their_units(void **state)
{
	double s;
	size_t b;

	(void)state;
	assert_int_equal(conf_parse_duration("72h", &s), 0);
	assert_true(s == 72 * 3600);
	assert_int_equal(conf_parse_duration("500ms", &s), 0);
	assert_true(s == 0.5);
	assert_int_equal(conf_parse_duration("2d", &s), 0);
	assert_true(s == 172800);
	assert_int_equal(conf_parse_duration("30", &s), 0);
	assert_true(s == 30);
	assert_int_equal(conf_parse_duration("3 fortnights", &s), -1);
	assert_int_equal(conf_parse_duration("-1s", &s), -1);
	assert_int_equal(conf_parse_size("64M", &b), 0);
	assert_int_equal(b, 64u << 20);
	assert_int_equal(conf_parse_size("512KB", &b), 0);
	assert_int_equal(b, 512u << 10);
	assert_int_equal(conf_parse_size("lots", &b), -1);
	assert_int_equal(conf_parse_size("-5", &b), -1);
}

static void durations_are_never_nan_or_infinite(void **state)
{
	struct config_diag d;
	double s;

	(void)state;
	/* strtod reads these; a NaN delay would pass every range check. */
	assert_int_equal(conf_parse_duration("nan", &s), -1);
	assert_int_equal(conf_parse_duration("inf", &s), -1);
	assert_int_equal(conf_parse_duration("infinity", &s), -1);
	assert_int_equal(conf_parse_duration("1e400", &s), -1);
	assert_int_equal(conf_parse_duration("1e307d", &s), -1);
	assert_null(load("delivery = { retry_base = \"nan\"; };", &d));
	assert_true(said(&d, "test.conf:1:", "\"nan\" is not a duration"));
	config_diag_free(&d);
}

static void the_largest_size_is_kept_and_sizes_say_their_minimum(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	/* As a double it is 2^64, one past what size_t holds: it must not wrap to 0. */
	c = load("watch = { max_file_size = \"18446744073709551615\"; };", &d);
	assert_non_null(c);
	assert_true(c->watch.max_file_size == SIZE_MAX);
	config_unref(c);
	config_diag_free(&d);
	assert_null(load("watch = { max_file_size = 0; };", &d));
	assert_true(said(&d, "test.conf:1:", "max_file_size must be at least 1"));
	config_diag_free(&d);
}

static void an_empty_include_list_takes_the_default(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load("watch = { include = []; };", &d);
	assert_non_null(c);
	assert_int_equal(c->watch.include.n, 2);
	assert_string_equal(c->watch.include.v[0], "*.md");
	assert_string_equal(c->watch.include.v[1], "*.txt");
	config_unref(c);
	config_diag_free(&d);
}

static void every_problem_is_reported_with_its_line(void **state)
{
	static const char text[] =
		"watch = { dir = 5; colour = \"blue\"; };\n"                       /* 1 */
		"delivery = { max_age = \"3 fortnights\"; };\n"                    /* 2 */
		"notifiers = (\n"                                                  /* 3 */
		"  { name = \"out\"; type = \"file\"; path = \"-\"; },\n"          /* 4 */
		"  { name = \"out\"; type = \"file\"; path = \"x\"; },\n"          /* 5 */
		"  { name = \"pigeon\"; type = \"carrier\"; }\n"                   /* 6 */
		");\n"                                                             /* 7 */
		"rules = (\n"                                                      /* 8 */
		"  { name = \"a\"; query = \"agent\"; notify = [\"nobody\"]; },\n" /* 9 */
		"  { name = \"a\"; query = \"LLM\"; },\n"                          /* 10 */
		"  { name = \"b\"; query = \"(unclosed\"; },\n"                    /* 11 */
		"  { query = \"x\"; }\n"                                           /* 12 */
		");\n"
		"surprise = 1;\n"; /* 14 */
	struct config_diag d;

	(void)state;
	assert_null(load(text, &d));
	assert_true(said(&d, "test.conf:1:", "dir must be a string, not an integer"));
	assert_true(said(&d, "test.conf:1:", "unknown key 'colour'"));
	assert_true(said(&d, "test.conf:2:", "not a duration"));
	assert_true(said(&d, "test.conf:5:", "a second notifier named \"out\""));
	assert_true(said(&d, "test.conf:6:", "type must be one of"));
	assert_true(said(&d, "test.conf:9:", "no notifier named \"nobody\""));
	assert_true(said(&d, "test.conf:10:", "a second rule named \"a\""));
	assert_true(said(&d, "test.conf:11:", "rule \"b\": query column"));
	assert_true(said(&d, "test.conf:12:", "name is required"));
	assert_true(said(&d, "test.conf:14:", "unknown key 'surprise'"));
	assert_int_equal(d.n_errors, 10);
	config_diag_free(&d);
}

static void syntax_errors_come_from_libconfig_with_the_line(void **state)
{
	struct config_diag d;

	(void)state;
	assert_null(load("rules = (\n  { name = \"x\"; query = \"y\" }\n", &d));
	assert_int_equal(d.n_errors, 1);
	assert_true(said(&d, "test.conf:", "syntax error"));
	config_diag_free(&d);
}

static void defaults_follow_the_state_directory(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	unsetenv("STATE_DIRECTORY");
	c = load("notifiers = ({ name = \"o\"; type = \"file\"; path = \"-\"; });", &d);
	assert_non_null(c);
	assert_string_equal(c->state, "./paperwatch.db");
	assert_string_equal(c->watch.dir, "./inbox");
	assert_int_equal(c->watch.include.n, 2);
	assert_true(c->delivery.max_age == 72 * 3600);
	/* No rules is allowed, with a warning. */
	assert_true(said(&d, "no rules", NULL));
	assert_int_equal(d.n_errors, 0);
	config_unref(c);
	config_diag_free(&d);
	setenv("STATE_DIRECTORY", "/var/lib/paperwatch:/var/lib/other", 1);
	c = load("", &d);
	assert_string_equal(c->state, "/var/lib/paperwatch/state.db");
	assert_string_equal(c->watch.dir, "/var/lib/paperwatch/inbox");
	config_unref(c);
	config_diag_free(&d);
	unsetenv("STATE_DIRECTORY");
}

/* The README's configuration reference, setting by setting: what a file that says nothing gets. */
static void every_setting_left_out_takes_its_documented_default(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	unsetenv("STATE_DIRECTORY");
	c = load("", &d);
	assert_non_null(c);
	assert_string_equal(c->watch.dir, "./inbox");
	assert_int_equal(c->watch.include.n, 2);
	assert_string_equal(c->watch.include.v[0], "*.md");
	assert_string_equal(c->watch.include.v[1], "*.txt");
	assert_int_equal(c->watch.exclude.n, 0);
	assert_true(c->watch.max_file_size == (size_t)64 << 20);
	assert_string_equal(c->state, "./paperwatch.db");
	assert_true(c->delivery.max_age == 72 * 3600);
	assert_true(c->delivery.retry_base == 10);
	assert_true(c->delivery.retry_max == 30 * 60);
	assert_true(c->delivery.shutdown_grace == 5);
	assert_string_equal(c->timezone, "");
	assert_int_equal(c->watch.n_expects, 0);
	assert_int_equal(c->health.n_targets, 0);
	assert_true(c->health.small_ratio == 1.0 / 3);
	assert_int_equal(c->n_libraries, 0);
	assert_int_equal(c->papers_kept, 100000);
	assert_false(c->keeps_papers);
	config_unref(c);
	config_diag_free(&d);
	/* A rule's own settings. */
	c = load("rules = ({ name = \"r\"; query = \"agent\"; });", &d);
	assert_non_null(c);
	assert_true(c->rules[0].min_score == 0.15);
	assert_int_equal(c->rules[0].top, 0);
	config_unref(c);
	config_diag_free(&d);
}

/* like:NAME needs a library of that name, whose file reads and has entries with text. */
static void libraries_are_loaded_and_like_terms_checked_against_them(void **state)
{
	char dir[] = "/tmp/pw-test-libs-XXXXXX", conf[4096];
	struct config_diag d;
	struct config *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/mine.bib", dir);
	f = fopen(conf, "w");
	fputs("@article{a, title = {Diffusion policies}}\n@article{b, title = {broken\n", f);
	fclose(f);
	snprintf(conf, sizeof(conf),
		 "libraries = ({ name = \"mine\"; file = \"%s/mine.bib\"; });\n"
		 "rules = ({ name = \"r\"; query = \"like:mine -survey\"; min_score = 0.3;"
		 " top = 5; });",
		 dir);
	c = load(conf, &d);
	assert_non_null(c);
	assert_int_equal(c->n_libraries, 1);
	assert_true(c->rules[0].min_score == 0.3);
	assert_int_equal(c->rules[0].top, 5);
	assert_true(said(&d, "mine.bib:2", "unclosed brace"));
	config_unref(c);
	config_diag_free(&d);
	assert_null(load("rules = ({ name = \"r\"; query = \"like:theirs\"; });", &d));
	assert_true(said(&d, "like:theirs", "names no library"));
	config_diag_free(&d);
	snprintf(conf, sizeof(conf), "libraries = ({ name = \"gone\"; file = \"%s/gone.bib\"; });",
		 dir);
	assert_null(load(conf, &d));
	assert_true(said(&d, "gone.bib", "No such file"));
	config_diag_free(&d);
	snprintf(conf, sizeof(conf), "%s/mine.bib", dir);
	unlink(conf);
	rmdir(dir);
}

/* A notifier's schedule settings and a rule's urgency, left out and given. */
static void a_notifier_is_instant_unless_it_has_a_schedule(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load("timezone = \"Asia/Tokyo\";"
		 "notifiers = ({ name = \"a\"; type = \"file\"; path = \"-\"; },"
		 "  { name = \"b\"; type = \"file\"; path = \"x.jsonl\"; schedule = "
		 "\"weekly tue 07:30\"; max_papers = 5; send_empty = true; },"
		 "  { name = \"c\"; type = \"file\"; path = \"y.jsonl\"; schedule = "
		 "\"daily 18:00\"; timezone = \"Europe/Berlin\"; });"
		 "rules = ({ name = \"r\"; query = \"agent\"; },"
		 "  { name = \"u\"; query = \"robot\"; urgent = true; });",
		 &d);
	assert_non_null(c);
	assert_int_equal(c->notifiers[0].when.kind, SCHEDULE_INSTANT);
	assert_string_equal(c->notifiers[0].cadence.schedule, "instant");
	assert_int_equal(c->notifiers[0].cadence.max_papers, 30);
	assert_false(c->notifiers[0].cadence.send_empty);
	assert_int_equal(c->notifiers[1].when.kind, SCHEDULE_WEEKLY);
	assert_int_equal(c->notifiers[1].when.weekday, 2);
	assert_string_equal(c->notifiers[1].when.zone, "Asia/Tokyo"); /* the file's */
	assert_int_equal(c->notifiers[1].cadence.max_papers, 5);
	assert_true(c->notifiers[1].cadence.send_empty);
	assert_string_equal(c->notifiers[2].when.zone, "Europe/Berlin"); /* its own */
	assert_false(c->rules[0].urgent);
	assert_true(c->rules[1].urgent);
	config_unref(c);
	config_diag_free(&d);
}

static void watch_expect_takes_a_duration_or_patterns_with_theirs(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load("watch = { expect = \"24h\"; };", &d);
	assert_non_null(c);
	assert_int_equal(c->watch.n_expects, 1);
	assert_string_equal(c->watch.expects[0].pattern, "*");
	assert_true(c->watch.expects[0].every == 86400);
	config_unref(c);
	config_diag_free(&d);
	c = load("watch = { expect = [\"hf-*.md 24h\", \" arxiv-[0-9]*.md  7d \"]; };"
		 "notifiers = ({ name = \"ops\"; type = \"file\"; path = \"-\"; });"
		 "health = { notify = \"ops\"; small_ratio = 0.25; };",
		 &d);
	assert_non_null(c);
	assert_int_equal(c->watch.n_expects, 2);
	assert_string_equal(c->watch.expects[1].pattern, "arxiv-[0-9]*.md");
	assert_true(c->watch.expects[1].every == 7 * 86400);
	assert_int_equal(c->health.n_targets, 1);
	assert_true(c->health.small_ratio == 0.25);
	config_unref(c);
	config_diag_free(&d);
}

static void bad_health_settings_are_refused_at_their_line_with_the_reason(void **state)
{
	struct config_diag d;

	(void)state;
	assert_null(load("watch = {\n expect = [\"*.md soon\",\n \"x/*.md 1h\",\n"
			 " \"[ab.md 1h\", \"*.md 0s\", \"a* 1h\", \"a* 2h\"];\n};\n"
			 "health = {\n notify = [\"ops\"];\n small_ratio = 2; };",
			 &d));
	assert_true(said(&d, "test.conf:2: watch.expect", "\"soon\" is not a duration"));
	assert_true(said(&d, "test.conf:3: watch.expect", "never a path"));
	assert_true(said(&d, "test.conf:4: watch.expect", "never closed"));
	assert_true(said(&d, "\"0s\" is not a duration", NULL));
	assert_true(said(&d, "a second entry for a*", NULL));
	assert_true(said(&d, "test.conf:7: health.notify", "no notifier named \"ops\""));
	assert_true(said(&d, "test.conf:8: health.small_ratio", NULL));
	config_diag_free(&d);
	assert_null(load("watch = { expect = 86400; };", &d));
	assert_true(said(&d, "expect", NULL));
	config_diag_free(&d);
}

/* A shared state's lease must outlast every notifier's attempt; an SQLite state has none. */
static void a_lease_no_longer_than_a_timeout_is_refused_on_a_shared_state(void **state)
{
	static const char hook[] =
		"notifiers = ( { name = \"hook\"; type = \"webhook\"; url = \"https://h/x\"; "
		"timeout = \"90s\"; } );\nrules = ( { name = \"r\"; query = \"robot\"; } );\n";
	struct config_diag d;
	struct config *c;
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "state = \"postgresql:///pw\";\n%s", hook);
	assert_null(load(text, &d));
	assert_true(said(&d, "delivery.lease 60s", "\"hook\"'s timeout 90s"));
	config_diag_free(&d);
	snprintf(text, sizeof(text),
		 "state = \"postgres:///pw\";\ndelivery = { lease = \"2m\"; };\n%s", hook);
	assert_non_null(c = load(text, &d));
	assert_true(c->delivery.lease == 120);
	config_unref(c);
	config_diag_free(&d);
	snprintf(text, sizeof(text), "state = \"/tmp/pw.db\";\n%s", hook);
	assert_non_null(c = load(text, &d));
	config_unref(c);
	config_diag_free(&d);
}

static void a_retry_max_below_retry_base_is_raised_to_it(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load("delivery = { retry_base = \"1h\"; retry_max = \"1m\"; };", &d);
	assert_non_null(c);
	assert_true(c->delivery.retry_base == 3600);
	assert_true(c->delivery.retry_max == 3600);
	config_unref(c);
	config_diag_free(&d);
}

static void rules_without_notify_go_to_every_notifier(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load("notifiers = ({ name = \"a\"; type = \"file\"; path = \"-\"; },"
		 "             { name = \"b\"; type = \"file\"; path = \"x.jsonl\"; });"
		 "rules = ({ name = \"all\"; query = \"agent\"; },"
		 "         { name = \"one\"; query = \"agent\"; notify = \"b\"; });",
		 &d);
	assert_non_null(c);
	assert_int_equal(c->rules[0].n_targets, 2);
	assert_int_equal(c->rules[1].n_targets, 1);
	assert_int_equal(c->rules[1].targets[0], 1);
	assert_int_equal(config_rule_index(c, "one"), 1);
	assert_int_equal(config_notifier_index(c, "b"), 1);
	assert_int_equal(config_notifier_index(c, "c"), -1);
	config_unref(c);
	config_diag_free(&d);
}

static void the_built_in_configuration_is_valid(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load(config_default_text, &d);
	assert_non_null(c);
	assert_int_equal(d.n_errors, 0);
	assert_true(c->n_rules >= 1);
	assert_int_equal(c->n_notifiers, 1);
	config_unref(c);
	config_diag_free(&d);
}

static void references_keep_a_configuration_alive(void **state)
{
	struct config_diag d;
	struct config *c = load("", &d);

	(void)state;
	config_ref(c);
	config_unref(c);
	assert_string_equal(c->path, "test.conf"); /* still there: one reference left */
	config_unref(c);
	config_diag_free(&d);
}

static void a_missing_file_is_named_with_the_reason(void **state)
{
	struct config_diag d = {0};

	(void)state;
	assert_null(config_load("/nonexistent/paperwatch.conf", &d));
	assert_true(said(&d, "/nonexistent/paperwatch.conf", "No such file or directory"));
	config_diag_free(&d);
}

/* A table like a channel's, with a secret, a number in a range and an included table. */
struct secret_conf {
	char *token;
	long long port;
	struct {
		char *name;
	} inner;
};

static const struct conf_key inner_keys[] = {
	{.name = "label", .type = CONF_STRING},
	{.name = NULL},
};

static const struct conf_key secret_keys[] = {
	{.name = "token",
	 .type = CONF_SECRET,
	 .required = true,
	 .offset = offsetof(struct secret_conf, token)},
	{.name = "port",
	 .type = CONF_INT,
	 .offset = offsetof(struct secret_conf, port),
	 .min = 1,
	 .max = 65535},
	{.name = "",
	 .type = CONF_INCLUDE,
	 .offset = offsetof(struct secret_conf, inner),
	 .sub = inner_keys},
	{.name = NULL},
};

/* Reads text's root group by secret_keys; returns the number of problems. */
static int read_secret_group(const char *text, struct secret_conf *out, struct config_diag *d)
{
	struct conf_ctx c = {.file = "s.conf", .diag = d};
	config_t cf;
	int n;

	memset(out, 0, sizeof(*out));
	memset(d, 0, sizeof(*d));
	config_init(&cf);
	assert_int_equal(config_read_string(&cf, text), CONFIG_TRUE);
	n = conf_read_group(&c, config_root_setting(&cf), secret_keys, out);
	config_destroy(&cf);
	return n;
}

static void secrets_come_inline_or_from_a_private_file(void **state)
{
	char path[] = "/tmp/pw-secret-XXXXXX", text[256];
	struct secret_conf s;
	struct config_diag d;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cr3t\n", 7), 7);
	close(fd);
	chmod(path, 0600);
	snprintf(text, sizeof(text), "token_file = \"%s\"; port = 8080; label = \"x\";", path);
	assert_int_equal(read_secret_group(text, &s, &d), 0);
	assert_string_equal(s.token, "s3cr3t");
	assert_int_equal(s.port, 8080);
	assert_string_equal(s.inner.name, "x");
	assert_int_equal(d.n, 0);
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	/* Readable by others: it still loads, with a warning that never shows the secret. */
	chmod(path, 0644);
	assert_int_equal(read_secret_group(text, &s, &d), 0);
	assert_true(said(&d, "other users may read it", NULL));
	/* What it advises must work for the service too, which a root-only file does not. */
	assert_true(said(&d, "chmod 600", "LoadCredential="));
	assert_false(said(&d, "s3cr3t", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	unlink(path);
}

/* A FIFO blocks whoever opens it until a writer comes, and opening a device can do anything:
 * secret and configuration files are refused unopened unless regular. */
static void secret_and_configuration_files_must_be_regular_files(void **state)
{
	char dir[] = "/tmp/pw-fifo-XXXXXX", fifo[64], text[128];
	struct config_diag d = {0};
	struct secret_conf s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* were the FIFO opened, the test would block there: end it instead */
	snprintf(text, sizeof(text), "token_file = \"%s\";", fifo);
	assert_int_equal(read_secret_group(text, &s, &d), 1);
	assert_true(said(&d, "fifo: cannot open: not a regular file", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_int_equal(read_secret_group("token_file = \"/dev/zero\";", &s, &d), 1);
	assert_true(said(&d, "/dev/zero: cannot open: not a regular file", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_null(config_load(fifo, &d));
	assert_true(said(&d, "fifo: cannot read: not a regular file", NULL));
	config_diag_free(&d);
	alarm(0);
	unlink(fifo);
	rmdir(dir);
}

/* Text in memory has no folder: an include would be found relative to wherever the process
 * runs. A file's includes are found beside it. */
static void only_a_configuration_file_may_include_another(void **state)
{
	char dir[] = "/tmp/pw-include-XXXXXX", path[64];
	struct config_diag d;
	struct config *c;
	FILE *f;

	(void)state;
	assert_null(load("rules = ();\n  @include \"rules.conf\"\n", &d));
	assert_int_equal(d.n_errors, 1);
	assert_true(said(&d, "test.conf:2:", "@include works only in a configuration file"));
	config_diag_free(&d);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rules.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("rules = ({ name = \"r\"; query = \"agent\"; });\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("@include \"rules.conf\"\n", f);
	assert_int_equal(fclose(f), 0);
	memset(&d, 0, sizeof(d));
	c = config_load(path, &d);
	assert_non_null(c);
	assert_int_equal(c->n_rules, 1);
	config_unref(c);
	config_diag_free(&d);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rules.conf", dir);
	unlink(path);
	rmdir(dir);
}

static void secret_keys_are_checked_like_any_other(void **state)
{
	struct secret_conf s;
	struct config_diag d;

	(void)state;
	assert_int_equal(read_secret_group("port = 8080;", &s, &d), 1);
	assert_true(said(&d, "token (or token_file) is required", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_true(read_secret_group("token = \"a\"; token_file = \"/x\";", &s, &d) > 0);
	assert_true(said(&d, "set token or token_file, not both", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_int_equal(read_secret_group("token_file = \"\";", &s, &d), 1);
	assert_true(said(&d, "token_file must name a file or a credential", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_true(read_secret_group("token_file = \"/nonexistent\"; port = 70000;", &s, &d) >= 2);
	assert_true(said(&d, "/nonexistent: cannot open", NULL));
	assert_true(said(&d, "port must be between 1 and 65535", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
}

/* Writes value and a line break to dir/name with mode; path gets the file's path. */
static void write_secret(const char *dir, const char *name, const char *value, mode_t mode,
			 char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s\n", value);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Under systemd, LoadCredential=NAME:FILE copies FILE, readable by the service alone, into
 * $CREDENTIALS_DIRECTORY: a secret file setting that is a bare name is read from there. */
static void a_bare_name_is_a_credential_of_the_credentials_directory(void **state)
{
	char creds[] = "/tmp/pw-creds-XXXXXX", other[] = "/tmp/pw-other-XXXXXX", path[64];
	char text[128];
	struct config_diag d;
	struct secret_conf s;

	(void)state;
	assert_non_null(mkdtemp(creds));
	assert_non_null(mkdtemp(other));
	/* systemd protects its credentials itself: their mode earns no warning. */
	write_secret(creds, "api-token", "cr3d", 0644, path, sizeof(path));
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
	assert_int_equal(read_secret_group("token_file = \"api-token\";", &s, &d), 0);
	assert_string_equal(s.token, "cr3d");
	assert_int_equal(d.n, 0);
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	unlink(path);
	/* A name with a '/' is a path, wherever it points; written out into the folder, it is
	 * still systemd's and earns no warning either. */
	write_secret(creds, "api-token", "cr3d", 0440, path, sizeof(path));
	snprintf(text, sizeof(text), "token_file = \"%s\";", path);
	assert_int_equal(read_secret_group(text, &s, &d), 0);
	assert_string_equal(s.token, "cr3d");
	assert_int_equal(d.n, 0);
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	unlink(path);
	/* A folder whose name merely starts like the credentials' is not theirs. */
	write_secret(other, "api-token", "f1le", 0644, path, sizeof(path));
	snprintf(text, sizeof(text), "token_file = \"%s\";", path);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "/tmp/pw-o", 1), 0);
	assert_int_equal(read_secret_group(text, &s, &d), 0);
	assert_string_equal(s.token, "f1le");
	assert_true(said(&d, "other users may read it", NULL));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	unlink(path);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
	/* A credential the unit does not load is named, with the folder and the reason. */
	assert_int_equal(read_secret_group("token_file = \"api-token\";", &s, &d), 1);
	assert_true(said(&d, "credential \"api-token\"", creds));
	assert_true(said(&d, "No such file or directory", "LoadCredential=api-token:"));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	rmdir(creds);
	rmdir(other);
}

/* Outside the service a bare name is a file in the working directory, as any relative path;
 * when there is none, the error says what such a name means under the service. */
static void a_bare_name_without_a_credentials_directory_is_a_relative_path(void **state)
{
	char dir[] = "/tmp/pw-cwd-XXXXXX", path[64], cwd[4096];
	struct config_diag d;
	struct secret_conf s;

	(void)state;
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	write_secret(dir, "api-token", "h3re", 0600, path, sizeof(path));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(read_secret_group("token_file = \"api-token\";", &s, &d), 0);
	assert_string_equal(s.token, "h3re");
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_int_equal(read_secret_group("token_file = \"no-such-token\";", &s, &d), 1);
	assert_true(said(&d, "no-such-token: cannot open: No such file or directory",
			 "systemd credential"));
	assert_true(said(&d, "LoadCredential=no-such-token:", "CREDENTIALS_DIRECTORY"));
	conf_free_group(secret_keys, &s);
	config_diag_free(&d);
	assert_int_equal(chdir(cwd), 0);
	unlink(path);
	rmdir(dir);
}

static void urls_must_use_an_allowed_scheme_and_are_never_echoed(void **state)
{
	static const char *const web[] = {"https", "http", NULL};
	struct config_diag d = {0};
	struct conf_ctx c = {.file = "u.conf", .diag = &d};

	(void)state;
	assert_true(conf_check_url(&c, NULL, "https://hooks.example.org/T0/B0/XYZ", web));
	assert_true(conf_check_url(&c, NULL, "HTTP://127.0.0.1:8080/hook", web));
	assert_false(conf_check_url(&c, NULL, "file:///etc/passwd", web));
	assert_false(conf_check_url(&c, NULL, "gopher://x/secret-token", web));
	assert_false(conf_check_url(&c, NULL, "dict://x", web));
	assert_false(conf_check_url(&c, NULL, "https:///nohost", web));
	assert_int_equal(d.n_errors, 4);
	assert_false(said(&d, "secret-token", NULL));
	config_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_and_sizes_read_their_units),
		cmocka_unit_test(durations_are_never_nan_or_infinite),
		cmocka_unit_test(the_largest_size_is_kept_and_sizes_say_their_minimum),
		cmocka_unit_test(an_empty_include_list_takes_the_default),
		cmocka_unit_test(every_problem_is_reported_with_its_line),
		cmocka_unit_test(syntax_errors_come_from_libconfig_with_the_line),
		cmocka_unit_test(defaults_follow_the_state_directory),
		cmocka_unit_test(every_setting_left_out_takes_its_documented_default),
		cmocka_unit_test(a_notifier_is_instant_unless_it_has_a_schedule),
		cmocka_unit_test(watch_expect_takes_a_duration_or_patterns_with_theirs),
		cmocka_unit_test(bad_health_settings_are_refused_at_their_line_with_the_reason),
		cmocka_unit_test(a_lease_no_longer_than_a_timeout_is_refused_on_a_shared_state),
		cmocka_unit_test(libraries_are_loaded_and_like_terms_checked_against_them),
		cmocka_unit_test(a_retry_max_below_retry_base_is_raised_to_it),
		cmocka_unit_test(rules_without_notify_go_to_every_notifier),
		cmocka_unit_test(the_built_in_configuration_is_valid),
		cmocka_unit_test(references_keep_a_configuration_alive),
		cmocka_unit_test(a_missing_file_is_named_with_the_reason),
		cmocka_unit_test(secrets_come_inline_or_from_a_private_file),
		cmocka_unit_test(secret_keys_are_checked_like_any_other),
		cmocka_unit_test(secret_and_configuration_files_must_be_regular_files),
		cmocka_unit_test(a_bare_name_is_a_credential_of_the_credentials_directory),
		cmocka_unit_test(a_bare_name_without_a_credentials_directory_is_a_relative_path),
		cmocka_unit_test(only_a_configuration_file_may_include_another),
		cmocka_unit_test(urls_must_use_an_allowed_scheme_and_are_never_echoed),
	};

	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
