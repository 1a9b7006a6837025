#!/usr/bin/env python3
"""test_scan.py — `paperwatch scan` end to end: digests in, alerts out through the outbox to a
real HTTP(S) receiver on loopback, exactly once, through failures, rate limits and TLS."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import time

from certs import make_certs
from harness import (test, run, pw, text, digests, tmpdir, write_config, register_secret,
                     TIME_SCALE)
from receiver import Receiver, Reply, RefusedPort

# Every sample paper's id starts with 2: this rule matches all 212 distinct papers.
ALL = {'name': 'all', 'query': 'id:2*'}
# Retries come fast in tests; the production defaults are seconds to minutes.
FAST = {'retry_base': '200ms', 'retry_max': '1s'}
SECRET = 'whsec_' + base64.b64encode(b'paperwatch-test-signing-key-32by').decode()
register_secret(SECRET, SECRET[6:])


def hook(url, name='hook', **extra):
    return dict({'name': name, 'type': 'webhook', 'url': url}, **extra)


def setup(notifiers, rules=(ALL,), delivery=FAST):
    d = tmpdir()
    conf = write_config(os.path.join(d, 'pw.conf'), notifiers, rules,
                        state=os.path.join(d, 'state.db'), delivery=delivery)
    return d, conf


def papers_of(requests):
    return [p for r in requests for p in r.json()['papers']]


@test
def every_paper_reaches_every_notifier_once_across_digests():
    with Receiver() as r:
        d, conf = setup([hook(r.url + '/a', 'a'), hook(r.url + '/b', 'b')])
        p = pw('scan', '-c', conf, *digests())
        assert p.returncode == 0, p.stderr
        for path in ('/a', '/b'):
            reqs = [q for q in r.requests if q.path == path]
            assert len(reqs) == 5  # one message per digest
            ids = [x['id'] for x in papers_of(reqs)]
            assert len(ids) == len(set(ids)) == 212, len(ids)


@test
def scanning_the_same_digests_again_sends_nothing():
    with Receiver() as r:
        d, conf = setup([hook(r.url)])
        assert pw('scan', '-c', conf, *digests()).returncode == 0
        before = len(r.requests)
        p = pw('scan', '-c', conf, *digests())
        assert p.returncode == 0 and len(r.requests) == before
        assert 'unchanged since it was processed' in text(p.stderr)
        # A copy under another name is read, but every paper in it was alerted already.
        copy = os.path.join(d, 'copy.md')
        shutil.copy(digests()[0], copy)
        p = pw('scan', '-c', conf, copy)
        assert p.returncode == 0 and len(r.requests) == before, text(p.stderr)


@test
def a_paper_in_a_second_digest_is_not_alerted_again():
    with Receiver() as r:
        d, conf = setup([hook(r.url)])
        first, third = digests()[0], digests()[3]  # 2410.13232 and 2410.14677 are in both
        assert pw('scan', '-c', conf, first).returncode == 0
        assert pw('scan', '-c', conf, third).returncode == 0
        later = [x['id'] for x in r.requests[1].json()['papers']]
        assert '2410.13232' not in later and '2410.14677' not in later
        assert len(later) == 44  # 46 papers, 2 already alerted


@test
def a_rule_added_later_still_fires_for_a_paper_seen_before():
    with Receiver() as r:
        d, conf = setup([hook(r.url)], rules=[{'name': 'first', 'query': 'id:2410.13232'}])
        assert pw('scan', '-c', conf, digests()[0]).returncode == 0
        write_config(conf, [hook(r.url)], [{'name': 'first', 'query': 'id:2410.13232'},
                                           {'name': 'second', 'query': 'id:2410.13232'}],
                     state=os.path.join(d, 'state.db'), delivery=FAST)
        assert pw('scan', '-c', conf, digests()[3]).returncode == 0
        assert len(r.requests) == 2
        paper = r.requests[1].json()['papers'][0]
        assert paper['id'] == '2410.13232' and paper['rules'] == ['second'], paper


@test
def webhook_requests_carry_standard_webhooks_headers_and_a_valid_signature():
    with Receiver() as r:
        d, conf = setup([hook(r.url + '/in', secret=SECRET)])
        assert pw('scan', '-c', conf, digests()[0]).returncode == 0
        req = r.requests[0]
        h = req.headers
        assert req.method == 'POST' and h['content-type'] == 'application/json'
        assert h['webhook-id'].startswith('msg_')
        assert abs(int(h['webhook-timestamp']) - time.time()) < 60
        key = base64.b64decode(SECRET[6:])
        signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + req.body
        want = 'v1,' + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert h['webhook-signature'] == want
        body = req.json()
        assert body['source'] == os.path.basename(digests()[0])
        assert set(body['papers'][0]) == {'id', 'version', 'title', 'authors', 'abstract',
                                          'snippet', 'date', 'url', 'rules'}


@test
def a_server_error_is_retried_with_the_same_webhook_id():
    with Receiver() as r:
        r.push(Reply(500, 'busy'), Reply(503, 'still busy'))
        d, conf = setup([hook(r.url)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 0, text(p.stderr)
        assert [q.reply.status for q in r.requests] == [500, 503, 200]
        assert len({q.headers['webhook-id'] for q in r.requests}) == 1
        assert 'HTTP 500' in text(p.stderr)


@test
def retry_after_is_honoured():
    with Receiver() as r:
        r.push(Reply(429, 'slow down', headers={'Retry-After': '2'}))
        # Above the backoff's 200 ms, below retry_max (which caps what a server may ask).
        d, conf = setup([hook(r.url)], delivery={'retry_base': '200ms', 'retry_max': '5s'})
        assert pw('scan', '-c', conf, digests()[0]).returncode == 0
        first, second = r.requests
        assert second.started - first.completed >= 1.9, second.started - first.completed


@test
def an_endpoint_down_for_a_while_gets_everything_when_it_is_back():
    down = RefusedPort()
    d, conf = setup([hook(down.url)])
    p = pw('scan', '-c', conf, '--wait', '1', *digests()[:2])
    assert p.returncode == 1, text(p.stderr)  # still pending
    assert 'Connection refused' in text(p.stderr) or "Couldn't connect" in text(p.stderr)
    port = down.port
    down.close()
    with Receiver(port=port) as r:
        p = pw('scan', '-c', conf, '--wait', '30', digests()[0])
        assert p.returncode == 0, text(p.stderr)
        assert len(papers_of(r.requests)) == 12 + 100


@test
def a_404_fails_for_good_shows_in_status_and_retry_queues_it_again():
    with Receiver() as r:
        r.push(Reply(404, 'no such hook'))
        d, conf = setup([hook(r.url)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 1 and len(r.requests) == 1
        s = pw('status', '-c', conf)
        row = [l for l in text(s.stdout).splitlines() if l.startswith('hook')][0]
        assert row.split()[1:4] == ['0', '0', '-'] and 'HTTP 404: no such hook' in row, row
        rq = pw('retry', '-c', conf, 'hook')
        assert rq.returncode == 0 and text(rq.stdout).startswith('1 failed message queued again')
        # The next scan (of nothing new) delivers it.
        assert pw('scan', '-c', conf, digests()[0]).returncode == 0
        assert len(r.requests) == 2 and r.requests[1].reply.status == 200


@test
def redirects_are_not_followed():
    with Receiver() as r, Receiver() as elsewhere:
        r.push(Reply(307, '', headers={'Location': elsewhere.url + '/stolen'}))
        d, conf = setup([hook(r.url)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 1 and 'HTTP 307' in text(p.stderr)
        assert elsewhere.requests == []


@test
def a_hanging_endpoint_does_not_delay_another_notifier():
    with Receiver() as slow, Receiver() as fast:
        slow.push(Reply(hang=True))
        d, conf = setup([hook(slow.url, 'slow', timeout='30s'), hook(fast.url, 'fast')])
        start = time.monotonic()
        p = pw('scan', '-c', conf, '--wait', '3', digests()[0])
        assert p.returncode == 1  # the slow one is still pending
        got = fast.wait_for(1, timeout=1)
        assert got[0].completed - start < 2 * TIME_SCALE, got[0].completed - start


@test
def https_is_verified_against_the_configured_ca_and_a_wrong_certificate_refused():
    d = tmpdir()
    certs = make_certs(os.path.join(d, 'certs'))
    with Receiver(tls=certs) as good:
        _, conf = setup([hook(good.url, ca_file=certs.ca_file)])
        assert pw('scan', '-c', conf, digests()[0]).returncode == 0
        assert good.requests[0].tls
    with Receiver(tls=certs, cert='wrong') as bad:
        _, conf = setup([hook(bad.url, ca_file=certs.ca_file)])
        p = pw('scan', '-c', conf, '--wait', '1', digests()[0])
        assert p.returncode == 1
        assert bad.requests == [] and bad.handshake_failures >= 1
        assert 'certificate' in text(p.stderr).lower(), text(p.stderr)


@test
def urls_of_other_schemes_are_refused_when_the_configuration_loads():
    for url in ('file:///etc/passwd', 'gopher://127.0.0.1/x', 'dict://127.0.0.1/x'):
        d, conf = setup([hook(url)])
        p = pw('check-config', '-c', conf)
        assert p.returncode == 2 and 'must start with https://, http://' in text(p.stderr)
        assert url not in text(p.stderr)


@test
def bad_configuration_exits_2_before_touching_anything():
    d = tmpdir()
    conf = write_config(os.path.join(d, 'pw.conf'), [hook('https://x', 'a'), hook('https://y', 'a')],
                        [ALL], state=os.path.join(d, 'state.db'))
    p = pw('scan', '-c', conf, digests()[0])
    assert p.returncode == 2 and 'a second notifier named "a"' in text(p.stderr)
    assert not os.path.exists(os.path.join(d, 'state.db'))


@test
def an_unreadable_digest_is_named_and_the_others_still_alert():
    with Receiver() as r:
        d, conf = setup([hook(r.url)])
        p = pw('scan', '-c', conf, os.path.join(d, 'missing.md'), digests()[0])
        assert p.returncode == 1
        assert 'missing.md: cannot open' in text(p.stderr)
        assert len(papers_of(r.requests)) == 12


@test
def a_webhook_token_quoted_back_by_the_endpoint_stays_out_of_status_and_the_log():
    token, key = 'T0kenInThePath9x', 'QuerySecret7788z'
    with Receiver(default=lambda q: Reply(404, f'no hook at {q.path}?{q.query}')) as r:
        d, conf = setup([hook(f'{r.url}/hooks/{token}?key={key}&v=1')])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 1 and len(r.requests) == 1
        assert token in r.requests[0].path  # the endpoint did quote it back
        s = pw('status', '-c', conf)
        for out in (p.stdout, p.stderr, s.stdout, s.stderr):
            assert token.encode() not in out and key.encode() not in out, out
        assert 'HTTP 404: no hook at /hooks…?key=…' in text(s.stdout), text(s.stdout)


def gap_between_first_two(r):
    return r.requests[1].started - r.requests[0].started


def http_date(seconds_ahead):
    import email.utils
    return email.utils.formatdate(time.time() + seconds_ahead, usegmt=True)


@test
def retry_after_in_seconds_is_the_wait_even_below_the_backoff():
    # The production backoff: a first retry 5 to 10 s later. The server asks for 1 s.
    with Receiver() as r:
        r.push(Reply(429, 'slow down', headers={'Retry-After': '1'}))
        d, conf = setup([hook(r.url)], delivery={'retry_base': '10s', 'retry_max': '30m'})
        p = pw('scan', '-c', conf, '--wait', '30s', digests()[0])
        assert p.returncode == 0 and len(r.requests) == 2, p.stderr
        assert 0.8 < gap_between_first_two(r) < 3.5, gap_between_first_two(r)


@test
def retry_after_as_an_http_date_is_the_wait():
    with Receiver() as r:
        r.push(lambda q: Reply(503, 'later', headers={'Retry-After': http_date(2)}))
        d, conf = setup([hook(r.url)], delivery={'retry_base': '10s', 'retry_max': '30m'})
        p = pw('scan', '-c', conf, '--wait', '30s', digests()[0])
        assert p.returncode == 0 and len(r.requests) == 2, p.stderr
        assert 0.8 < gap_between_first_two(r) < 4.5, gap_between_first_two(r)


@test
def a_huge_retry_after_waits_retry_max_and_leaves_the_state_sane():
    with Receiver() as r:
        r.push(Reply(429, 'slow down', headers={'Retry-After': '1e17'}))
        d, conf = setup([hook(r.url)], delivery={'retry_base': '200ms', 'retry_max': '1s'})
        p = pw('scan', '-c', conf, '--wait', '20s', digests()[0])
        assert p.returncode == 0 and len(r.requests) == 2, p.stderr
        assert gap_between_first_two(r) < 3.0, gap_between_first_two(r)


@test
def max_age_holds_while_a_message_waits_for_a_long_retry_after():
    with Receiver() as r:
        r.push(Reply(429, 'slow down', headers={'Retry-After': '3600'}), times=5)
        d, conf = setup([hook(r.url)], delivery={'retry_base': '200ms', 'retry_max': '2h',
                                                 'max_age': '2s'})
        start = time.monotonic()
        p = pw('scan', '-c', conf, '--wait', '30s', digests()[0])
        assert p.returncode == 1 and time.monotonic() - start < 10, time.monotonic() - start
        row = [l for l in text(pw('status', '-c', conf).stdout).splitlines()
               if l.startswith('hook')][0]
        assert row.split()[1:4] == ['0', '0', '-'] and 'gave up' in row, row


if __name__ == '__main__':
    run()
