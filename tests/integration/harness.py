"""harness.py — the integration tests' small framework: `@test` functions, TAP output, and helpers
that run the real paperwatch binary.
"""
import calendar
import collections
import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get('PAPERWATCH', os.path.join(ROOT, 'paperwatch'))
FIXTURES = os.environ.get('FIXTURES', os.path.join(ROOT, 'tests', 'fixtures'))
DIGESTS = os.path.join(FIXTURES, 'digests')
# `make valgrind` runs paperwatch under a prefix (valgrind and its options) and, the program being
# far slower there, stretches every wait by a factor.
WRAPPER = shlex.split(os.environ.get('PAPERWATCH_WRAPPER', ''))
TIME_SCALE = float(os.environ.get('PAPERWATCH_TIME_SCALE', '1'))

_tests = []

# Where the whole suite's command output and daemon logs are collected, so that a last check can
# search all of it for secrets (tests/run.py sets it; a test run alone collects nothing).
SUITE_LOG = os.environ.get('PW_SUITE_LOG')


def register_secret(*values):
    """Declares secrets a test configures: no output of the suite may ever contain them."""
    if SUITE_LOG:
        with open(os.path.join(SUITE_LOG, 'secrets.txt'), 'a', encoding='utf-8') as f:
            for v in values:
                f.write(v + '\n')


def _collect(name, data):
    if SUITE_LOG and data:
        with open(os.path.join(SUITE_LOG, name), 'ab') as f:
            f.write(data if isinstance(data, bytes) else data.encode('utf-8', 'replace'))


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why (TAP "# SKIP")."""


@contextlib.contextmanager
def small_fs(path, size):
    """A tmpfs of size at path, unmounted afterwards; skips the test where mounting is denied."""
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0777', 'tmpfs', path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Skip(f'cannot mount a tmpfs here ({p.stderr.strip()}): needs root and '
                   'CAP_SYS_ADMIN')
    try:
        yield path
    finally:
        subprocess.run(['umount', '-l', path], capture_output=True)


def fill(folder):
    """Writes a file into folder until its filesystem is full; returns the file's path."""
    path = os.path.join(folder, 'filler')
    with open(path, 'wb') as f:
        try:
            while True:
                f.write(b'\0' * 65536)
                f.flush()
        except OSError:
            pass
    return path


def test(fn):
    """Registers a test; its name says the behaviour it pins."""
    _tests.append(fn)
    return fn


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


def digests():
    """The five sample digests, in name order."""
    return sorted(os.path.join(DIGESTS, f) for f in os.listdir(DIGESTS) if f.endswith('.txt'))


def records_digest(ids):
    """A Title/PDF/Summary digest of generated papers: paper i is arXiv 2502.0000i, its title
    "Paper number i"."""
    return ''.join(f'Title: Paper number {i}\nPDF: https://arxiv.org/pdf/2502.{i:05d}\n'
                   f'Summary: A summary of paper {i}.\n---\n' for i in ids)


def webhook_alerts(receiver):
    """What a webhook receiver got, as alerts: (paper, rule, request path) -> the set of
    webhook-ids that carried it, and -> how many complete requests did."""
    seen, count = collections.defaultdict(set), collections.Counter()
    for q in receiver.requests:
        if not q.complete:
            continue
        for p in q.json()['papers']:
            for rule in p['rules']:
                key = (p['id'], rule, q.path)
                seen[key].add(q.headers['webhook-id'])
                count[key] += 1
    return seen, count


def pw(*args, input=None, timeout=60, env=None, cwd=None):
    """Runs paperwatch with args; returns the CompletedProcess (stdout and stderr as bytes). The
    time a test gives it (`--wait`) stretches by TIME_SCALE like the test's own timeouts."""
    args = list(args)
    for i, a in enumerate(args[:-1]):
        m = re.fullmatch(r'([0-9.]+)([a-z]*)', args[i + 1]) if a == '--wait' else None
        if m:
            args[i + 1] = f'{float(m.group(1)) * TIME_SCALE:g}{m.group(2)}'
    p = subprocess.run(WRAPPER + [BINARY, *args], input=input, capture_output=True,
                       timeout=timeout * TIME_SCALE, env=env, cwd=cwd)
    _collect('commands.log', p.stdout + p.stderr)
    return p


def text(b):
    return b.decode('utf-8')


def tmpdir():
    return tempfile.mkdtemp(prefix='pw-it-')


def conf_value(v):
    """A Python value in libconfig syntax."""
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if isinstance(v, list):
        return '[' + ', '.join(conf_value(x) for x in v) + ']'
    if isinstance(v, dict):
        return '{ ' + ' '.join(f'{k} = {conf_value(x)};' for k, x in v.items()) + ' }'
    raise TypeError(v)


def write_config(path, notifiers=(), rules=(), **groups):
    """Writes a configuration file: notifiers and rules as lists of dicts, anything else
    (state, watch, delivery) as a top-level setting. Returns the path."""
    lines = [f'{k} = {conf_value(v)};' for k, v in groups.items()]
    lines.append('notifiers = (' + ',\n  '.join(conf_value(n) for n in notifiers) + ');')
    lines.append('rules = (' + ',\n  '.join(conf_value(r) for r in rules) + ');')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def read_jsonl(path):
    """The JSON lines of a file (the file channel's output) written whole so far: a line the
    daemon is still writing is left for the next look. [] when the file does not exist yet."""
    try:
        with open(path, encoding='utf-8') as f:
            data = f.read()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in data.split('\n')[:-1] if line.strip()]


def wait_until(predicate, timeout=20.0, what='the condition'):
    """Polls predicate until it holds; raises naming what was awaited."""
    timeout *= TIME_SCALE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


# Debian's libfaketime, which moves a process's wall clock for the tests of schedules and health.
FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'


def utc(stamp):
    """Epoch seconds of 'YYYY-MM-DD HH:MM:SS' in UTC."""
    return calendar.timegm(time.strptime(stamp, '%Y-%m-%d %H:%M:%S'))


class Clock:
    """A fake wall clock for the daemons of one test: it reads `start` (UTC) when the test
    begins and runs on at the real pace through every restart, as a real clock would."""

    def __init__(self, start):
        if not os.path.exists(FAKETIME_LIB):
            raise Skip(f'no {FAKETIME_LIB} (Debian package faketime)')
        self.offset = utc(start) - time.time()

    def now(self):
        return time.time() + self.offset

    def env(self):
        # Files keep their real times: a digest is not touched by a restart at a later hour.
        return {'LD_PRELOAD': FAKETIME_LIB, 'FAKETIME': f'{self.offset:+.3f}',
                'FAKETIME_DONT_FAKE_MONOTONIC': '1', 'NO_FAKE_STAT': '1', 'TZ': 'UTC'}

    def jump(self, stamp):
        """Moves the clock on to stamp (UTC), for the daemon started next: time that passed
        while it was down."""
        self.offset = utc(stamp) - time.time()

    def wait_until(self, stamp):
        """Sleeps, in real time, until the fake clock reads stamp."""
        left = utc(stamp) - self.now()
        if left > 0:
            time.sleep(left)


class Daemon:
    """`paperwatch run` as systemd would run it: a NOTIFY_SOCKET bound by the test records every
    sd_notify datagram, so readiness is READY=1 (sent after the start-up scan), not a guess."""

    def __init__(self, conf, directory, watchdog_usec=None, verbose=True, env=None, prefix=()):
        self.conf, self.dir, self.prefix = conf, directory, list(prefix)
        self.watchdog_usec, self.verbose, self.extra_env = watchdog_usec, verbose, env or {}
        self.proc = None
        self.notes = []  # (monotonic time, datagram text)
        self.log_path = os.path.join(directory, 'daemon.log')
        self._collected = 0  # bytes of the log already handed to the suite log

    def start(self, ready=True, timeout=20.0):
        sock_path = os.path.join(self.dir, f'notify-{time.monotonic_ns()}.sock')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(sock_path)
        os.chmod(sock_path, 0o777)  # a daemon run as another user must still be heard
        self.notes = []
        self._reader = threading.Thread(target=self._read_notes, daemon=True)
        self._reader.start()
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, **self.extra_env)
        if self.watchdog_usec:
            env['WATCHDOG_USEC'] = str(self.watchdog_usec)
        args = self.prefix + WRAPPER + [BINARY, 'run', '-c', self.conf] + (['-v'] if self.verbose else [])
        self.log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=env,
                                     cwd=self.dir)
        if ready:
            self.wait_note('READY=1', timeout)
        return self

    def _read_notes(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            self.notes.append((time.monotonic(), data.decode('utf-8', 'replace')))

    def wait_note(self, piece, timeout=20.0, after=0):
        """Waits for a datagram containing piece, among those from index after on."""
        def found():
            if self.proc.poll() is not None:
                raise AssertionError(f'paperwatch exited with {self.proc.returncode}:\n'
                                     + self.log_text())
            return any(piece in n for _, n in self.notes[after:])
        try:
            wait_until(found, timeout, f'"{piece}" from sd_notify')
        except AssertionError as e:
            raise AssertionError(f'{e}; heard {[n[:60] for _, n in self.notes]}; the daemon '
                                 f'is in {self._where()}; its log:\n{self.log_text()}') from None

    def _where(self):
        """What the daemon's process is doing, for a test that waited for it in vain."""
        try:
            with open(f'/proc/{self.proc.pid}/syscall') as f:
                call = f.read().split()[0]
            with open(f'/proc/{self.proc.pid}/wchan') as f:
                return f'system call {call}, waiting in {f.read() or "-"}'
        except (OSError, IndexError):
            return 'a state /proc does not show'

    def log_text(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout * TIME_SCALE)
        finally:
            self._close()
        return status

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self._close()

    def _close(self):
        self.log.close()
        self.sock.close()
        with open(self.log_path, 'rb') as f:
            f.seek(self._collected)
            new = f.read()
        self._collected += len(new)
        _collect('daemons.log', new)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def run():
    """Runs every registered test in order and prints TAP; with arguments, only the tests whose
    names contain one of them (`python3 tests/integration/test_daemon.py reload`)."""
    tests = [fn for fn in _tests if not sys.argv[1:] or any(a in fn.__name__ for a in sys.argv[1:])]
    print(f'1..{len(tests)}', flush=True)
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            fn()
            print(f'ok {i} - {fn.__name__}', flush=True)
        except Skip as why:
            print(f'ok {i} - {fn.__name__} # SKIP {why}', flush=True)
        except Exception:
            failed += 1
            print(f'not ok {i} - {fn.__name__}', flush=True)
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
    sys.exit(1 if failed else 0)
