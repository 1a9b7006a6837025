"""smtp.py — a real SMTP server on 127.0.0.1 (aiosmtpd in a background thread) that records every
connection, reply and message, and fails on cue, for testing an SMTP client such as libcurl end to
end.

    from smtp import SmtpServer
    with SmtpServer(mode='starttls', certs=make_certs(d), auth=('alerts', 's3cret')) as mx:
        mx.url                             # 'smtp://127.0.0.1:40321' ('smtps://' in smtps mode)
        mx.fail('rcpt', code=451, times=2) # the next two RCPTs get 451, then all is normal again
        ... the daemon sends ...
        m = mx.wait_for(1)[0]
        m.mail_from, m.rcpt_tos, m.raw     # envelope and bytes as received
        m.message['Subject']               # email.message.EmailMessage (email.policy.default):
        m.text, m.html                     #   RFC 2047 words decoded; the text/plain and text/html
                                           #   bodies of a multipart/alternative, or None
        m.connection.tls, m.connection.authenticated_as
        len(mx.replies('rcpt', 451))       # every reply of every connection is recorded
        mx.wait_until(lambda s: len(s.connections) >= 3)   # any condition, re-checked on each event

Modes:
    'plain'     no TLS at all; EHLO offers no STARTTLS (nor AUTH, which needs TLS). This is also
                the server that does not offer STARTTLS, which a client demanding TLS must refuse.
    'starttls'  STARTTLS offered; with require_starttls=True, MAIL before upgrading gets 530.
    'smtps'     implicit TLS: the handshake comes first, the greeting after it.

With `auth=(user, password)`, AUTH PLAIN and LOGIN are offered once the connection is encrypted,
MAIL is refused (530) until the client has authenticated, and wrong credentials get 535. Without
`auth`, AUTH is neither offered nor required. `cert='wrong'` presents the self-signed certificate
the test CA never signed, to prove a client refuses it.

Scripted failures, each for `times` occurrences then normal again; several calls for one stage
queue up in order:

    fail('greeting')          421 instead of the 220 greeting, then the server closes
    fail('mail')              451 to MAIL FROM
    fail('rcpt')              451 to RCPT TO; fail('rcpt', code=550) for a permanent refusal
    fail('data')              552 after the message data, which is then not delivered
    fail('auth')              535 even to the right credentials

`connections` lists every connection the server accepted, refused ones too, with its TLS state,
EHLO name, AUTH attempts and every reply as SmtpReply(command, code, text): the command is the verb
it answered ('EHLO', 'RCPT', ...), 'GREETING' for the banner, or None for a refusal the server
makes before dispatching a command (530 when STARTTLS is required, 500 for an unknown verb). A
client that refuses the certificate after STARTTLS leaves `handshake_failed` set; over implicit
TLS it leaves a connection with no replies at all. `messages` holds the accepted messages only;
retries show in the connections and replies. A message is recorded just before its 250 is sent.

stop() aborts every open connection and returns at once; start() listens again on the same port.
"""
import asyncio
import collections
import email
import email.message
import email.policy
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, TLSSetupException

HOST = '127.0.0.1'
SERVER_NAME = 'localhost'
MODES = ('plain', 'starttls', 'smtps')
# The code each stage fails with unless told otherwise.
STAGE_CODES = {'greeting': 421, 'mail': 451, 'rcpt': 451, 'data': 552, 'auth': 535}
REPLY_TEXTS = {
    421: '4.3.2 Service not available, closing transmission channel',
    450: '4.2.0 Mailbox temporarily unavailable',
    451: '4.3.0 Requested action aborted: local error in processing',
    452: '4.3.1 Insufficient system storage',
    535: '5.7.8 Authentication credentials invalid',
    550: '5.1.1 Requested action not taken: mailbox unavailable',
    552: '5.3.4 Requested mail action aborted: exceeded storage allocation',
    554: '5.0.0 Transaction failed',
}
# Bounds stop(): how long the server's thread may take to close its connections.
STOP_SECONDS = 5.0

# aiosmtpd 1.4.3 sets its own deprecated Session.login_data on every successful AUTH, and so logs
# a warning about itself each time; only that message is dropped, its other logging is left alone.
_SELF_DEPRECATION = 'Session.login_data is deprecated'
logging.getLogger('mail.log').addFilter(
    lambda record: not str(record.msg).startswith(_SELF_DEPRECATION))


@dataclass
class SmtpReply:
    """One reply the server sent; a multi-line reply is one SmtpReply, lines joined by '\\n'."""
    command: Optional[str]
    code: int
    text: str


@dataclass
class SmtpConnection:
    """One client connection, from the greeting to the close."""
    number: int                       # 1 for the server's first connection, 2 for the next...
    opened: float                     # time.monotonic()
    tls: str                          # 'none', 'starttls' once upgraded, or 'implicit'
    helo: Optional[str] = None        # the name the client gave in EHLO or HELO
    handshake_failed: bool = False    # a STARTTLS handshake failed (e.g. the client refused)
    auth: list = field(default_factory=list)      # (mechanism, username, succeeded) per AUTH
    replies: List[SmtpReply] = field(default_factory=list)
    closed: Optional[float] = None

    @property
    def authenticated_as(self):
        """The user the client authenticated as, or None."""
        return next((user for _, user, ok in self.auth if ok), None)


@dataclass
class Message:
    """One accepted message."""
    mail_from: str
    rcpt_tos: List[str]
    raw: bytes                        # the data as received, dot-stuffing undone, CRLF kept
    message: email.message.EmailMessage
    connection: SmtpConnection
    received: float                   # time.monotonic() when the data was complete

    @property
    def subject(self):
        return str(self.message['Subject']) if self.message['Subject'] is not None else None

    @property
    def text(self):
        """The text/plain body (of a multipart/alternative too) with '\\n' line ends, or None."""
        return _body_of(self.message, 'plain')

    @property
    def html(self):
        """The text/html body with '\\n' line ends, or None."""
        return _body_of(self.message, 'html')


class SmtpServer:
    """The scriptable recording SMTP server; see the module doc for the whole picture."""

    def __init__(self, mode='plain', certs=None, cert='good', require_starttls=False, auth=None,
                 port=0):
        """Starts serving at once; `certs` (a certs.Certs) is needed for 'starttls' and 'smtps'."""
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, not {mode!r}')
        if mode != 'plain' and certs is None:
            raise ValueError(f'mode {mode!r} needs certs')
        if require_starttls and mode != 'starttls':
            raise ValueError('require_starttls needs mode starttls')
        self.mode = mode
        self.require_starttls = require_starttls
        self.credentials = auth
        self._ssl = certs.server_context(cert) if certs is not None else None
        self._cond = threading.Condition(threading.RLock())
        self._connections = []
        self._messages = []
        self._failures = collections.defaultdict(collections.deque)
        self._controller = None
        self.port = port
        self.start()

    # --- life cycle -------------------------------------------------------------------------

    @property
    def url(self):
        scheme = 'smtps' if self.mode == 'smtps' else 'smtp'
        return f'{scheme}://{HOST}:{self.port}'

    @property
    def host(self):
        return HOST

    def start(self):
        """Listens (again) on the server's port; the first start picks an ephemeral one."""
        if self._controller is not None:
            return
        ctl = _Controller(self)
        ctl.start()
        ctl.serving = True
        self.port = ctl.port
        self._controller = ctl

    def stop(self):
        """Stops listening and aborts every open connection. Records are kept."""
        ctl, self._controller = self._controller, None
        if ctl is None:
            return
        closing = asyncio.run_coroutine_threadsafe(ctl.close_sessions(), ctl.loop)
        try:
            closing.result(STOP_SECONDS)
        except Exception:
            pass  # whatever is left, the loop's own stop below cancels
        ctl.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- scripting --------------------------------------------------------------------------

    def fail(self, stage, code=None, times=1, text=None):
        """Answers the next `times` occurrences of `stage` ('greeting', 'mail', 'rcpt', 'data',
        'auth') with `code` (default: the stage's usual temporary failure) and `text`."""
        if stage not in STAGE_CODES:
            raise ValueError(f'stage must be one of {sorted(STAGE_CODES)}, not {stage!r}')
        code = code or STAGE_CODES[stage]
        reply = f'{code} {text or REPLY_TEXTS.get(code, "Scripted failure")}'
        with self._cond:
            self._failures[stage].append([reply, times])

    def pending_failures(self, stage):
        """How many scripted failures of `stage` are still to come."""
        with self._cond:
            return sum(n for _, n in self._failures[stage])

    # --- what arrived -----------------------------------------------------------------------

    @property
    def messages(self):
        """A snapshot of the accepted messages, oldest first."""
        with self._cond:
            return list(self._messages)

    @property
    def connections(self):
        """A snapshot of every connection so far, oldest first."""
        with self._cond:
            return list(self._connections)

    def replies(self, command=None, code=None):
        """Every reply of every connection, in order, optionally only those answering `command`
        (case-insensitive; 'greeting' for the banner) or with status `code`."""
        command = command.upper() if command else None
        with self._cond:
            return [r for c in self._connections for r in c.replies
                    if (command is None or r.command == command)
                    and (code is None or r.code == code)]

    def wait_for(self, n, timeout=10.0):
        """Blocks until `n` messages have been accepted; returns the first `n`."""
        self.wait_until(lambda s: len(s._messages) >= n, timeout,
                        lambda: f'{len(self._messages)} of {n} messages arrived')
        with self._cond:
            return self._messages[:n]

    def wait_until(self, predicate, timeout=10.0, describe=None):
        """Blocks until predicate(server) is true, re-checked whenever something is recorded, e.g.
        `mx.wait_until(lambda s: len(s.replies('rcpt', 451)) >= 2)`. Raises TimeoutError."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout):
                what = describe() if describe else 'condition not met'
                raise TimeoutError(f'{what} within {timeout} s at {self.url}')

    # --- called from the server's thread ----------------------------------------------------

    def _open_connection(self, tls):
        with self._cond:
            conn = SmtpConnection(len(self._connections) + 1, time.monotonic(), tls)
            self._connections.append(conn)
            self._cond.notify_all()
            return conn

    def _update(self, fn):
        """Applies fn() to the records under the lock and wakes waiters."""
        with self._cond:
            fn()
            self._cond.notify_all()

    def _take_failure(self, stage):
        """The reply of the next scripted failure of `stage`, or None; consumes one occurrence."""
        with self._cond:
            queue = self._failures[stage]
            if not queue:
                return None
            reply = queue[0][0]
            queue[0][1] -= 1
            if queue[0][1] <= 0:
                queue.popleft()
            return reply

    def _accept(self, envelope, conn):
        """Records an accepted message, parsed for the tests."""
        raw = bytes(envelope.original_content)
        msg = Message(envelope.mail_from, list(envelope.rcpt_tos), raw,
                      email.message_from_bytes(raw, policy=email.policy.default), conn,
                      time.monotonic())
        self._update(lambda: self._messages.append(msg))


class _Controller(Controller):
    """aiosmtpd's threaded Controller, made to listen on an ephemeral port and to build
    recording sessions; it also keeps the live sessions so stop() can abort them."""

    def __init__(self, owner: SmtpServer):
        implicit = owner.mode == 'smtps'
        super().__init__(
            _Handler(owner), hostname=HOST, port=owner.port,
            ssl_context=owner._ssl if implicit else None,
            # The greeting names localhost: without a name aiosmtpd asks DNS for ours.
            server_hostname=SERVER_NAME, ident='paperwatch test SMTP',
            tls_context=owner._ssl if owner.mode == 'starttls' else None,
            require_starttls=owner.require_starttls,
            # aiosmtpd counts only STARTTLS as encryption, so over implicit TLS it would never
            # allow AUTH; the connection is encrypted from the first byte, so don't ask for more.
            auth_require_tls=not implicit,
            authenticator=self._authenticate,
            # Time for start()'s probe connection on a machine busy with other tests.
            ready_timeout=10.0)
        self.owner = owner
        self.serving = False  # False during start(), whose own probe connection isn't recorded
        self.sessions = set()

    def factory(self):
        return _Session(self, self.handler, loop=self.loop, **self.SMTP_kwargs)

    def _trigger_server(self):
        # Port 0 asked for any free port; learn which before start() connects to it.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    async def close_sessions(self):
        """Stops accepting, aborts every connection and waits for the sessions to end."""
        self.server.close()
        tasks = []
        for session in list(self.sessions):
            session.abort()
            if session._handler_coroutine is not None:
                session._handler_coroutine.cancel()
                tasks.append(session._handler_coroutine)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.server.wait_closed()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        """Checks AUTH PLAIN and LOGIN credentials, after any scripted failure."""
        user = auth_data.login.decode('utf-8', 'replace')
        failure = self.owner._take_failure('auth') if server.recording else None
        expected = self.owner.credentials
        ok = (failure is None and expected is not None
              and (auth_data.login, auth_data.password)
              == (expected[0].encode(), expected[1].encode()))
        self.owner._update(lambda: server.record.auth.append((mechanism, user, ok)))
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False, message=failure)


class _Session(SMTP):
    """One connection: aiosmtpd's SMTP protocol, recording each reply with the command it answers
    and failing the greeting when scripted to."""

    # aiosmtpd's defaults end in a NUL byte; these are the challenges servers usually send.
    AuthLoginUsernameChallenge = 'Username:'
    AuthLoginPasswordChallenge = 'Password:'

    def __init__(self, controller, handler, **kwargs):
        super().__init__(handler, **kwargs)
        self.controller = controller
        self.owner = controller.owner
        self.recording = controller.serving
        # Recorded when accepted, before any TLS handshake, so a client that gives up during
        # the implicit-TLS handshake still shows as a connection (with no replies).
        tls = 'implicit' if self.owner.mode == 'smtps' else 'none'
        self.record = (self.owner._open_connection(tls) if self.recording
                       else SmtpConnection(0, time.monotonic(), tls))
        self._command = 'GREETING'
        self._reply_lines = []
        self._raw_transport = None
        # Wrap every command so a reply knows which command it answers; wraps keeps the HELP
        # text aiosmtpd hangs on the methods.
        self._smtp_methods = {verb: self._tracked(verb, method)
                              for verb, method in self._smtp_methods.items()}

    def _tracked(self, verb, method):
        @functools.wraps(method)
        async def run(arg):
            self._command = verb
            try:
                return await method(arg)
            finally:
                self._command = None
        return run

    def connection_made(self, transport):
        if self._raw_transport is None:  # not the second call, after STARTTLS
            self._raw_transport = transport
            self.controller.sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error):
        self.controller.sessions.discard(self)
        self._note(lambda: setattr(self.record, 'closed', time.monotonic()))
        super().connection_lost(error)

    async def handle_exception(self, error):
        # A client refusing the certificate after STARTTLS is an outcome tests look for, not a
        # server error worth a traceback; anything else is still logged by aiosmtpd.
        if isinstance(error, TLSSetupException):
            self._note(lambda: setattr(self.record, 'handshake_failed', True))
            return '454 4.7.0 TLS handshake failed'
        return await super().handle_exception(error)

    def abort(self):
        if self._raw_transport is not None:
            self._raw_transport.abort()

    async def _handle_client(self):
        # aiosmtpd has no hook before the greeting, so a refused greeting is sent from here.
        failure = self.owner._take_failure('greeting') if self.recording else None
        if failure is None:
            return await super()._handle_client()
        await self.push(failure)
        self.transport.close()

    async def push(self, status):
        line = status.decode('latin-1') if isinstance(status, bytes) else status
        self._reply_lines.append(line)
        if len(line) < 4 or line[3] != '-':  # the last line of a reply
            text = '\n'.join(x[4:] for x in self._reply_lines)
            code = int(line[:3]) if line[:3].isdigit() else 0
            reply = SmtpReply(self._command, code, text)
            self._reply_lines = []
            self._note(lambda: self.record.replies.append(reply))
            if self._command == 'GREETING':
                self._command = None
        await super().push(status)

    def _note(self, fn):
        """Records through the owner (waking waiters) unless this is start()'s probe."""
        if self.recording:
            self.owner._update(fn)
        else:
            fn()


class _Handler:
    """aiosmtpd hooks: what EHLO offers, authentication before MAIL, scripted refusals of MAIL,
    RCPT and DATA, and the recording of accepted messages."""

    def __init__(self, owner: SmtpServer):
        self.owner = owner

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # With this (five-argument) hook aiosmtpd leaves remembering the name to us.
        session.host_name = hostname
        server._note(lambda: setattr(server.record, 'helo', hostname))
        if self.owner.credentials is None:
            responses = [r for r in responses if not r[4:].startswith('AUTH')]
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        server._note(lambda: setattr(server.record, 'helo', hostname))
        return f'250 {SERVER_NAME}'

    def handle_STARTTLS(self, server, session, envelope):
        server._note(lambda: setattr(server.record, 'tls', 'starttls'))
        return True  # the handshake succeeded: accept commands over it

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.owner.credentials is not None and not session.authenticated:
            return '530 5.7.0 Authentication required'
        failure = self._failure(server, 'mail')
        if failure:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return '250 OK'

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        failure = self._failure(server, 'rcpt')
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        failure = self._failure(server, 'data')
        if failure:
            return failure
        if server.recording:
            self.owner._accept(envelope, server.record)
        return '250 OK'

    def _failure(self, server, stage):
        return self.owner._take_failure(stage) if server.recording else None


def _body_of(message, subtype):
    """The decoded text of the message's text/`subtype` body, lines ending in '\\n' as Python
    text does (on the wire they end in CRLF, which the email package keeps)."""
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content().replace('\r\n', '\n') if part is not None else None
