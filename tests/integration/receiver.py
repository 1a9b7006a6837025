#!/usr/bin/env python3
"""receiver.py — a scriptable HTTP/HTTPS server on 127.0.0.1 that records every request, standing
in for Slack, Discord and generic webhook endpoints in tests.

It runs in background threads of the test process, on an ephemeral port unless told otherwise:

    from receiver import Receiver, Reply, RefusedPort
    with Receiver() as rx:                        # or Receiver(tls=make_certs(d), cert='wrong')
        rx.url                                    # 'http://127.0.0.1:41234' (https with tls=)
        rx.push(Reply(429, headers={'Retry-After': '2'}), Reply(200))   # answered in this order
        rx.push(Reply(hang=True), path='/slack')  # only for paths starting with /slack
        ... point the daemon at rx.url + '/slack/T0/B0/x' ...
        first, second = rx.wait_for(2, timeout=10)
        first.method, first.path, first.query, first.headers['content-type'], first.json()
        rx.wait_until(lambda r: r.connections >= 2)  # any condition, re-checked on each event

Requests (`Request`, in arrival order, from `rx.requests` or `rx.wait_for(n)`) carry the method,
the path without its query, the query string, the headers (an http.client.HTTPMessage: lookup is
case-insensitive, `get_all` gives repeated ones), the body as bytes (chunked bodies decoded), when
the request line arrived and when the body was complete (`time.monotonic()`), whether it came over
TLS, which TCP connection carried it (equal numbers: the client kept the connection alive), and
the Reply it got.

Each request is answered by the first Reply queued for the longest path prefix that matches it and
still has replies, else from the default queue (`path=''`), else by `rx.default` (200, body `ok`).
A Reply is a status, headers and a body (bytes; str as UTF-8 text; dict or list as JSON) with at
most one fault:

    delay=S      wait S seconds, then answer normally
    hang=True    read the request, never answer; the connection stays open until stop()
    drip=S       send the response one byte at a time, S seconds between bytes
    close_mid=N  send the first N bytes of the response (True: half of it), then close

Every response but a 204 has a Content-Length (unless the Reply's headers set one themselves, to
lie), and a 204 or 304 never has a body, so HTTP/1.1 clients such as libcurl keep connections
alive as they would with the real services. Headers may be a dict or a list of (name, value).
A queue entry may also be a function of the Request returning a Reply, and an int is shorthand for
Reply(status=int).

An endpoint that is down: `RefusedPort()` holds a loopback port that refuses every connection, and
`rx.stop()` then `rx.start()` takes a receiver away and brings it back on the same port, its
records and queued replies kept. stop() never waits on a client: it wakes delayed, hanging and
dripping replies and shuts every open connection.

Standalone, for demos and benchmarks (prints its URL, then one JSON line per request):

    python3 receiver.py [--port N] [--tls DIR] [--log FILE]
"""
import argparse
import collections
import http.client
import http.server
import json
import os
import random
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

HOST = '127.0.0.1'
# Long enough for a benchmark's burst of connections, which the default of 5 would refuse.
BACKLOG = 128
# Bounds stop(): a handler thread still alive after this is abandoned (they are daemons).
JOIN_SECONDS = 5.0
# How often serve_forever() looks for a shutdown request; stop() waits at most this long for it.
POLL_SECONDS = 0.05


@dataclass
class Reply:
    """One scripted answer: status, headers and body, and at most one fault (see the module doc)."""
    status: int = 200
    body: Union[bytes, str, dict, list, None] = b'ok'
    headers: Union[dict, list] = field(default_factory=dict)  # a list of pairs may repeat names
    delay: float = 0.0
    hang: bool = False
    drip: Optional[float] = None
    close_mid: Union[int, bool, None] = None
    close: bool = False  # answer with `Connection: close` and close afterwards

    def encode(self, head=False, closing=False):
        """The response's bytes on the wire; `head` leaves the body out but keeps its length.
        A 204 or 304 (Discord answers 204) carries no body whatever `body` says, and a 204 no
        length either, as HTTP requires: a stray body would corrupt a kept-alive connection."""
        bodiless = self.status in (204, 304)
        body, content_type = _body_bytes(None if bodiless else self.body)
        headers = list(self.headers.items() if isinstance(self.headers, dict) else self.headers)
        names = {k.lower() for k, _ in headers}
        if 'content-length' not in names and self.status != 204:
            headers.append(('Content-Length', str(len(body))))
        if content_type and 'content-type' not in names:
            headers.append(('Content-Type', content_type))
        if (closing or self.close) and 'connection' not in names:
            headers.append(('Connection', 'close'))
        lines = [f'HTTP/1.1 {self.status} {_reason(self.status)}']
        lines += [f'{k}: {v}' for k, v in headers]
        head_bytes = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        return head_bytes if head else head_bytes + body


DEFAULT_REPLY = Reply(200, b'ok')


@dataclass
class Request:
    """One request as the receiver saw it."""
    method: str
    path: str                        # without the query string
    query: str                       # after '?', '' when there is none
    headers: http.client.HTTPMessage
    body: bytes
    started: float                   # time.monotonic() when the request line had arrived
    completed: float                 # time.monotonic() when the body had arrived
    tls: bool
    connection: int                  # 1 for the receiver's first TCP connection, 2 for the next...
    version: str = 'HTTP/1.1'
    complete: bool = True            # False when the client closed before sending the whole body
    reply: Optional[Reply] = None    # the answer chosen for it (None for an incomplete request)

    def text(self):
        """The body decoded as UTF-8 (strictly: a test should see broken encoding fail)."""
        return self.body.decode('utf-8')

    def json(self):
        return json.loads(self.body)


Script = Union[Reply, int, Callable[[Request], Reply]]


class RefusedPort:
    """A loopback port where connections are refused: bound, so no other program takes it, but
    never listening, so the kernel answers every connection attempt with a reset."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self.port = self._sock.getsockname()[1]
        self.url = f'http://{HOST}:{self.port}'

    def close(self):
        """Frees the port, e.g. for a Receiver(port=...) that brings the endpoint up."""
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Receiver:
    """The scriptable recording HTTP(S) server; see the module doc for the whole picture."""

    def __init__(self, tls=None, cert='good', port=0, default: Script = DEFAULT_REPLY,
                 on_request: Optional[Callable[[Request], Any]] = None):
        """Starts serving at once. `tls` is a certs.Certs (None: plain HTTP); `cert` picks the
        CA-signed ('good') or self-signed ('wrong') certificate. `on_request` is called in the
        handler thread with each Request after it is recorded; it must not call stop()."""
        self.default = default
        self.on_request = on_request
        self._ssl = tls.server_context(cert) if tls is not None else None
        # Reentrant, so a wait_until() predicate may read the receiver's properties.
        self._cond = threading.Condition(threading.RLock())
        self._requests = []
        self._queues = {}
        self._connections = 0
        self._handshake_failures = 0
        self._server = None
        self._thread = None
        self.port = port
        self.start()

    # --- life cycle -------------------------------------------------------------------------

    @property
    def url(self):
        scheme = 'https' if self._ssl else 'http'
        return f'{scheme}://{HOST}:{self.port}'

    @property
    def running(self):
        return self._server is not None

    def start(self):
        """Listens (again) on the receiver's port; the first start picks an ephemeral one."""
        if self._server is not None:
            return
        self._server = _Server((HOST, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_SECONDS,),
                                        name=f'receiver-{self.port}', daemon=True)
        self._thread.start()

    def stop(self):
        """Stops listening and ends every connection now, answered or not. Records are kept."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        self._thread.join(JOIN_SECONDS)
        server.join_handlers(JOIN_SECONDS)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- scripting --------------------------------------------------------------------------

    def push(self, *replies: Script, path='', times=1):
        """Queues replies for requests whose path starts with `path` ('' for any), in order;
        `times` repeats the whole sequence."""
        for r in replies:
            if not (isinstance(r, (Reply, int)) or callable(r)):
                raise TypeError(f'not a Reply, status or function: {r!r}')
        with self._cond:
            self._queues.setdefault(path, collections.deque()).extend(list(replies) * times)

    def pending(self, path=''):
        """How many replies queued for exactly this prefix are still unused."""
        with self._cond:
            return len(self._queues.get(path, ()))

    def clear(self):
        """Forgets recorded requests and queued replies (the connection count stays)."""
        with self._cond:
            self._requests.clear()
            self._queues.clear()

    # --- what arrived -----------------------------------------------------------------------

    @property
    def requests(self):
        """A snapshot of the requests recorded so far, oldest first."""
        with self._cond:
            return list(self._requests)

    @property
    def connections(self):
        """TCP connections accepted so far, including ones whose TLS handshake failed."""
        with self._cond:
            return self._connections

    @property
    def handshake_failures(self):
        """Connections whose TLS handshake failed, e.g. because the client refused the cert."""
        with self._cond:
            return self._handshake_failures

    def wait_for(self, n, timeout=10.0):
        """Blocks until `n` requests have been recorded; returns the first `n`. Raises
        TimeoutError saying how many did arrive."""
        self.wait_until(lambda rx: len(rx._requests) >= n, timeout,
                        lambda: f'{len(self._requests)} of {n} requests arrived')
        with self._cond:
            return self._requests[:n]

    def wait_until(self, predicate, timeout=10.0, describe=None):
        """Blocks until predicate(receiver) is true, re-checked whenever a connection or a
        request arrives, e.g. `rx.wait_until(lambda r: r.connections >= 3)`. Raises
        TimeoutError."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout):
                what = describe() if describe else 'condition not met'
                raise TimeoutError(f'{what} within {timeout} s at {self.url}')

    # --- called from handler threads -------------------------------------------------------

    def _count_connection(self, handshake_failed=False):
        """Counts an accepted connection (returning its number) or a failed handshake."""
        with self._cond:
            if handshake_failed:
                self._handshake_failures += 1
            else:
                self._connections += 1
            self._cond.notify_all()
            return None if handshake_failed else self._connections

    def _record(self, req: Request):
        """Chooses the request's reply, records both and wakes waiters; returns the reply."""
        with self._cond:
            if req.complete:
                req.reply = self._next_reply(req)
            self._requests.append(req)
            self._cond.notify_all()
        if self.on_request is not None:
            self.on_request(req)
        return req.reply

    def _next_reply(self, req):
        """The head of the longest matching non-empty queue, else the default (lock held)."""
        prefixes = [p for p, q in self._queues.items() if q and req.path.startswith(p)]
        script = self._queues[max(prefixes, key=len)].popleft() if prefixes else self.default
        if isinstance(script, int):
            return Reply(script)
        if isinstance(script, Reply):
            return script
        return script(req)


class _Server(socketserver.TCPServer):
    """A thread per connection, every connection tracked so stop() can end it from outside.

    Each accepted socket is dup()ed before a handler sees it: TLS wrapping detaches the original
    socket object, and shutting down the duplicate wakes a handler blocked on the connection in
    a read or a handshake, plain or TLS alike.
    """
    allow_reuse_address = True  # restart on the same port while old connections sit in TIME_WAIT
    request_queue_size = BACKLOG

    def __init__(self, address, receiver):
        self.receiver = receiver
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._live = {}       # accepted socket -> its duplicate, for shutting down
        self._handlers = set()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._lock:
            self._live[request] = request.dup()
            t = threading.Thread(target=self._handle, args=(request, client_address),
                                 daemon=True)
            self._handlers.add(t)
        t.start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except OSError:
            pass  # a client that went away (or refused our certificate) is a test's business
        except Exception:
            traceback.print_exc()  # a bug here or in a test's reply function: show it
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._live.pop(request).close()
                self._handlers.discard(threading.current_thread())

    def drop_connections(self):
        with self._lock:
            dups = list(self._live.values())
        for d in dups:
            try:
                d.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

    def join_handlers(self, timeout):
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._handlers)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))


class _Handler(http.server.BaseHTTPRequestHandler):
    """Reads each request, records it, and answers with the Reply the receiver chose."""
    protocol_version = 'HTTP/1.1'  # keep-alive, as the real services offer

    def setup(self):
        rx = self.server.receiver
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # drip byte by byte
        self.connection_id = rx._count_connection()
        self.tls = rx._ssl is not None
        if self.tls:
            try:
                self.request = rx._ssl.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                rx._count_connection(handshake_failed=True)
                raise
        super().setup()

    def finish(self):
        super().finish()
        if self.tls:
            self.request.close()  # the TLS socket; the server closes the plain one it accepted

    def parse_request(self):
        # Called as soon as the request line is in, before the headers are read.
        self.started = time.monotonic()
        return super().parse_request()

    def log_message(self, format, *args):
        pass  # tests read requests from the receiver, not from stderr

    def do_request(self):
        body, complete = self._read_body()
        path, _, query = self.path.partition('?')
        req = Request(self.command, path, query, self.headers, body, self.started,
                      time.monotonic(), self.tls, self.connection_id, self.request_version,
                      complete)
        reply = self.server.receiver._record(req)
        if reply is None:
            self.close_connection = True
        else:
            self._answer(reply, head=self.command == 'HEAD')

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_request

    def _read_body(self):
        """The body by Content-Length or chunked encoding; (bytes, whether all of it came)."""
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get('Content-Length', 0))
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b''
        return body, len(body) == length

    def _read_chunked(self):
        """A chunked body, decoded (libcurl sends one when it does not know the size)."""
        parts = []
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b';')[0], 16)
            except ValueError:
                return b''.join(parts), False
            if size == 0:
                while self.rfile.readline(8192) not in (b'\r\n', b'\n', b''):
                    pass  # trailers: nothing to keep
                return b''.join(parts), True
            chunk = self.rfile.read(size)
            parts.append(chunk)
            if len(chunk) < size or self.rfile.readline(3) not in (b'\r\n', b'\n'):
                return b''.join(parts), False

    def _answer(self, reply, head):
        """Sends `reply`, faults included; stop() cuts any waiting short."""
        stopping = self.server.stopping
        if reply.hang:
            stopping.wait()
            self.close_connection = True
            return
        if reply.delay and stopping.wait(reply.delay):
            self.close_connection = True
            return
        data = reply.encode(head=head, closing=self.close_connection)
        if reply.close_mid is not None and reply.close_mid is not False:
            cut = len(data) // 2 if reply.close_mid is True else int(reply.close_mid)
            self.wfile.write(data[:cut])
            self.close_connection = True
        elif reply.drip:
            self._drip(data, reply.drip)
        else:
            self.wfile.write(data)
        if reply.close:
            self.close_connection = True

    def _drip(self, data, pause):
        """Writes one byte at a time (TCP_NODELAY sends each at once), pausing between."""
        for i in range(len(data)):
            self.wfile.write(data[i:i + 1])
            if i + 1 < len(data) and self.server.stopping.wait(pause):
                self.close_connection = True
                return


def jittered(seconds):
    """A script answering 200 after a random delay of up to seconds: kills and freezes then
    land mid-send as well as between sends."""
    return lambda req: Reply(200, 'ok', delay=random.random() * seconds)


def _body_bytes(body):
    """A Reply body as bytes, with the Content-Type it implies."""
    if body is None:
        return b'', None
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode('utf-8'), 'application/json'
    if isinstance(body, str):
        return body.encode('utf-8'), 'text/plain; charset=utf-8'
    return bytes(body), 'text/plain; charset=utf-8'


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return 'Unknown'


# --- standalone ---------------------------------------------------------------------------------

def log_line(req: Request):
    """One request as a JSON object for the standalone log: repeated headers joined by ', '."""
    headers = {}
    for name, value in req.headers.items():
        headers[name] = f'{headers[name]}, {value}' if name in headers else value
    return json.dumps({
        'time': time.time(), 'monotonic': req.completed, 'method': req.method,
        'path': req.path, 'query': req.query, 'headers': headers,
        'body': req.body.decode('utf-8', 'replace'), 'tls': req.tls,
        'connection': req.connection,
    }, ensure_ascii=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description='Record HTTP(S) requests on 127.0.0.1, answer 200.')
    ap.add_argument('--port', type=int, default=0, help='port to listen on (default: any free)')
    ap.add_argument('--tls', metavar='DIR', help='serve HTTPS with test certificates in DIR')
    ap.add_argument('--log', metavar='FILE', help='append JSON lines here (default: stdout)')
    args = ap.parse_args(argv)

    certs = None
    if args.tls:
        from certs import make_certs
        certs = make_certs(args.tls)
    out = open(args.log, 'a', encoding='utf-8') if args.log else sys.stdout
    lock = threading.Lock()

    def write(req):
        with lock:
            out.write(log_line(req) + '\n')
            out.flush()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    rx = Receiver(tls=certs, port=args.port, on_request=write)
    print(rx.url, flush=True)
    if certs:
        print(f'# trust {certs.ca_file}', file=sys.stderr, flush=True)
    while not done.wait(1.0):
        pass
    rx.stop()
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
