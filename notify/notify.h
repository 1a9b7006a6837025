/*
 * notify.h — the notifiers as the daemon sees them: the registry of channels, reading a notifier
 * entry, and each channel's operations (format a batch into messages, send one, judge the
 * answer, free). A channel is one file in notify/ that fills a struct notifier_ops, built with
 * the toolkit in channel.h; the daemon needs only this header.
 */
#ifndef PW_NOTIFY_H
#define PW_NOTIFY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "schedule.h"

struct conf_ctx;         /* config_read.h: where an entry is read, for messages */
struct config_setting_t; /* libconfig's setting: the entry itself */
struct match_hit;
struct paper;
struct notifier;

/* One matched paper, as a channel shows it. */
struct alert {
	const struct paper *paper;
	const char *const *rules; /* names of the rules it matched */
	size_t n_rules;
	const struct match_hit *hits; /* where the rules' terms hit, to highlight them */
	size_t n_hits;
	const char *why; /* a like: rule's score and reasons, "like:mine 0.42, ..."; or NULL */
	double score;    /* with why: that score */
};

/* A scheduled message: the period it covers and what it leaves out. */
struct alert_period {
	const char *title;    /* "Daily papers, Tue 2027-03-30" */
	const char *note;     /* "late: ..." or "covers 3 days ...", NULL when on time and one */
	const char *schedule; /* "daily 08:00 Europe/Berlin" */
	const char *due;      /* the deadline, RFC 3339 */
	bool late;            /* made well after its deadline (the daemon was not running) */
	unsigned periods;     /* the deadlines it covers: more than 1 when some were missed */
	size_t total;         /* papers of the period, shown or not */
	/* The papers left out past max_papers, counted by their first rule. */
	const char *const *more_rules;
	const size_t *more_counts;
	size_t n_more;
};

/* What one digest file newly brings one notifier: it goes out together. */
struct alert_batch {
	const char *source; /* the digest's file name */
	const struct alert *alerts;
	size_t n_alerts;
	const char *key; /* unique and stable for the batch; each message's key starts with it */
	long long created_ms; /* when the batch was made, wall clock (an email's Date) */
	const struct alert_period *period; /* a scheduled message's; NULL for a digest's */
};

/* A message about paperwatch itself, not a batch of papers: a health condition that started or
 * cleared, a period with nothing new. Every channel carries it as text; the JSON channels give
 * its fields too, under a "type" that tells it from papers. */
struct notice {
	const char *type;      /* "health", ...: what the JSON channels call it */
	const char *condition; /* "quiet", "small", ...: which one; NULL when none */
	const char *subject;   /* what it is about: a file pattern, a format; NULL when nothing */
	bool clears;           /* the condition ended (it started, or there is none, when false) */
	const char *title;     /* one line for people: a subject, a notification */
	const char *detail;    /* more text for people, lines apart by "\n"; "" for none */
	const char *key;       /* unique and stable; each message's key starts with it */
	long long created_ms;  /* when it was made, wall clock */
};

/* One unit of delivery, stored in the outbox and sent unchanged on every attempt. */
struct message {
	char *key;  /* idempotency key: webhook-id, Message-ID (owned) */
	char *body; /* what is sent (owned) */
	size_t len;
	size_t n_papers; /* papers it carries, for the status counts */
};

struct message_list {
	struct message *v;
	size_t n, cap;
};

/* Frees every message and empties l; l NULL is a no-op. */
void message_list_free(struct message_list *l);

/* How one attempt ended. */
enum send_status { SEND_DELIVERED, SEND_RETRY, SEND_FAILED };

struct send_result {
	enum send_status status;
	double retry_after; /* seconds the endpoint asked us to wait; 0 when it did not say */
	char detail[256];   /* what happened, for logs and `status`: never a secret */
};

/* The hint for a transport error that only a change of configuration can mend (a certificate
 * not trusted: ca_file; an unknown host: the url), or NULL for any other. */
const char *notify_config_fault(CURLcode code);

/* The longest an attempt of the notifier may take (seconds): a network channel's timeout, 0 for
 * a local one. */
double notify_attempt_max(const struct notifier *n);

/* What a network attempt brought back, for the channel to judge. */
struct send_response {
	CURLcode code;    /* the transport's verdict */
	long status;      /* the HTTP or SMTP response code, 0 if none came */
	const char *body; /* the start of the response body */
	size_t body_len;
	const char *retry_after; /* the Retry-After header, or NULL */
	const char *error;       /* curl's error text */
};

/* When a notifier's messages go out: every notifier has these keys beside its channel's own. */
struct notifier_cadence {
	char *schedule;       /* "instant", "daily HH:MM", "weekly DAY HH:MM", as written */
	char *timezone;       /* "": the file's top-level timezone, or the machine's */
	long long max_papers; /* a scheduled message shows at most these, then "and N more" */
	bool send_empty;      /* a period without papers still sends a message */
};

/* A configured notifier. */
struct notifier {
	char *name;
	const struct notifier_ops *ops;
	void *conf; /* the channel's own options, from ops->check */
	struct notifier_cadence cadence;
	struct schedule when; /* cadence.schedule, read; its zone set once the file's is known */
	unsigned line;
};

struct notifier_ops {
	const char *type;
	/* Reads the channel's options from its config entry into *conf, reporting problems
	 * through c; the entry's "name" and "type" are read already. */
	int (*check)(struct conf_ctx *c, const struct config_setting_t *entry, void **conf);
	/* Formats a batch into messages, splitting wherever the channel's limits require, never
	 * dropping a paper. */
	int (*format)(const struct notifier *n, const struct alert_batch *b,
		      struct message_list *out, struct err *err);
	/* Formats a notice into messages (one, in every channel so far). */
	int (*format_notice)(const struct notifier *n, const struct notice *nt,
			     struct message_list *out, struct err *err);
	/* Network channels: sets easy up to send m (URL, headers, body, timeouts, TLS). Headers
	 * go into *headers, which the caller frees after the transfer. */
	int (*prepare)(const struct notifier *n, const struct message *m, CURL *easy,
		       struct curl_slist **headers, struct err *err);
	/* Network channels: judges the answer. */
	void (*classify)(const struct notifier *n, const struct send_response *r,
			 struct send_result *out);
	/* Local channels: delivers m at once. */
	int (*deliver)(const struct notifier *n, const struct message *m, struct err *err);
	/* Least time between two messages to this notifier (Slack: one a second). */
	double min_interval;
	/* A resend carries the message's id, by which the receiver drops a second copy: its
	 * delivery may be recorded lazily (state_claim_delivered_lazily). */
	bool idempotent;
	void (*free)(void *conf);
};

/* The channel for a "type" name, or NULL. */
const struct notifier_ops *notify_find(const char *type);
/* The known types, for messages: "slack, discord, webhook, email, file". */
const char *notify_types(void);

/* Reads one notifiers entry into n: its name and type, then the channel's own options through
 * its ops->check. Problems are reported through c; 0 or -1. */
int notify_check(struct conf_ctx *c, const struct config_setting_t *entry, struct notifier *n);
/* Frees the channel's options and the name; n NULL is a no-op. */
void notify_free(struct notifier *n);

/* A sample alert batch for `test-notify`; the caller sets its key and time. */
struct alert_batch notify_sample_batch(void);

#endif
