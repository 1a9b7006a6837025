#!/usr/bin/env python3
"""test_servers.py — the loopback test servers themselves (certs.py, receiver.py, smtp.py),
proven with Python's own clients before any notifier test leans on them."""
import email.message
import email.utils
import http.client
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from harness import test, run, tmpdir
from certs import make_certs
from receiver import Receiver, Reply, RefusedPort
from smtp import SmtpServer

CERTS = make_certs(tmpdir())
HERE = os.path.dirname(os.path.abspath(__file__))


def post(url, body=b'{}', headers=None, timeout=5, context=None):
    """POSTs with urllib; returns (status, headers, body) for any status, errors included."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method='POST')
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def raw_request(port, path='/', body=b''):
    """A minimal HTTP/1.1 POST as bytes, for tests that drive the socket themselves."""
    return (f'POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n'
            f'Content-Length: {len(body)}\r\n\r\n').encode() + body


def smtp_client(mx, **kw):
    """smtplib connected to `mx`, over implicit TLS when it is an smtps server."""
    if mx.mode == 'smtps':
        return smtplib.SMTP_SSL(mx.host, mx.port, timeout=5, context=CERTS.client_context(), **kw)
    return smtplib.SMTP(mx.host, mx.port, timeout=5, **kw)


def auth_plain(client, user, password):
    """AUTH PLAIN alone: smtplib's login() would fall back to LOGIN after a refusal. (auth()
    does not say EHLO first, and takes aiosmtpd's 503 'send EHLO first' for success.)"""
    client.ehlo_or_helo_if_needed()
    client.user, client.password = user, password
    return client.auth('PLAIN', client.auth_plain)


def expect(exc_type, fn, *args, **kw):
    """Calls fn and returns the exception of exc_type it must raise."""
    try:
        fn(*args, **kw)
    except exc_type as e:
        return e
    raise AssertionError(f'{fn.__name__} did not raise {exc_type.__name__}')


# --- HTTP receiver ------------------------------------------------------------------------------

@test
def certificates_are_cached_per_directory_and_the_wrong_one_is_not_signed_by_the_ca():
    assert make_certs(CERTS.directory) == CERTS
    ok = subprocess.run(['openssl', 'verify', '-CAfile', CERTS.ca_file, CERTS.cert_file],
                        capture_output=True)
    bad = subprocess.run(['openssl', 'verify', '-CAfile', CERTS.ca_file, CERTS.wrong_cert_file],
                         capture_output=True)
    assert ok.returncode == 0 and bad.returncode != 0, (ok, bad)


@test
def receiver_records_method_path_query_headers_body_and_times():
    with Receiver() as rx:
        before = time.monotonic()
        status, _, body = post(rx.url + '/hooks/abc?x=1&y=2', b'{"text":"hi"}',
                               {'Content-Type': 'application/json', 'X-Signature': 'v1,abc'})
        assert (status, body) == (200, b'ok')
        (r,) = rx.wait_for(1)
        assert (r.method, r.path, r.query) == ('POST', '/hooks/abc', 'x=1&y=2')
        assert r.headers['x-signature'] == 'v1,abc' and r.headers['CONTENT-TYPE'] == \
            'application/json'
        assert r.json() == {'text': 'hi'} and r.text() == '{"text":"hi"}'
        assert before <= r.started <= r.completed <= time.monotonic()
        assert not r.tls and r.complete and r.reply.status == 200


@test
def scripted_replies_come_in_order_with_retry_after_then_the_default():
    with Receiver() as rx:
        rx.push(Reply(429, headers={'Retry-After': '2'}, body={'ok': False}), 503)
        first, second, third = (post(rx.url + '/x') for _ in range(3))
        assert first[0] == 429 and first[1]['Retry-After'] == '2'
        assert first[1]['Content-Type'] == 'application/json'
        assert json.loads(first[2]) == {'ok': False}
        assert second[0] == 503
        assert third[:1] == (200,) and third[2] == b'ok'
        assert rx.pending() == 0 and [r.reply.status for r in rx.requests] == [429, 503, 200]


@test
def replies_queued_for_a_path_prefix_answer_only_that_path():
    with Receiver() as rx:
        rx.push(Reply(404, 'no such hook'), path='/slack')
        rx.push(Reply(500), path='/slack/urgent')
        rx.push(201)
        assert post(rx.url + '/discord/1')[0] == 201
        assert post(rx.url + '/slack/urgent/1')[0] == 500   # the longest prefix wins
        assert post(rx.url + '/slack/a')[:3:2] == (404, b'no such hook')
        assert post(rx.url + '/slack/a')[0] == 200          # its queue is empty now


@test
def keep_alive_carries_several_requests_on_one_connection():
    with Receiver() as rx:
        rx.push(Reply(200, b'one'), Reply(202, b''), Reply(200, b'x' * 5000))
        conn = http.client.HTTPConnection('127.0.0.1', rx.port, timeout=5)
        for expected in [(200, b'one'), (202, b''), (200, b'x' * 5000)]:
            conn.request('POST', '/k', body=b'payload')
            resp = conn.getresponse()
            assert resp.getheader('Content-Length') == str(len(expected[1]))
            assert (resp.status, resp.read()) == expected
        conn.close()
        assert {r.connection for r in rx.wait_for(3)} == {1} and rx.connections == 1


@test
def no_content_reply_keeps_the_connection_usable():
    with Receiver() as rx:
        rx.push(204, Reply(200, headers=[('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')]))
        conn = http.client.HTTPConnection('127.0.0.1', rx.port, timeout=5)
        conn.request('POST', '/discord', body=b'{}')
        resp = conn.getresponse()
        assert (resp.status, resp.getheader('Content-Length'), resp.read()) == (204, None, b'')
        conn.request('POST', '/discord', body=b'{}')
        resp = conn.getresponse()
        assert resp.headers.get_all('Set-Cookie') == ['a=1', 'b=2'] and resp.read() == b'ok'
        conn.close()
        assert rx.connections == 1


@test
def reply_with_close_ends_the_connection_so_the_next_request_opens_another():
    with Receiver() as rx:
        rx.push(Reply(200, close=True))
        conn = http.client.HTTPConnection('127.0.0.1', rx.port, timeout=5)
        conn.request('GET', '/a')
        resp = conn.getresponse()
        assert resp.getheader('Connection') == 'close'
        resp.read()
        conn.request('GET', '/b')  # http.client reconnects by itself
        conn.getresponse().read()
        conn.close()
        assert [r.connection for r in rx.wait_for(2)] == [1, 2]


@test
def arrival_and_completion_times_show_a_slowly_sent_body():
    with Receiver() as rx:
        s = socket.create_connection(('127.0.0.1', rx.port), timeout=5)
        request = raw_request(rx.port, '/slow', b'0123456789')
        s.sendall(request[:-10])
        time.sleep(0.3)
        s.sendall(request[-10:])
        (r,) = rx.wait_for(1)
        assert r.body == b'0123456789' and r.completed - r.started >= 0.25, r
        s.close()


@test
def chunked_request_body_is_decoded_and_a_cut_body_is_marked_incomplete():
    with Receiver() as rx:
        s = socket.create_connection(('127.0.0.1', rx.port), timeout=5)
        s.sendall(b'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
                  b'5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')
        assert s.recv(1000).startswith(b'HTTP/1.1 200 OK\r\n')
        s.sendall(raw_request(rx.port, '/cut', b'0123456789')[:-4])
        s.shutdown(socket.SHUT_WR)
        first, second = rx.wait_for(2)
        assert first.body == b'hello world' and first.complete
        assert second.body == b'012345' and not second.complete and second.reply is None
        s.close()


@test
def delay_answers_only_after_the_delay():
    with Receiver() as rx:
        rx.push(Reply(200, delay=0.4))
        start = time.monotonic()
        assert post(rx.url)[0] == 200
        assert time.monotonic() - start >= 0.4


@test
def hang_leaves_the_client_to_time_out_and_stop_still_returns_at_once():
    rx = Receiver()
    rx.push(Reply(hang=True))
    start = time.monotonic()
    e = expect(OSError, post, rx.url + '/h', timeout=0.5)
    assert 'timed out' in str(e), e
    assert 0.5 <= time.monotonic() - start < 2
    assert len(rx.requests) == 1  # it was received, just never answered
    rx.push(Reply(hang=True))
    hanging = socket.create_connection(('127.0.0.1', rx.port), timeout=5)
    hanging.sendall(raw_request(rx.port))
    idle = socket.create_connection(('127.0.0.1', rx.port), timeout=5)
    rx.wait_for(2)
    start = time.monotonic()
    rx.stop()
    assert time.monotonic() - start < 1
    assert hanging.recv(100) == b''  # closed without an answer
    hanging.close()
    idle.close()


@test
def drip_sends_the_response_a_byte_at_a_time():
    with Receiver() as rx:
        rx.push(Reply(200, b'dripping', drip=0.01))
        s = socket.create_connection(('127.0.0.1', rx.port), timeout=5)
        s.sendall(raw_request(rx.port))
        start, pieces, data = time.monotonic(), 0, b''
        while not data.endswith(b'dripping'):
            chunk = s.recv(4096)
            assert chunk, data
            data, pieces = data + chunk, pieces + 1
        took = time.monotonic() - start
        assert data.startswith(b'HTTP/1.1 200 OK\r\n') and pieces > 20, (pieces, data)
        assert took >= (len(data) - 1) * 0.01 * 0.9, took
        s.close()


@test
def close_mid_sends_part_of_the_response_and_closes():
    with Receiver() as rx:
        rx.push(Reply(200, b'x' * 1000, close_mid=True), Reply(200, close_mid=0))
        conn = http.client.HTTPConnection('127.0.0.1', rx.port, timeout=5)
        conn.request('POST', '/m', body=b'a')
        resp = conn.getresponse()
        assert resp.status == 200  # the head arrived whole
        e = expect(http.client.IncompleteRead, resp.read)
        assert 0 < len(e.partial) < 1000
        conn.close()
        conn = http.client.HTTPConnection('127.0.0.1', rx.port, timeout=5)
        conn.request('POST', '/m', body=b'b')
        expect(http.client.RemoteDisconnected, conn.getresponse)
        conn.close()


@test
def https_verified_against_the_test_ca_works_by_ip_and_by_name():
    with Receiver(tls=CERTS) as rx:
        assert rx.url.startswith('https://127.0.0.1:')
        assert post(rx.url + '/s', context=CERTS.client_context())[0] == 200
        by_name = f'https://localhost:{rx.port}/s'
        assert post(by_name, context=CERTS.client_context())[0] == 200
        assert all(r.tls for r in rx.wait_for(2))


@test
def https_with_the_wrong_certificate_fails_verification():
    with Receiver(tls=CERTS, cert='wrong') as rx:
        e = expect(urllib.error.URLError, post, rx.url, context=CERTS.client_context())
        assert isinstance(e.reason, ssl.SSLCertVerificationError), e
        rx.wait_until(lambda r: r.handshake_failures == 1, 5)
        assert rx.requests == []


@test
def refused_port_refuses_connections():
    with RefusedPort() as p:
        e = expect(OSError, socket.create_connection, ('127.0.0.1', p.port), timeout=2)
        assert isinstance(e, ConnectionRefusedError), e


@test
def receiver_stops_and_restarts_on_the_same_port_keeping_its_records():
    with Receiver() as rx:
        rx.push(201, 202)
        assert post(rx.url)[0] == 201
        port = rx.port
        rx.stop()
        expect(ConnectionRefusedError, socket.create_connection, ('127.0.0.1', port), timeout=2)
        rx.start()
        assert rx.port == port and post(rx.url)[0] == 202
        assert len(rx.requests) == 2


@test
def wait_for_times_out_saying_how_many_arrived():
    with Receiver() as rx:
        post(rx.url)
        e = expect(TimeoutError, rx.wait_for, 2, timeout=0.2)
        assert '1 of 2' in str(e)


@test
def standalone_receiver_prints_its_url_and_logs_json_lines():
    log = os.path.join(tmpdir(), 'requests.jsonl')
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'receiver.py'), '--log', log],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith('http://127.0.0.1:'), url
        assert post(url + '/demo?q=1', 'héllo'.encode(), {'X-Test': 'yes'})[0] == 200
    finally:
        proc.terminate()
        proc.stdout.close()
        assert proc.wait(5) == 0
    with open(log, encoding='utf-8') as f:
        (entry,) = [json.loads(line) for line in f]
    assert (entry['method'], entry['path'], entry['query'], entry['body']) == \
        ('POST', '/demo', 'q=1', 'héllo')
    assert entry['headers']['X-Test'] == 'yes' and entry['time'] > 0


# --- SMTP server --------------------------------------------------------------------------------

@test
def smtp_plain_delivers_and_records_envelope_and_replies():
    with SmtpServer() as mx:
        with smtp_client(mx) as c:
            c.sendmail('alerts@paperwatch.test', ['a@example.test', 'b@example.test'],
                       b'Subject: plain\r\n\r\nHello.\r\n')
        (m,) = mx.wait_for(1)
        assert m.mail_from == 'alerts@paperwatch.test'
        assert m.rcpt_tos == ['a@example.test', 'b@example.test']
        assert m.raw == b'Subject: plain\r\n\r\nHello.\r\n' and m.subject == 'plain'
        assert m.connection.tls == 'none' and m.connection.authenticated_as is None
        assert [(r.command, r.code) for r in mx.replies()][:2] == [('GREETING', 220), ('EHLO', 250)]
        assert len(mx.replies('rcpt', 250)) == 2 and len(mx.replies('DATA', 250)) == 1


@test
def smtp_plain_mode_offers_neither_starttls_nor_auth():
    with SmtpServer(auth=('u', 'p')) as mx, smtp_client(mx) as c:
        c.ehlo()
        assert not c.has_extn('starttls') and not c.has_extn('auth')
        expect(smtplib.SMTPNotSupportedError, c.starttls)
        assert expect(smtplib.SMTPSenderRefused, c.sendmail, 'a@x.test', ['b@x.test'],
                      b'\r\n').smtp_code == 530
        assert mx.messages == []


@test
def smtp_starttls_then_auth_plain_and_login_deliver():
    with SmtpServer('starttls', certs=CERTS, auth=('alerts', 's3cret')) as mx:
        with smtp_client(mx) as c:
            c.ehlo()
            assert c.has_extn('starttls') and not c.has_extn('auth')  # AUTH only after TLS
            c.starttls(context=CERTS.client_context())
            c.ehlo()
            assert c.esmtp_features['auth'].split() == ['LOGIN', 'PLAIN']
            c.login('alerts', 's3cret')  # smtplib picks PLAIN
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: one\r\n\r\n1\r\n')
        with smtp_client(mx) as c:
            c.starttls(context=CERTS.client_context())
            c.ehlo()
            c.user, c.password = 'alerts', 's3cret'
            c.auth('LOGIN', c.auth_login, initial_response_ok=False)
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: two\r\n\r\n2\r\n')
        first, second = mx.wait_for(2)
        assert [m.connection.auth for m in (first, second)] == \
            [[('PLAIN', 'alerts', True)], [('LOGIN', 'alerts', True)]]
        assert first.connection.tls == second.connection.tls == 'starttls'


@test
def smtp_wrong_password_is_refused_with_535_and_mail_needs_auth():
    with SmtpServer('starttls', certs=CERTS, auth=('alerts', 's3cret')) as mx:
        with smtp_client(mx) as c:
            c.starttls(context=CERTS.client_context())
            e = expect(smtplib.SMTPAuthenticationError, auth_plain, c, 'alerts', 'wrong')
            assert e.smtp_code == 535
            e = expect(smtplib.SMTPSenderRefused, c.sendmail, 'a@x.test', ['b@x.test'], b'\r\n')
            assert e.smtp_code == 530
        assert mx.messages == [] and mx.connections[0].auth == [('PLAIN', 'alerts', False)]


@test
def smtp_required_starttls_refuses_a_client_that_does_not_upgrade():
    with SmtpServer('starttls', certs=CERTS, require_starttls=True) as mx:
        with smtp_client(mx) as c:
            e = expect(smtplib.SMTPSenderRefused, c.sendmail, 'a@x.test', ['b@x.test'], b'\r\n')
            assert e.smtp_code == 530
        with smtp_client(mx) as c:
            c.starttls(context=CERTS.client_context())
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: ok\r\n\r\n')
        assert [m.connection.number for m in mx.wait_for(1)] == [2]
        assert mx.replies(code=530)[0].text == 'Must issue a STARTTLS command first'


@test
def smtp_starttls_with_the_wrong_certificate_fails_verification():
    with SmtpServer('starttls', certs=CERTS, cert='wrong') as mx:
        with smtp_client(mx) as c:
            expect(ssl.SSLCertVerificationError, c.starttls, context=CERTS.client_context())
        mx.wait_until(lambda s: s.connections[0].handshake_failed, 5)
        assert mx.messages == []


@test
def smtp_implicit_tls_greets_after_the_handshake_and_refuses_a_wrong_certificate():
    with SmtpServer('smtps', certs=CERTS, auth=('u', 'p')) as mx:
        assert mx.url.startswith('smtps://127.0.0.1:')
        with smtp_client(mx) as c:
            c.login('u', 'p')
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: tls\r\n\r\n')
        (m,) = mx.wait_for(1)
        assert m.connection.tls == 'implicit' and m.connection.authenticated_as == 'u'
    with SmtpServer('smtps', certs=CERTS, cert='wrong') as mx:
        expect(ssl.SSLCertVerificationError, smtp_client, mx)
        assert all(c.replies == [] for c in mx.connections)  # never greeted


@test
def smtp_scripted_421_greeting_closes_then_service_resumes():
    with SmtpServer() as mx:
        mx.fail('greeting', times=2)
        for _ in range(2):
            assert expect(smtplib.SMTPConnectError, smtp_client, mx).smtp_code == 421
        with smtp_client(mx) as c:
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: third time\r\n\r\n')
        mx.wait_for(1)
        assert [c.replies[0].code for c in mx.connections] == [421, 421, 220]
        assert mx.pending_failures('greeting') == 0


@test
def smtp_scripted_rcpt_451_and_550_refuse_recipients_in_turn():
    with SmtpServer() as mx:
        mx.fail('rcpt')
        mx.fail('rcpt', code=550)
        with smtp_client(mx) as c:
            for code in (451, 550):
                e = expect(smtplib.SMTPRecipientsRefused, c.sendmail, 'a@x.test', ['b@x.test'],
                           b'\r\n')
                assert e.recipients['b@x.test'][0] == code
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: accepted\r\n\r\n')
        assert [r.code for r in mx.replies('rcpt')] == [451, 550, 250]
        assert [m.subject for m in mx.wait_for(1)] == ['accepted']


@test
def smtp_scripted_mail_451_and_data_552_deliver_nothing_then_resume():
    with SmtpServer() as mx:
        mx.fail('mail')
        mx.fail('data')
        with smtp_client(mx) as c:
            assert expect(smtplib.SMTPSenderRefused, c.sendmail, 'a@x.test', ['b@x.test'],
                          b'\r\n').smtp_code == 451
            assert expect(smtplib.SMTPDataError, c.sendmail, 'a@x.test', ['b@x.test'],
                          b'Subject: big\r\n\r\n').smtp_code == 552
            assert mx.messages == []
            c.sendmail('a@x.test', ['b@x.test'], b'Subject: fits\r\n\r\n')
        assert [m.subject for m in mx.wait_for(1)] == ['fits']
        assert [r.code for r in mx.replies('data') if r.code != 354] == [552, 250]


@test
def smtp_scripted_auth_failure_refuses_right_credentials_once():
    with SmtpServer('starttls', certs=CERTS, auth=('u', 'p')) as mx:
        mx.fail('auth')
        with smtp_client(mx) as c:
            c.starttls(context=CERTS.client_context())
            assert expect(smtplib.SMTPAuthenticationError, auth_plain, c, 'u', 'p').smtp_code \
                == 535
        with smtp_client(mx) as c:
            c.starttls(context=CERTS.client_context())
            auth_plain(c, 'u', 'p')
        assert [c.auth for c in mx.connections] == [[('PLAIN', 'u', False)],
                                                    [('PLAIN', 'u', True)]]


@test
def smtp_multipart_message_with_encoded_subject_is_parsed():
    msg = email.message.EmailMessage()
    msg['From'] = 'paperwatch <alerts@paperwatch.test>'
    msg['To'] = 'reader@example.test'
    msg['Subject'] = 'Nouveaux articles : café ☕ — 3 matches'
    msg['Date'] = email.utils.format_datetime(email.utils.localtime())
    msg['Message-ID'] = email.utils.make_msgid(domain='paperwatch.test')
    msg.set_content('Three papers match.\n')
    msg.add_alternative('<p>Three papers <b>match</b>.</p>\n', subtype='html')
    with SmtpServer() as mx:
        with smtp_client(mx) as c:
            c.send_message(msg)
        (m,) = mx.wait_for(1)
    assert b'=?utf-8?' in m.raw.lower() and '☕'.encode() not in m.raw  # encoded on the wire
    assert m.subject == 'Nouveaux articles : café ☕ — 3 matches'
    assert m.message.get_content_type() == 'multipart/alternative'
    assert m.text == 'Three papers match.\n'
    assert m.html == '<p>Three papers <b>match</b>.</p>\n'
    assert m.message['Date'].datetime is not None
    assert m.message['Message-ID'] == msg['Message-ID']


@test
def smtp_stops_at_once_with_open_connections_and_restarts_on_the_same_port():
    mx = SmtpServer()
    c = smtp_client(mx)
    c.ehlo()
    port = mx.port
    start = time.monotonic()
    mx.stop()
    assert time.monotonic() - start < 1
    expect(smtplib.SMTPServerDisconnected, c.noop)
    expect(ConnectionRefusedError, socket.create_connection, ('127.0.0.1', port), timeout=2)
    mx.start()
    assert mx.port == port
    with smtp_client(mx) as c:
        assert c.noop()[0] == 250
    mx.stop()
    assert len(mx.connections) == 2


if __name__ == '__main__':
    run()
