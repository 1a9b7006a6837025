/*
 * notify_webhook.c — the generic webhook: a JSON POST of the digest's alerted papers, with
 * Standard Webhooks headers. webhook-id is the message's stable key (the receiver's idempotency
 * key), webhook-timestamp the attempt's time, and with a secret, webhook-signature is
 * "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"
#include "xmalloc.h"

/* The spec's bounds for a signing key, in bytes. */
#define KEY_MIN 24
#define KEY_MAX 64

struct webhook_conf {
	struct http_conf http;
	char *secret; /* whsec_... as configured */
	unsigned char key[KEY_MAX];
	size_t key_len; /* 0: unsigned */
};

static const struct conf_key webhook_keys[] = {
	{.name = "", .type = CONF_INCLUDE, .sub = notify_common_keys, .desc = "name and type"},
	{
		.name = "",
		.type = CONF_INCLUDE,
		.offset = offsetof(struct webhook_conf, http),
		.sub = notify_http_keys,
		.desc = "url, ca_file and the timeouts",
	},
	{
		.name = "secret",
		.type = CONF_SECRET,
		.offset = offsetof(struct webhook_conf, secret),
		.desc = "whsec_ and base64: signs each message; none, unsigned",
	},
	{.name = NULL},
};

int notify_webhook_key(const char *secret, unsigned char *key, size_t *len)
{
	const char *b64;
	size_t n;
	unsigned char buf[3 * (KEY_MAX * 4 / 3 + 4) / 4 + 4];
	int got;

	if (strncmp(secret, "whsec_", 6) != 0)
		return -1;
	b64 = secret + 6;
	n = strlen(b64);
	if (n == 0 || n % 4 != 0 || n > (size_t)(KEY_MAX + 2) / 3 * 4)
		return -1;
	got = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
	if (got < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	got -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
	if (got < KEY_MIN || got > KEY_MAX)
		return -1;
	memcpy(key, buf, (size_t)got);
	*len = (size_t)got;
	return 0;
}

void notify_webhook_sign(const unsigned char *key, size_t key_len, const char *id, long long ts,
			 const char *body, size_t len, char *out, size_t size)
{
	static char digest[] = "SHA256"; /* OpenSSL's parameter wants it writable */
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char head[160];
	int n = snprintf(head, sizeof(head), "%s.%lld.", id, ts);
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
			       OSSL_PARAM_construct_end()};
	size_t got = 0;

	EVP_MAC_init(ctx, key, key_len, params);
	EVP_MAC_update(ctx, (const unsigned char *)head, (size_t)n);
	EVP_MAC_update(ctx, (const unsigned char *)body, len);
	EVP_MAC_final(ctx, mac, &got, sizeof(mac));
	mac_len = (unsigned int)got;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	if (size < 4 + 4 * ((mac_len + 2) / 3) + 1) {
		out[0] = '\0';
		return;
	}
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
}

static int webhook_check(struct conf_ctx *c, const config_setting_t *entry, void **conf)
{
	static const char *const schemes[] = {"https", "http", NULL};
	struct webhook_conf *w = xcalloc(1, sizeof(*w));
	bool http_ok;

	*conf = w;
	if (conf_read_group(c, entry, webhook_keys, w) != 0)
		return -1;
	http_ok = notify_check_http(c, entry, &w->http, schemes);
	if (w->secret != NULL && notify_webhook_key(w->secret, w->key, &w->key_len) != 0) {
		/* Never echo it: it is a secret. */
		conf_error(
			c, entry,
			"secret must be \"whsec_\" and the base64 of %d to %d bytes (the Standard "
			"Webhooks form)",
			KEY_MIN, KEY_MAX);
		return -1;
	}
	return http_ok ? 0 : -1;
}

/* One message per digest: {"source": FILE, "papers": [...]}, papers in the digest's order. A
 * scheduled message's source is its title, and "period" says what it covers. */
static int webhook_format(const struct notifier *n, const struct alert_batch *b,
			  struct message_list *out, struct err *err)
{
	struct notify_text body = {0};
	bool first = true;

	(void)n;
	(void)err;
	notify_text_add(&body, "{", 1);
	notify_json_member(&body, &first, "source", b->source);
	if (b->period != NULL) {
		json_t *period = notify_period_json(b);

		notify_json_value(&body, &first, "period", period);
		json_decref(period);
	}
	notify_json_key(&body, &first, "papers");
	notify_text_add(&body, "[", 1);
	for (size_t i = 0; i < b->n_alerts; i++) {
		bool paper_first = true;

		notify_text_puts(&body, i ? ",{" : "{");
		notify_paper_json_members(&body, &paper_first, &b->alerts[i]);
		notify_text_add(&body, "}", 1);
	}
	notify_text_add(&body, "]}", 2);
	message_list_add(out, b, body.s, body.len, b->n_alerts);
	return 0;
}

/* A notice: {"type": "health", "condition": ..., "state": "raised", "title": ..., ...}, which a
 * receiver tells from papers by its type. */
static int webhook_format_notice(const struct notifier *n, const struct notice *nt,
				 struct message_list *out, struct err *err)
{
	json_t *o = notify_notice_json(nt);
	char *body = json_dumps(o, JSON_COMPACT);

	(void)n;
	json_decref(o);
	if (body == NULL)
		return err_set(err, "cannot encode the message");
	message_list_add_notice(out, nt, body, strlen(body));
	return 0;
}

static int webhook_prepare(const struct notifier *n, const struct message *m, CURL *easy,
			   struct curl_slist **headers, struct err *err)
{
	const struct webhook_conf *w = n->conf;
	long long ts = (long long)time(NULL);
	char line[256];

	(void)err;
	notify_setup_http(easy, &w->http, m->body, m->len);
	*headers = curl_slist_append(*headers, "Content-Type: application/json");
	snprintf(line, sizeof(line), "webhook-id: %s", m->key);
	*headers = curl_slist_append(*headers, line);
	snprintf(line, sizeof(line), "webhook-timestamp: %lld", ts);
	*headers = curl_slist_append(*headers, line);
	if (w->key_len > 0) {
		/* Signed at each attempt: receivers refuse old timestamps. */
		char sig[128];

		notify_webhook_sign(w->key, w->key_len, m->key, ts, m->body, m->len, sig,
				    sizeof(sig));
		snprintf(line, sizeof(line), "webhook-signature: %s", sig);
		*headers = curl_slist_append(*headers, line);
	}
	return 0;
}

static void webhook_classify(const struct notifier *n, const struct send_response *r,
			     struct send_result *out)
{
	const struct webhook_conf *w = n->conf;

	notify_classify_http(&w->http, r, out);
}

static void webhook_free(void *conf)
{
	struct webhook_conf *w = conf;

	conf_free_group(webhook_keys, w);
	OPENSSL_cleanse(w->key, sizeof(w->key));
	free(w);
}

const struct notifier_ops notifier_webhook = {
	.type = "webhook",
	.check = webhook_check,
	.format = webhook_format,
	.format_notice = webhook_format_notice,
	.prepare = webhook_prepare,
	.classify = webhook_classify,
	/* Standard Webhooks: webhook-id is the message's key, the same on every attempt. */
	.idempotent = true,
	.free = webhook_free,
};
