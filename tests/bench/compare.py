"""compare.py — paperwatch side by side with what users would otherwise run (tools.py: a shell
pipeline and a Python script), on the same digests, the same keyword rules and the same
receiver (tests/integration/receiver.py), in one run.

Phases, in this order:

  latency   the three tools run at once, each on its own folder; digest i is dropped (written
            under staging/, then renamed into the folder) into each tool's folder in turn, the
            order rotating with i, and the next drop waits until that tool's alerts for the file
            have all arrived. Latency: from just before the rename to the first request for that
            file starting to arrive at the receiver (its request line read).
  idle      the same three tools, left alone: CPU ticks and context switches over
            BENCH_IDLE_SECONDS, and RSS.
  samples   paperwatch alone, fresh: RSS after start and after reading the five sample digests.
  burst     each tool alone, fresh, in turn: BENCH_BURST digests that share papers renamed in
            at once; CPU of its whole process tree, wall time until every expected alert
            arrived, peak RSS, alerts missed and repeated. paperwatch and the Python script
            run BENCH_BURST_ROUNDS times, taking turns to go first (see loads()).
  flood     each tool alone, fresh: BENCH_FLOOD one-paper digests renamed in at once, more
            events than the kernel queues for a watch (16384); alerts missed and repeated.

Alerts are attributed from what arrives: paperwatch's and the Python script's JSON name the
file (`source`) and each paper's `id`; the shell posts the file name and the matching line,
which holds the paper's arXiv link.
"""
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

import tools
import workload
from tools import anon_kib, cpu_ticks, hwm_kib, rss_kib, switches, TICK

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))

from receiver import Receiver  # noqa: E402

ARXIV = re.compile(r'arxiv\.org/abs/([0-9]{4}\.[0-9]{4,5})')
TOOLS = (tools.Paperwatch, tools.Shell, tools.Python)
# A diagnostic beside them in the latency phase: paperwatch with its state on tmpfs, where a
# commit's fsync costs nothing, shows how much of its latency is the disk's.
TMPFS = 'paperwatch-tmpfs'
NAMES = [t.name for t in TOOLS] + [TMPFS]


T0 = [time.monotonic()]  # when the comparison began; Bench.run() sets it


def say(what):
    """Progress on stderr, with the time since the comparison began."""
    print(f'  [{time.monotonic() - T0[0]:5.0f} s] {what}', file=sys.stderr, flush=True)


def settings():
    """The run's sizes, from the environment; BENCH_QUICK=1 makes every default small."""
    quick = os.environ.get('BENCH_QUICK') == '1'

    def env(name, full, small):
        return int(os.environ.get(name, small if quick else full))
    return {'files': env('BENCH_FILES', 200, 30), 'papers_per_file': 100,
            'burst': env('BENCH_BURST', 1000, 100), 'burst_papers': 20, 'burst_shared': 2,
            'burst_rounds': env('BENCH_BURST_ROUNDS', 3, 1),
            'flood': env('BENCH_FLOOD', 20000, 0), 'flood_hit_every': 10,
            'idle_seconds': env('BENCH_IDLE_SECONDS', 60, 5),
            'deadline_s': env('BENCH_DEADLINE', 300, 120)}


# --- what arrives -------------------------------------------------------------------------------

class Collector:
    """Every request the receiver gets, attributed to (tool, file, papers), with waits on it.
    Runs in the receiver's handler threads."""

    def __init__(self):
        self.cond = threading.Condition()
        self.reset()

    def reset(self):
        with self.cond:
            self.alerts = {n: [] for n in NAMES}  # tool -> [(file, paper id)]
            self.count = {}                         # (tool, file) -> requests
            self.first = {}                         # (tool, file) -> first request's start
            self.last = {n: 0.0 for n in NAMES}     # tool -> when its latest request completed
            self.pending = {}                       # tool -> expected paper ids not yet alerted
            self.done_at = {}                       # tool -> when the last of them arrived
            self.unreadable = {n: 0 for n in NAMES}  # tool -> requests naming no file

    def on_request(self, req):
        tool = req.path.strip('/').split('/')[0]
        try:
            if tool == 'shell':
                form = urllib.parse.parse_qs(req.body.decode('utf-8'))
                name = form['file'][0]
                ids = ARXIV.findall(form['hit'][0])[:1]
            else:
                msg = req.json()
                name, ids = msg['source'], [p['id'] for p in msg['papers']]
        except (ValueError, KeyError, IndexError, TypeError):
            name, ids = None, []  # counted as unreadable: a request no alert can be read from
        with self.cond:
            if tool not in self.alerts:
                return
            if name is None:
                self.unreadable[tool] += 1
            key = (tool, name)
            self.count[key] = self.count.get(key, 0) + 1
            self.first.setdefault(key, req.started)
            self.alerts[tool].extend((name, i) for i in ids)
            self.last[tool] = req.completed
            pending = self.pending.get(tool)
            if pending:
                pending.difference_update(ids)
                if not pending:
                    self.done_at[tool] = req.completed
            self.cond.notify_all()

    def expect(self, tool, ids):
        with self.cond:
            self.pending[tool] = set(ids)
            self.done_at.pop(tool, None)

    def wait_requests(self, tool, name, n, timeout):
        """Waits until `n` requests for this file have arrived; False on timeout."""
        with self.cond:
            return self.cond.wait_for(lambda: self.count.get((tool, name), 0) >= n, timeout)


# --- figures --------------------------------------------------------------------------------

def percentile(values, q):
    """The nearest-rank percentile: the smallest value with at least q% of them at or below."""
    v = sorted(values)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)]


def distribution(ms):
    return {'n': len(ms), 'median_ms': round(statistics.median(ms), 2),
            'p95_ms': round(percentile(ms, 95), 2), 'p99_ms': round(percentile(ms, 99), 2),
            'max_ms': round(max(ms), 2), 'samples_ms': [round(x, 3) for x in ms]}


def fsync_ms(directory):
    """The median time of 4 KiB write + fsync in the folder's filesystem: what one durable
    commit costs on this disk, whoever makes it."""
    path = os.path.join(directory, 'fsync.probe')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(30):
            os.write(fd, b'x' * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    return round(statistics.median(times) * 1e3, 2)


# --- the run ----------------------------------------------------------------------------------

class Bench:
    def __init__(self, binary, base):
        self.binary, self.base = binary, base
        self.cfg = settings()
        self.collector = Collector()
        self.rx = Receiver(on_request=self.collector.on_request)
        self.wl = workload.Workload(binary)
        self.probes = []
        self.keywords_file = os.path.join(base, 'keywords.txt')
        with open(self.keywords_file, 'w') as f:
            f.write(''.join(k + '\n' for k in workload.FORMS))

    def probe(self, when):
        """Notes what an fsync costs now: the disk is shared, and its speed drifts a lot."""
        self.probes.append({'when': when, 'ms': fsync_ms(self.base)})

    def new(self, cls, **kw):
        return cls(self.base, self.rx.url, workload.KEYWORDS, workload.FORMS, self.keywords_file,
                   **kw)

    def phase_clear(self):
        self.collector.reset()
        self.rx.clear()  # the receiver keeps every body; drop them between phases

    # -- latency and idle ---------------------------------------------------------------------

    def latency_and_idle(self):
        shm = tempfile.mkdtemp(prefix='paperwatch-bench-', dir='/dev/shm')
        running = [self.new(c).start() for c in TOOLS]
        diagnostic = self.new(tools.Paperwatch, state_dir=shm, name=TMPFS).start()
        time.sleep(1)
        rss_start = {t.name: (rss_kib(t.pids()), anon_kib(t.pids())) for t in running}
        latency = self.latency(running + [diagnostic])
        diagnostic.stop()
        shutil.rmtree(shm, ignore_errors=True)
        say('idle')
        idle = self.idle(running, rss_start)
        for t in running:
            idle[t.name]['exit_status'] = t.stop()
        return latency, idle

    def latency(self, running):
        cfg = self.cfg
        digests = self.wl.digests(cfg['files'], cfg['papers_per_file'], prefix='l')
        lat = {t.name: [] for t in running}
        late = {t.name: 0 for t in running}
        for i, d in enumerate(digests):
            text, hits = d.text(), d.hits()
            k = i % len(running)  # who goes first rotates, so no tool always follows another
            for t in running[k:] + running[:k]:
                t.stage(d.name, text)
                # The shell posts every matching line; the others one message per digest.
                n = len(hits) if t.name == 'shell' else int(bool(hits))
                t0 = t.drop(d.name)
                if n == 0:
                    continue
                if not self.collector.wait_requests(t.name, d.name, n, 20):
                    late[t.name] += 1
                first = self.collector.first.get((t.name, d.name))
                if first is not None:
                    lat[t.name].append((first - t0) * 1e3)
        expected = workload.Expected(digests)
        out = {'files': len(digests), 'papers_per_file': cfg['papers_per_file'],
               'matching_per_file': round(statistics.mean(len(d.hits()) for d in digests), 1)}
        for t in running:
            out[t.name] = dict(distribution(lat[t.name]), files_incomplete_after_20s=late[t.name],
                               unreadable_requests=self.collector.unreadable[t.name],
                               **expected.score(self.collector.alerts[t.name]))
        return out

    def idle(self, running, rss_start):
        time.sleep(2)  # the last sends' bookkeeping
        seconds = self.cfg['idle_seconds']
        before = {t.name: (cpu_ticks(t.pids()), switches(t.pids())) for t in running}
        rss_work = {t.name: (rss_kib(t.pids()), anon_kib(t.pids())) for t in running}
        time.sleep(seconds)
        out = {'seconds': seconds}
        for t in running:
            pids = t.pids()
            out[t.name] = {'processes': len(pids), 'cpu_ticks': cpu_ticks(pids) - before[t.name][0],
                           'wakeups': switches(pids) - before[t.name][1],
                           'rss_kib_after_start': rss_start[t.name][0],
                           'rss_anon_kib_after_start': rss_start[t.name][1],
                           'rss_kib_after_work': rss_work[t.name][0],
                           'rss_anon_kib_after_work': rss_work[t.name][1]}
        return out

    # -- paperwatch alone on the samples --------------------------------------------------------

    def samples(self):
        pw = self.new(tools.Paperwatch).start()
        time.sleep(1)
        out = {'rss_kib_after_start': rss_kib(pw.pids()),
               'rss_anon_kib_after_start': anon_kib(pw.pids())}
        names = sorted(f for f in os.listdir(workload.SAMPLES) if f.endswith('.txt'))
        for name in names:
            shutil.copy(os.path.join(workload.SAMPLES, name), os.path.join(pw.staging, name))
            pw.drop(name)
        pw.wait_status(f'STATUS={len(names)} files')
        deadline = time.monotonic() + 60
        while pw.pending() != 0:
            if time.monotonic() > deadline:
                raise RuntimeError('paperwatch did not deliver the samples\' alerts')
            time.sleep(0.05)
        time.sleep(1)
        out.update(rss_kib_after_samples=rss_kib(pw.pids()),
                   rss_anon_kib_after_samples=anon_kib(pw.pids()), peak_rss_kib=hwm_kib(pw.pids()),
                   files=len(names), exit_status=pw.stop())
        return out

    # -- burst and flood --------------------------------------------------------------------

    def load(self, cls, digests, expected):
        """One tool, fresh, given every digest at once; returns its figures."""
        t = self.new(cls)
        for d in digests:
            t.stage(d.name, d.text())
        os.sync()  # the staged files' writeback is nobody's work but the benchmark's
        self.phase_clear()
        self.collector.expect(t.name, expected.files_of.keys())
        t.start()
        time.sleep(1)
        pids = t.pids()
        out = {'rss_kib_idle': rss_kib(pids)}
        c0 = cpu_ticks(pids)
        with tools.PeakSampler(t.tree) as peak:
            t0 = time.monotonic()
            for d in digests:
                os.rename(os.path.join(t.staging, d.name), os.path.join(t.inbox, d.name))
            out['rename_s'] = round(time.monotonic() - t0, 3)
            how = self.wait_done(t, t0 + self.cfg['deadline_s'])
            self.quiesce(t)
            pids = t.pids()
            c1 = cpu_ticks(pids)
            out['peak_rss_kib'] = max(peak.peak, hwm_kib(pids))
        done = self.collector.done_at.get(t.name)
        cpu = (c1 - c0) / TICK
        out.update(finished=how, wall_s=round(done - t0, 2) if done else None,
                   last_alert_s=round(self.collector.last[t.name] - t0, 2),
                   cpu_s=round(cpu, 2), cpu_ms_per_digest=round(cpu * 1e3 / len(digests), 3),
                   processes_at_end=len(pids),
                   unreadable_requests=self.collector.unreadable[t.name],
                   **expected.score(self.collector.alerts[t.name]))
        out['exit_status'] = t.stop()
        shutil.rmtree(t.dir, ignore_errors=True)
        return out

    def wait_done(self, t, deadline, quiet=5.0):
        """Until every expected alert arrived ('complete'), the tool sat still — no request,
        no CPU — for `quiet` seconds ('quiet': it will not bring the rest), or the deadline."""
        c = self.collector
        ticks, changed = cpu_ticks(t.pids()), time.monotonic()
        while True:
            with c.cond:
                if c.cond.wait_for(lambda: t.name in c.done_at, 0.25):
                    return 'complete'
            now = time.monotonic()
            n = cpu_ticks(t.pids())
            if n != ticks:
                ticks, changed = n, now
            if now - max(changed, c.last[t.name]) > quiet:
                return 'quiet'
            if now > deadline:
                return 'deadline'

    def quiesce(self, t, still=1.0, limit=120):
        """Waits until the tool has used no CPU and sent nothing for `still` seconds, so that
        what it does after the last expected alert (repeats, bookkeeping) is counted too."""
        end = time.monotonic() + limit
        ticks, changed = cpu_ticks(t.pids()), time.monotonic()
        while time.monotonic() < end:
            time.sleep(0.1)
            n = cpu_ticks(t.pids())
            now = time.monotonic()
            if n != ticks:
                ticks, changed = n, now
            if now - max(changed, self.collector.last[t.name]) > still:
                return

    def loads(self, digests, what, rounds=1):
        """Each tool alone on the same digests. With several rounds, paperwatch and the Python
        script take turns going first and the slow shell pipeline runs once, after the first
        round: figures are the median over a tool's rounds, alerts missed and repeated the
        worst round's."""
        expected = workload.Expected(digests)
        order = []
        for r in range(rounds):
            order += [tools.Paperwatch, tools.Python][::1 if r % 2 == 0 else -1]
            if r == 0:
                order.append(tools.Shell)
        runs = {cls.name: [] for cls in TOOLS}
        for cls in order:
            say(f'{what}: {cls.name}')
            self.probe(f'{what}: {cls.name}')
            runs[cls.name].append(dict(self.load(cls, digests, expected),
                                       fsync_ms_before=self.probes[-1]['ms']))
        out = {'expected_alerts': len(expected.files_of)}
        for name, rs in runs.items():
            out[name] = summarise(rs)
        return out

    def run(self):
        cfg = self.cfg
        t_start = T0[0] = time.monotonic()
        pw = self.new(tools.Paperwatch)
        semantics = workload.check_semantics(self.binary, self.wl, self.keywords_file, pw.conf)
        shutil.rmtree(pw.dir)
        res = {'settings': cfg,
               'workload': {'format': 'hf-daily', 'keywords': workload.KEYWORDS,
                            'semantics_check': semantics},
               'labels': {c.name: c.label for c in TOOLS},
               'diagnostic_labels': {TMPFS: 'paperwatch, state on tmpfs'}}
        say('latency')
        self.probe('latency')
        res['latency'], res['idle'] = self.latency_and_idle()
        self.probe('after latency')
        say('samples')
        self.phase_clear()
        res['samples'] = self.samples()
        burst = self.wl.digests(cfg['burst'], cfg['burst_papers'], shared=cfg['burst_shared'],
                                prefix='b')
        res['burst'] = dict(self.loads(burst, 'burst', cfg['burst_rounds']), files=cfg['burst'],
                            papers_per_file=cfg['burst_papers'],
                            shared_per_file=cfg['burst_shared'])
        if cfg['flood']:
            flood = self.wl.digests(cfg['flood'], 1, prefix='f', hit_every=cfg['flood_hit_every'])
            res['flood'] = dict(self.loads(flood, 'flood'), files=cfg['flood'])
        ms = [p['ms'] for p in self.probes]
        res['fsync_ms'] = {'min': min(ms), 'median': statistics.median(ms), 'max': max(ms),
                           'probes': self.probes}
        res['targets'] = targets(res)
        res['took_s'] = round(time.monotonic() - t_start)
        self.rx.stop()
        return res


def summarise(runs):
    """One tool's rounds as one row: medians of the figures, the worst round's alerts, and
    every round kept under 'runs'."""
    out = dict(runs[0])
    for k in ('cpu_s', 'cpu_ms_per_digest', 'wall_s', 'peak_rss_kib', 'rss_kib_idle',
              'last_alert_s'):
        values = [r[k] for r in runs]
        out[k] = None if None in values else round(statistics.median(values), 3)
    for k in ('missed', 'repeated', 'wrong', 'unreadable_requests'):
        out[k] = max(r[k] for r in runs)
    out['alerted'] = min(r['alerted'] for r in runs)
    unfinished = [r['finished'] for r in runs if r['finished'] != 'complete']
    out['finished'] = unfinished[0] if unfinished else 'complete'
    out['rounds'] = len(runs)
    if len(runs) > 1:
        out['runs'] = runs
    return out


# --- targets ----------------------------------------------------------------------------------

def targets(res):
    """paperwatch's targets, each with the figure it is judged on and whether it is met."""
    out = []

    def add(what, target, value, met):
        out.append({'what': what, 'target': target, 'value': value, 'met': bool(met)})

    lat = res['latency']
    pw = lat['paperwatch']
    faster = min(('shell', 'python'), key=lambda n: lat[n]['median_ms'])
    ratio = pw['median_ms'] / lat[faster]['median_ms']
    add('median latency / faster baseline\'s', '<= 0.2', f'{ratio:.2f} (vs {faster})',
        ratio <= 0.2)
    add('median latency, 100-paper digest', '< 5 ms', f'{pw["median_ms"]} ms',
        pw['median_ms'] < 5)
    add('99th percentile latency, 100-paper digest', '< 10 ms', f'{pw["p99_ms"]} ms',
        pw['p99_ms'] < 10)
    b = res['burst']
    cheaper = min(('shell', 'python'), key=lambda n: b[n]['cpu_s'])
    if b[cheaper]['cpu_s'] > 0:
        r = b['paperwatch']['cpu_s'] / b[cheaper]['cpu_s']
        add('CPU per digest / cheaper baseline\'s', '<= 0.15', f'{r:.2f} (vs {cheaper})',
            r <= 0.15)
        r = b['paperwatch']['wall_s'] / b['python']['wall_s']
        add('burst wall time / Python\'s', '<= 0.3', f'{r:.2f}', r <= 0.3)
    idle = res['idle']
    # Own pages, not RSS: most of a process's RSS is shared libraries' pages, which it shares
    # with every other process mapping them. RSS after start is judged in memory.py, for each
    # configuration beside libcurl's floor.
    for when in ('after_start', 'after_work'):
        r = idle['paperwatch'][f'rss_anon_kib_{when}'] / idle['python'][f'rss_anon_kib_{when}']
        add(f'own pages idle {when.replace("_", " ")} / Python\'s', '<= 0.33', f'{r:.2f}',
            r <= 1 / 3)
    add('CPU ticks in idle', '0', str(idle['paperwatch']['cpu_ticks']),
        idle['paperwatch']['cpu_ticks'] == 0)
    for phase in ('burst', 'flood'):
        if phase not in res:
            continue
        p = res[phase]
        worst = {k: max(p[n][k] for n in ('shell', 'python')) for k in ('missed', 'repeated')}
        for k in ('missed', 'repeated'):
            if worst[k]:
                add(f'alerts {k} in the {phase}', '0', str(p['paperwatch'][k]),
                    p['paperwatch'][k] == 0)
    return out


def run(binary):
    base = os.path.join(ROOT, 'build', 'bench')
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    bench = Bench(binary, base)
    try:
        return bench.run()
    finally:
        tools.stop_all()
        bench.rx.stop()
        if os.environ.get('BENCH_KEEP') != '1':
            shutil.rmtree(base, ignore_errors=True)
