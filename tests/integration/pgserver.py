#!/usr/bin/env python3
"""pgserver.py — a throwaway PostgreSQL server for the tests of a shared state, and the paperwatch
instances that share it.

    from pgserver import PgServer, Instances
    with PgServer() as pg:                        # initdb, start; a database "paperwatch" waits
        pg.uri()        # 'postgresql:///paperwatch?host=/tmp/pw-pg-x/sock&port=N&user=paperwatch'
        pg.uri(pg.createdb('other'), password='pw')   # a fresh database, a URI with a password
        pg.sql('select 1')                        # ['1']: psql's rows, fields split by '|'
        pg.stop(); pg.start()                     # a database restart: same socket, same data
        with Instances(pg, notifiers, rules) as group:   # three `paperwatch run`, one state
            group.start()
            group.drop('a.md', {0: text, 1: text})       # the same digest in two inboxes at once

The server listens on a Unix socket only, in a folder of its own under /tmp (the socket path must
stay under the 108 bytes a sockaddr_un holds), with fsync off and little shared memory: initdb
--no-sync and a start take about a second. initdb refuses to run as root, so under root the
server runs as nobody (`runuser -u nobody --`). Leaving the `with` block stops the server (SIGINT,
its fast shutdown; SIGKILL if that hangs) and removes the folder, whether the test passed or
not; a guard process does the same if the test process itself is killed. Without the PostgreSQL
binaries (Debian: postgresql-15) a test using PgServer is skipped.

Standalone, for trying paperwatch on a database by hand (prints the URI, stops on Ctrl-C):

    python3 pgserver.py

or to run a program with PW_TEST_PG set to a fresh server's URI (tests/run.py runs the state's
unit tests on PostgreSQL so):

    python3 pgserver.py --run build/asan/tests/unit/test_state
"""
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import Skip, Daemon, tmpdir, write_config, wait_until, TIME_SCALE

USER = 'paperwatch'
# Who runs initdb and the server when the tests run as root.
RUN_AS = 'nobody'
# Where Debian puts each major version's server binaries; PG_BIN overrides.
BIN_GLOB = '/usr/lib/postgresql/*/bin'
# The longest a start or a fast shutdown may take before the test gives up on it.
START_SECONDS = 30.0
STOP_SECONDS = 15.0
# Settings appended to postgresql.conf: a private Unix socket, speed over durability.
SETTINGS = {
    'listen_addresses': "''",
    'fsync': 'off',
    'full_page_writes': 'off',
    'shared_buffers': "'16MB'",
    'max_connections': '60',
}
# The socket path limit of struct sockaddr_un, less its terminating NUL.
SUN_PATH_MAX = 107


def find_bindir():
    """The folder of initdb and postgres: PG_BIN, else Debian's newest, else along PATH."""
    candidates = [os.environ['PG_BIN']] if os.environ.get('PG_BIN') else []
    candidates += sorted(glob.glob(BIN_GLOB), key=lambda p: [int(x) for x in
                                                            re.findall(r'\d+', p)], reverse=True)
    if shutil.which('postgres'):
        candidates.append(os.path.dirname(os.path.realpath(shutil.which('postgres'))))
    for d in candidates:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ('initdb', 'postgres')):
            return d
    raise Skip('no PostgreSQL server binaries (initdb, postgres) in PG_BIN, '
               f'{BIN_GLOB} or PATH: install postgresql-15')


def free_port():
    """A TCP port number no one listens on now; the server only names its socket after it."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def clean_env():
    """The environment without PG* variables, which would steer psql and libpq elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('PG')}
    env['LC_ALL'] = 'C'
    return env


class PgServer:
    """One PostgreSQL server in a temporary folder, as a context manager (see the module doc)."""

    def __init__(self, bindir=None):
        self.bindir = bindir or find_bindir()
        self.psql = os.path.join(self.bindir, 'psql')
        if not os.access(self.psql, os.X_OK):
            self.psql = shutil.which('psql') or self.psql
        self.dir = self.data = self.sock = None
        self.port = self.pid = None
        self.proc = self._guard = self._log = None
        self.prefix = ['runuser', '-u', RUN_AS, '--'] if os.geteuid() == 0 else []

    # --- life cycle -------------------------------------------------------------------------

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix='pw-pg-', dir='/tmp')
        try:
            self._start_guard()
            self.data, self.sock = os.path.join(self.dir, 'data'), os.path.join(self.dir, 'sock')
            os.mkdir(self.sock)
            os.chmod(self.dir, 0o755)  # the daemons and psql, as root or not, reach the socket
            if self.prefix:
                who = pwd.getpwnam(RUN_AS)
                for p in (self.dir, self.sock):
                    os.chown(p, who.pw_uid, who.pw_gid)
            self.port = free_port()
            if len(f'{self.sock}/.s.PGSQL.{self.port}') > SUN_PATH_MAX:
                raise RuntimeError(f'socket path under {self.sock} too long for a Unix socket')
            self._initdb()
            self.start()
            self.createdb(USER)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if exc and exc[0] is not None and self.dir and not issubclass(exc[0], Skip):
            for line in self.log_text().splitlines()[-15:]:
                print(f'# postgres: {line}', flush=True)
        try:
            self.stop()
        finally:
            if self._log:
                self._log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            if self._guard:
                self._guard.stdin.close()  # nothing left for it to do: it exits
                self._guard.wait(STOP_SECONDS)

    def _start_guard(self):
        """A process that stops the server and removes the folder when this process dies
        without doing so (killed by a timeout, say): it waits for its stdin to close."""
        self._guard = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--guard',
                                        self.dir], stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)

    def _initdb(self):
        p = subprocess.run(self.prefix + [os.path.join(self.bindir, 'initdb'), '--no-sync',
                                          '-A', 'trust', '-U', USER, '-E', 'UTF8',
                                          '--locale=C', '-D', self.data],
                           capture_output=True, text=True, cwd=self.dir, env=clean_env(),
                           timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f'initdb failed ({p.returncode}): {p.stdout}{p.stderr}')
        settings = dict(SETTINGS, port=str(self.port), unix_socket_directories=f"'{self.sock}'")
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write(''.join(f'{k} = {v}\n' for k, v in settings.items()))

    def start(self):
        """Starts the server (again) on the same socket and data; returns once it accepts
        connections."""
        if self.running:
            return
        if self._log is None:
            self._log = open(os.path.join(self.dir, 'postgres.log'), 'ab')
        self.proc = subprocess.Popen(self.prefix + [os.path.join(self.bindir, 'postgres'),
                                                    '-D', self.data],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir, env=clean_env(),
                                     start_new_session=True)
        deadline = time.monotonic() + START_SECONDS * TIME_SCALE
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f'postgres exited at start:\n{self.log_text()[-2000:]}')
            pid = self._ready_pid()
            if pid:
                self.pid = pid
                return
            if time.monotonic() > deadline:
                self._kill()
                raise RuntimeError(f'postgres not ready after {START_SECONDS} s:\n'
                                   f'{self.log_text()[-2000:]}')
            time.sleep(0.02)

    def _ready_pid(self):
        """The postmaster's pid once postmaster.pid says it is ready for connections."""
        try:
            with open(os.path.join(self.data, 'postmaster.pid')) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        if len(lines) >= 8 and lines[7].strip() == 'ready' and os.path.exists(self.socket_file):
            return int(lines[0])
        return None

    def stop(self):
        """Takes the server away: a fast shutdown, which ends every client's session."""
        if not self.running:
            return
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill()
        self.proc = self.pid = None

    def _kill(self):
        """SIGKILL to the server's whole process group: the postmaster and its backends."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = self.pid = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --- using it ---------------------------------------------------------------------------

    @property
    def socket_file(self):
        return os.path.join(self.sock, f'.s.PGSQL.{self.port}')

    def uri(self, db=USER, password=None):
        """A libpq URI of database db; with a password, in the URI's user part."""
        if password is None:
            return f'postgresql:///{db}?host={self.sock}&port={self.port}&user={USER}'
        return f'postgresql://{USER}:{password}@/{db}?host={self.sock}&port={self.port}'

    def createdb(self, name):
        """Creates an empty database; returns its name."""
        self.sql(f'CREATE DATABASE "{name}"', db='postgres')
        return name

    def sql(self, query, db=USER):
        """Runs query with psql; returns its output rows (unaligned: fields split by '|')."""
        p = subprocess.run([self.psql, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', self.sock,
                            '-p', str(self.port), '-U', USER, '-d', db, '-c', query],
                           capture_output=True, text=True, env=clean_env(), timeout=60)
        if p.returncode != 0:
            raise AssertionError(f'psql {query!r} on {db}: {p.stderr.strip()}')
        return p.stdout.splitlines()

    def tables(self, db=USER):
        """The names of the tables in db outside PostgreSQL's own schemas."""
        return self.sql("SELECT tablename FROM pg_tables WHERE schemaname NOT IN "
                        "('pg_catalog', 'information_schema') ORDER BY 1", db=db)

    def log_text(self):
        try:
            with open(os.path.join(self.dir, 'postgres.log'), encoding='utf-8',
                      errors='replace') as f:
                return f.read()
        except (OSError, TypeError):
            return ''


# --- paperwatch instances sharing one server -----------------------------------------------------

class Instances:
    """n `paperwatch run` daemons on one database, as on n machines: each has its own folder,
    inbox and configuration file; all name the same state, notifiers and rules."""

    def __init__(self, pg, notifiers, rules, n=3, db=USER, verbose=True, **settings):
        self.pg, self.db = pg, db
        self.base = tmpdir()
        self.staging = os.path.join(self.base, 'staging')
        os.mkdir(self.staging)
        self.daemons, self.inboxes, self.confs = [], [], []
        for i in range(n):
            d = os.path.join(self.base, f'i{i}')
            inbox = os.path.join(d, 'inbox')
            os.makedirs(inbox)
            self.confs.append(write_config(os.path.join(d, 'pw.conf'), notifiers, rules,
                                           state=pg.uri(db), watch={'dir': inbox}, **settings))
            self.inboxes.append(inbox)
            self.daemons.append(Daemon(self.confs[-1], d, verbose=verbose))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for d in self.daemons:
            if d.proc is not None and d.proc.poll() is None:
                os.kill(d.proc.pid, signal.SIGCONT)  # a test that failed while one was frozen
            d.__exit__()

    def __getitem__(self, i):
        return self.daemons[i]

    def start(self, which=None, timeout=30.0):
        """Starts the daemons (all, or those numbered in which) at once and waits until each is
        ready; the first start also checks the state really lives in the database."""
        which = range(len(self.daemons)) if which is None else which
        for i in which:
            self.daemons[i].start(ready=False)
        for i in which:
            self.daemons[i].wait_note('READY=1', timeout)
        if not self.pg.tables(self.db):
            raise AssertionError(f'paperwatch started on {self.pg.uri(self.db)} but created no '
                                 'table there: does this build know PostgreSQL states?')
        return self

    def restart(self, i, timeout=30.0):
        """SIGKILL daemon i and start it again."""
        self.daemons[i].kill()
        self.daemons[i].start(timeout=timeout)

    def drop(self, name, texts):
        """Puts digests named name into inboxes at about the same moment: texts maps an
        instance's number to its digest's text. Each is written beside its inbox's files first,
        then all are renamed in, one after the other."""
        for i, text in texts.items():
            with open(os.path.join(self.inboxes[i], f'.{name}.tmp'), 'w', encoding='utf-8') as f:
                f.write(text)
        for i in texts:
            os.rename(os.path.join(self.inboxes[i], f'.{name}.tmp'),
                      os.path.join(self.inboxes[i], name))

    def dead(self):
        """The numbers of the daemons whose process has exited."""
        return [i for i, d in enumerate(self.daemons) if d.proc.poll() is not None]

    def assert_alive(self):
        """Fails, with its log, for any daemon that exited."""
        dead = self.dead()
        assert not dead, '; '.join(f'instance {i} exited with {self.daemons[i].proc.returncode}:'
                                   f'\n{self.daemons[i].log_text()[-3000:]}' for i in dead)

    def connected_to(self, port):
        """The numbers of the daemons that hold an established TCP connection to port on the
        loopback: with one request in flight, which instance sends it."""
        inodes = set()
        for table in ('/proc/net/tcp', '/proc/net/tcp6'):
            try:
                with open(table) as f:
                    rows = f.read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if fields[3] == '01' and int(fields[2].rsplit(':', 1)[1], 16) == port:
                    inodes.add(fields[9])
        found = []
        for i, d in enumerate(self.daemons):
            fd_dir = f'/proc/{d.proc.pid}/fd'
            try:
                links = {os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)}
            except OSError:
                continue
            if any(f'socket:[{inode}]' in links for inode in inodes):
                found.append(i)
        return found

    def sender(self, port, timeout=5.0):
        """The one daemon connected to port (see connected_to), waited for."""
        found = wait_until(lambda: self.connected_to(port), timeout,
                           f'a daemon connected to port {port}')
        assert len(found) == 1, f'instances {found} are all connected to port {port}'
        return found[0]


def guard(directory):
    """Waits for stdin to close, then stops a server still running in directory and removes
    it: what PgServer.__exit__ would have done had its process lived."""
    sys.stdin.buffer.read()
    if not os.path.isdir(directory):
        return 0
    try:
        with open(os.path.join(directory, 'data', 'postmaster.pid')) as f:
            pid = int(f.readline())
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            ours = b'postgres' in f.read()
    except (OSError, ValueError):
        ours = False
    if ours:
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + STOP_SECONDS
        while os.path.exists(f'/proc/{pid}') and time.monotonic() < deadline:
            time.sleep(0.1)
        if os.path.exists(f'/proc/{pid}'):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)
    return 0


def run_with_server(argv):
    """Runs argv with PW_TEST_PG naming a fresh server (a URI without a database, for the unit
    tests to make their own); its exit status, or Skip's TAP line without the binaries."""
    try:
        with PgServer() as pg:
            env = dict(os.environ, PW_TEST_PG=pg.uri(db=''))
            return subprocess.run(argv, env=env).returncode
    except Skip as e:
        print(f'1..1\nok 1 # SKIP {e}')
        return 0


def main():
    if sys.argv[1:2] == ['--guard']:
        return guard(sys.argv[2])
    if sys.argv[1:2] == ['--run']:
        return run_with_server(sys.argv[2:])
    # Ctrl-C or SIGTERM ends the wait below, not the program: the server is stopped first.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    with PgServer() as pg:
        print(pg.uri(), flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == '__main__':
    sys.exit(main())
