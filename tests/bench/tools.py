"""tools.py — the three tools the benchmark compares, started and stopped alike, and what /proc
says about the processes each one runs.

    paperwatch   `paperwatch run` with its webhook notifier (or a file notifier), its state in an
                 SQLite file on the same local disk as the folder (harness.Daemon: ready at
                 READY=1)
    shell        baselines/watch.sh: bash, inotifywait, grep and curl (ready when inotifywait
                 says "Watches established.")
    python       baselines/watch.py on Debian's python3 with python3-watchdog (ready when it
                 says "watching")

Each tool gets its own folder, a staging folder beside it on the same filesystem (a digest is
written there, then renamed into the folder), and its own path on the shared receiver.

A tool's processes are its first process and every descendant alive at the moment asked (found
through the parent pids in /proc). What they cost is read from /proc/PID/stat,
/proc/PID/status and /proc/PID/smaps_rollup; see cpu_ticks(), rss_kib(), pss_kib() and
switches(). CurlFloor, beside them, is no tool: the memory of a program that only starts libcurl.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))

from harness import BINARY, Daemon, write_config  # noqa: E402

PYTHON = '/usr/bin/python3'  # Debian's, which has python3-watchdog
TICK = os.sysconf('SC_CLK_TCK')
# Tools started and not yet stopped: stop_all() ends them when a benchmark fails midway, so no
# daemon outlives the run that started it.
LIVE = []


def stop_all():
    for tool in list(LIVE):
        tool.stop()


# --- /proc ------------------------------------------------------------------------------------

def _stat(pid):
    """Fields 3 onwards of /proc/PID/stat (state, ppid, ...), or None for a process gone. The
    command name, field 2, may hold spaces and parentheses: everything after the last ')'."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def _status(pid, keys):
    """The kB (or count) values of the given /proc/PID/status lines; {} for a process gone."""
    out = {}
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                k, _, v = line.partition(':')
                if k in keys:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


class ProcTree:
    """Finds a process's descendants. The kernel here offers no /proc/PID/task/TID/children, so
    the parent of every process is read from /proc; a pid's parent is read once and kept (with
    its start time, so a reused pid is noticed), which makes a rescan cheap enough to run every
    few milliseconds."""

    def __init__(self, root):
        self.root = root
        self.parent = {}  # pid -> (ppid, start time)

    def pids(self):
        live = set()
        for name in os.listdir('/proc'):
            if name.isdigit():
                live.add(int(name))
        for p in list(self.parent):
            if p not in live:
                del self.parent[p]
        for p in live - self.parent.keys():
            self._learn(p)
        while True:
            tree = self._tree(live)
            # A pid of the tree that was reused since it was learnt has another start time:
            # learn it again and rebuild. Rare, but thousands of greps and curls wrap pids.
            stale = [p for p in tree if self._learn(p)]
            if not stale:
                return sorted(tree)

    def _learn(self, pid):
        """Reads a pid's parent and start time; True when they differ from what was known."""
        st = _stat(pid)
        now = (int(st[1]), st[19]) if st else (0, '')
        changed = self.parent.get(pid, now) != now
        self.parent[pid] = now
        return changed

    def _tree(self, live):
        children = {}
        for p in live:
            children.setdefault(self.parent.get(p, (0,))[0], []).append(p)
        tree, frontier = set(), [self.root] if self.root in live else []
        while frontier:
            p = frontier.pop()
            tree.add(p)
            frontier.extend(children.get(p, ()))
        return tree


def cpu_ticks(pids):
    """utime + stime + cutime + cstime of the processes, in clock ticks: their own CPU time and
    that of every child they have waited for (which counts its own waited-for children), so a
    finished grep or curl is counted once, in the process that reaped it. Read at moments when
    no child is between exiting and being reaped, the sum over a tool's live processes is all
    the CPU its whole tree has used since it started."""
    total = 0
    for pid in pids:
        st = _stat(pid)
        if st is not None:
            total += sum(int(x) for x in st[11:15])
    return total


def rss_kib(pids):
    """The sum of VmRSS over the processes (pages shared between them counted in each)."""
    return sum(_status(p, ('VmRSS',)).get('VmRSS', 0) for p in pids)


def anon_kib(pids):
    """The sum of RssAnon: the resident pages that are the processes' own (heap, stacks), not
    the shared libraries' and files' pages that VmRSS also counts."""
    return sum(_status(p, ('RssAnon',)).get('RssAnon', 0) for p in pids)


def pss_kib(pids):
    """The sum of Pss over the processes (/proc/PID/smaps_rollup): each resident page divided by
    the number of processes that map it, so that a tool's share of the machine's memory adds up
    over its processes and over tools. It depends on what else runs: a library every process
    maps costs each little."""
    total = 0
    for pid in pids:
        try:
            with open(f'/proc/{pid}/smaps_rollup') as f:
                for line in f:
                    if line.startswith('Pss:'):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def hwm_kib(pids):
    """The sum of VmHWM, each process's own peak RSS, over the processes."""
    return sum(_status(p, ('VmHWM',)).get('VmHWM', 0) for p in pids)


def switches(pids):
    """Context switches of every thread of the processes, voluntary and not: each is a wakeup."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f'/proc/{pid}/task')
        except OSError:
            continue
        for tid in tids:
            s = _status(f'{pid}/task/{tid}',
                        ('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches'))
            total += sum(s.values())
    return total


class PeakSampler:
    """Samples the sum of VmRSS over a tool's processes every `interval` seconds in a thread;
    `peak` is the largest sum seen. Short-lived children (grep, curl) are caught only when a
    sample falls inside their life, so for the shell pipeline this is a lower bound."""

    def __init__(self, tree, interval=0.02):
        self.tree, self.interval, self.peak = tree, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_kib(self.tree.pids()))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# --- the tools --------------------------------------------------------------------------------

class Tool:
    """What the three tools share: a folder, a staging folder, a log, start, stop, /proc."""
    name = ''
    label = ''

    def __init__(self, base, url, keywords, forms, keywords_file):
        """keywords: the rules' words (paperwatch's queries); forms: the words with the plurals
        paperwatch finds with them, for the baselines (keywords_file holds them a line each)."""
        self.dir = tempfile.mkdtemp(prefix=f'{self.name}-', dir=base)
        self.inbox = os.path.join(self.dir, 'inbox')
        self.staging = os.path.join(self.dir, 'staging')
        os.mkdir(self.inbox)
        os.mkdir(self.staging)
        self.url = f'{url}/{self.name}'
        self.keywords, self.forms, self.keywords_file = keywords, forms, keywords_file
        self.log_path = os.path.join(self.dir, 'log')
        self.tree = None

    def pids(self):
        return self.tree.pids()

    def stage(self, name, text):
        """Writes a digest where the tool does not look; drop() moves it in."""
        with open(os.path.join(self.staging, name), 'w') as f:
            f.write(text)

    def drop(self, name):
        """Renames a staged digest into the folder; returns the time just before the rename."""
        t = time.monotonic()
        os.rename(os.path.join(self.staging, name), os.path.join(self.inbox, name))
        return t


class Paperwatch(Tool):
    name = 'paperwatch'
    label = 'paperwatch'

    def __init__(self, base, url, keywords, forms, keywords_file, state_dir=None, name=None,
                 notifier='webhook'):
        """notifier: 'webhook' posts to the receiver; 'file' writes JSON lines into the tool's
        folder, a configuration with no network notifier."""
        if name:
            self.name = self.label = name
        super().__init__(base, url, keywords, forms, keywords_file)
        state = os.path.join(state_dir or self.dir, f'{self.name}-state.db')
        if notifier == 'file':
            channel = {'name': 'out', 'type': 'file', 'path': os.path.join(self.dir, 'out.jsonl')}
        else:
            channel = {'name': 'hook', 'type': 'webhook', 'url': self.url}
        self.conf = write_config(
            os.path.join(self.dir, 'paperwatch.conf'), notifiers=[channel],
            rules=[{'name': k, 'query': k} for k in keywords],
            state=state, watch={'dir': self.inbox})
        self.daemon = Daemon(self.conf, self.dir, verbose=False)

    def start(self):
        try:
            self.daemon.start()
        except BaseException:
            if self.daemon.proc is not None:
                self.daemon.kill()  # started but never ready: not left behind
            raise
        LIVE.append(self)
        self.tree = ProcTree(self.daemon.proc.pid)
        return self

    def stop(self):
        if self in LIVE:
            LIVE.remove(self)
        return self.daemon.stop()

    def wait_status(self, piece, timeout=60):
        """Waits for an sd_notify STATUS line containing piece."""
        self.daemon.wait_note(piece, timeout)

    def pending(self):
        """Messages waiting to be sent, as `paperwatch status` reads them from the state."""
        out = subprocess.run([BINARY, 'status', '--json', '-c', self.conf], check=True,
                             capture_output=True, text=True).stdout
        return sum(n['pending'] for n in json.loads(out)['notifiers'])


class _Script(Tool):
    """A baseline: a script run as the first process of its own session, so that stop() can
    end all of it with one signal to the process group it leads."""
    ready_text = ''

    def argv(self):
        raise NotImplementedError

    def start(self, timeout=20):
        self.log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=self.log,
                                     start_new_session=True,
                                     env=dict(os.environ, LC_ALL='C.UTF-8'))
        LIVE.append(self)  # from here on, stop_all() ends it should the start fail
        self.tree = ProcTree(self.proc.pid)
        deadline = time.monotonic() + timeout
        while self.ready_text not in self._log_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'{self.name} did not start:\n{self._log_text()}')
            time.sleep(0.01)
        return self

    def _log_text(self):
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def stop(self):
        """SIGTERM to the process group; returns the first process's exit status."""
        if self in LIVE:
            LIVE.remove(self)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            status = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            status = self.proc.wait()
        self.log.close()
        return status


class Shell(_Script):
    name = 'shell'
    label = 'shell pipeline'
    ready_text = 'Watches established.'

    def argv(self):
        return ['/bin/bash', os.path.join(HERE, 'baselines', 'watch.sh'), self.inbox,
                self.keywords_file, self.url]


class Python(_Script):
    name = 'python'
    label = 'Python script'
    ready_text = 'watching'

    def argv(self):
        return [PYTHON, os.path.join(HERE, 'baselines', 'watch.py'), self.inbox, self.url,
                *self.forms]


class CurlFloor:
    """tests/bench/curl_floor: a program that links libcurl and calls curl_global_init, nothing
    else (with init=False, not even that): the least a process using Debian's libcurl costs."""

    def __init__(self, binary, init=True):
        self.argv = [binary] + ([] if init else ['--no-init'])
        self.proc = self.tree = None

    def start(self, timeout=20):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        LIVE.append(self)
        self.tree = ProcTree(self.proc.pid)
        line = self.proc.stdout.readline()  # "ready" once it has done what it does
        if line.strip() != b'ready':
            raise RuntimeError(f'{self.argv[0]} did not start: {line!r}')
        return self

    def pids(self):
        return self.tree.pids()

    def stop(self):
        if self in LIVE:
            LIVE.remove(self)
        self.proc.terminate()
        status = self.proc.wait(10)
        self.proc.stdout.close()
        return status
