#!/usr/bin/env python3
"""test_faults.py — endpoints that fail in every way a network endpoint fails, while the daemon
runs. During each fault the other notifier is unaffected and new digests are still read; once the
fault clears, every alert arrives, and an alert that arrived twice came in the same message. SMTP
servers that refuse, defer or fail at each stage of a session get the same treatment."""
import collections
import os
import time

from certs import make_certs
from harness import test, run, write_config, Daemon, tmpdir, wait_until, pw, text, digests
from receiver import Receiver, Reply, RefusedPort
from smtp import SmtpServer

ALL = {'name': 'all', 'query': 'id:2*'}
FAST = {'retry_base': '100ms', 'retry_max': '500ms', 'shutdown_grace': '1s'}


def digest_text(first, n):
    return ''.join(f'Title: Paper number {i}\nPDF: https://arxiv.org/pdf/2503.{i:05d}\n'
                   f'Summary: A summary of paper {i}.\n---\n' for i in range(first, first + n))


def papers_by_id(receiver):
    """paper id -> the webhook-ids of the complete requests answered 2xx that carried it. A
    request whose answer was then cut or dripped counts: it reached the receiver, which is why a
    retry may bring it again (with the same webhook-id)."""
    seen = collections.defaultdict(set)
    for q in receiver.requests:
        if q.complete and q.reply is not None and q.reply.status < 300:
            for p in q.json()['papers']:
                seen[p['id']].add(q.headers['webhook-id'])
    return seen


def outage(faulty_url, start_fault, clear_fault, faulty_extra=None):
    """Runs the daemon with a faulty and a healthy webhook, through a fault and its end."""
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    with Receiver() as healthy:
        notifiers = [dict({'name': 'faulty', 'type': 'webhook', 'url': faulty_url,
                           'timeout': '1s', 'connect_timeout': '1s'}, **(faulty_extra or {})),
                     {'name': 'healthy', 'type': 'webhook', 'url': healthy.url}]
        conf = write_config(os.path.join(d, 'pw.conf'), notifiers, [ALL],
                            state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                            delivery=FAST)
        with Daemon(conf, d) as daemon:
            start_fault()
            daemon.start()
            for k, first in enumerate((0, 10)):
                t = time.monotonic()
                with open(os.path.join(inbox, f'.{k}.tmp'), 'w') as f:
                    f.write(digest_text(first, 5))
                os.rename(os.path.join(inbox, f'.{k}.tmp'), os.path.join(inbox, f'{k}.md'))
                # The healthy notifier gets each digest at once, and the folder is still read.
                healthy.wait_for(k + 1, timeout=3)
                assert healthy.requests[k].completed - t < 2.5
            receiver = clear_fault()
            expected = {f'2503.{i:05d}' for i in list(range(0, 5)) + list(range(10, 15))}
            wait_until(lambda: expected <= set(papers_by_id(receiver)), 30,
                       'every alert after the fault')
            split = {p: ids for p, ids in papers_by_id(receiver).items() if len(ids) > 1}
            assert not split, f'a paper came in two different messages: {split}'

            assert daemon.stop() == 0
            return daemon.log_text()


def receiver_fault(reply, extra=None):
    """A receiver answering every request with reply until the fault is cleared."""
    r = Receiver()
    r.push(reply, times=10000)

    def clear():
        # Not before the faulty endpoint has been tried: its first request may still be on its
        # way while the healthy one has answered both.
        r.wait_for(1, timeout=10)
        r.clear()
        return r
    try:
        return outage(r.url, lambda: None, clear, extra)
    finally:
        r.stop()


@test
def receiver_down_connection_refused():
    down = RefusedPort()
    state = {}

    def clear():
        port = down.port
        down.close()
        state['r'] = Receiver(port=port)
        return state['r']
    try:
        log = outage(down.url, lambda: None, clear)
        assert 'Connection refused' in log or "Couldn't connect" in log, log[-2000:]
    finally:
        if 'r' in state:
            state['r'].stop()


@test
def receiver_hanging_accepts_and_never_answers():
    log = receiver_fault(Reply(hang=True))
    assert 'timed out' in log.lower() or 'timeout' in log.lower(), log[-2000:]


@test
def receiver_answering_500():
    assert 'HTTP 500' in receiver_fault(Reply(500, 'internal error'))


@test
def receiver_answering_429_with_retry_after():
    assert 'HTTP 429' in receiver_fault(Reply(429, 'slow down', headers={'Retry-After': '1'}))


@test
def receiver_answering_slowly_byte_by_byte():
    # 200 bytes at 20 ms a byte: four seconds, past the notifier's one-second timeout.
    log = receiver_fault(Reply(200, 'x' * 200, drip=0.02))
    assert 'timed out' in log.lower() or 'timeout' in log.lower(), log[-2000:]


@test
def receiver_closing_mid_response():
    log = receiver_fault(Reply(200, 'y' * 500, close_mid=True))
    assert 'not delivered' in log


@test
def tls_with_a_wrong_certificate_fails_and_nothing_goes_in_clear():
    certs = make_certs(os.path.join(tmpdir(), 'certs'))
    bad = Receiver(tls=certs, cert='wrong')
    state = {}

    def clear():
        port = bad.port
        # The client gives up on the certificate before the server's side of the handshake has
        # counted the failure: wait for the server to say so.
        bad.wait_until(lambda r: r.handshake_failures >= 1, 10,
                       describe=lambda: 'a failed handshake')
        assert bad.requests == []
        bad.stop()
        state['good'] = Receiver(tls=certs, port=port)
        return state['good']
    try:
        log = outage(bad.url, lambda: None, clear, {'ca_file': certs.ca_file})
        assert 'certificate' in log.lower(), log[-2000:]
        assert all(q.tls for q in state['good'].requests)
    finally:
        bad.stop()
        if 'good' in state:
            state['good'].stop()


def smtp_scan(server, fails=(), wait='20s'):
    """Scans a sample digest into an email notifier at server; returns the scan's result."""
    d = tmpdir()
    for stage, code, times in fails:
        server.fail(stage, code=code, times=times)
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'mail', 'type': 'email', 'url': server.url, 'tls': 'none',
                          'from': 'paperwatch@example.org', 'to': ['me@example.org']}],
                        [ALL], state=os.path.join(d, 'state.db'), delivery=FAST)
    return conf, pw('scan', '-c', conf, '--wait', wait, digests()[0])


@test
def smtp_refused_then_listening_gets_the_message():
    down = RefusedPort()
    d = tmpdir()
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'mail', 'type': 'email', 'tls': 'none',
                          'url': f'smtp://127.0.0.1:{down.port}',
                          'from': 'paperwatch@example.org', 'to': ['me@example.org']}],
                        [ALL], state=os.path.join(d, 'state.db'), delivery=FAST)
    p = pw('scan', '-c', conf, '--wait', '1', digests()[0])
    assert p.returncode == 1 and 'not delivered' in text(p.stderr)
    port = down.port
    down.close()
    with SmtpServer(port=port) as mx:
        assert pw('scan', '-c', conf, '--wait', '20', digests()[0]).returncode == 0
        assert len(mx.wait_for(1)) == 1


@test
def smtp_421_on_connect_is_retried():
    with SmtpServer() as mx:
        conf, p = smtp_scan(mx, [('greeting', 421, 2)])
        assert p.returncode == 0, text(p.stderr)
        assert len(mx.replies('GREETING', 421)) == 2 and len(mx.messages) == 1


@test
def smtp_451_on_rcpt_is_retried():
    with SmtpServer() as mx:
        conf, p = smtp_scan(mx, [('rcpt', 451, 2)])
        assert p.returncode == 0, text(p.stderr)
        assert len(mx.replies('RCPT', 451)) == 2 and len(mx.messages) == 1


@test
def smtp_552_on_data_fails_for_good_and_says_why():
    with SmtpServer() as mx:
        conf, p = smtp_scan(mx, [('data', 552, 1)])
        assert p.returncode == 1 and mx.messages == []
        s = pw('status', '-c', conf)
        assert '552' in text(s.stdout), text(s.stdout)


if __name__ == '__main__':
    run()
