#!/usr/bin/env python3
"""test_servers.py — the loopback test servers themselves (certs.py, receiver.py), proven
with Python's own clients before any notifier test leans on them."""
import http.client
import json
import os
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


if __name__ == '__main__':
    run()
