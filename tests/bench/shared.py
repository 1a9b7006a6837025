"""shared.py — alert throughput of one, two and three paperwatch instances on one PostgreSQL
database beside one instance on SQLite, measured in the same run (`BENCH_ONLY=shared make bench`).

The configurations (CONFIGS):

  sqlite      one `paperwatch run`, its state an SQLite file on the local disk (WAL,
              synchronous=FULL, as always)
  pg          1, 2 and 3 instances on one database of a throwaway PostgreSQL server
              (tests/integration/pgserver.py) with the fixture's settings: fsync and
              full_page_writes off, so a commit never waits for the disk
  pg-fsync    the same on a second server of the fixture made durable, as a real server is:
              fsync, full_page_writes and synchronous_commit on, its data on the same disk as
              the SQLite file; this is the fair comparison with SQLite

The workload is the same in every run: BENCH_SHARED_DIGESTS digests (1,000 by default) in the
hf-daily format (workload.py) of 20 papers, each sharing its first two papers with the one before,
one keyword rule per workload keyword, one webhook notifier posting to one receiver on 127.0.0.1
(receiver.py). With N instances, digest k goes into instance k mod N's inbox, so a paper two
digests share is read by two instances and the database's key must keep it to one alert. Each
run is fresh: a new SQLite file or a new database, daemons just started and ready (READY=1);
every digest is written into a staging folder beside the inboxes, then all are renamed in, one
after the other, within a few tens of milliseconds. Measured per run:

  wall        from just before the first rename until every expected alert has arrived (the
              request completing the set read whole); alerts/s is the expected alerts over it
  cpu         utime + stime (+ reaped children's) from /proc/PID/stat of the daemons, and of
              the PostgreSQL server's whole process tree (the postmaster, the daemons'
              backends, its background processes), read just before the renames and again once
              nothing has used CPU or arrived for a second
  sends       which instance sent each message: each instance's webhook URL carries
              `?instance=I`, the notifier's name and endpoint being the same for all
  database    the run's database's transactions committed and rolled back, and deadlocks
              (pg_stat_database), read once the instances have stopped
  alerts      read back from every request (`source` and each paper's `id`): each matching
              paper must arrive exactly once, from one of the digests holding it

Any alert missed, repeated or not expected fails the section (SharedFailure) once every run is
done, naming the configuration, the round, the papers and the requests that carried them, and
keeps the runs' folders (daemon logs, configurations) and the servers' logs under
build/bench-shared; BENCH_KEEP=1 keeps every run's.

The configurations take turns over BENCH_SHARED_ROUNDS rounds (3), the order rotating each round;
the figures are medians over a configuration's rounds, the ratios each one's alerts/s over the
SQLite instance's in the same run. Every instance runs on this machine beside the server, so
more instances compete for the same cores: the figures show what sharing a state costs, not how
throughput grows with hosts. At the default size it takes about two minutes; BENCH_QUICK=1 makes
it small (100 digests, one round).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import compare
import workload
from tools import ProcTree, TICK, cpu_ticks

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))

from harness import Daemon, write_config  # noqa: E402
from pgserver import PgServer  # noqa: E402
from receiver import Receiver  # noqa: E402

BASE = os.path.join(ROOT, 'build', 'bench-shared')
# (name, state kind, instances), in the order of the table.
CONFIGS = [('sqlite-1', 'sqlite', 1),
           ('pg-1', 'pg', 1), ('pg-2', 'pg', 2), ('pg-3', 'pg', 3),
           ('pg-fsync-1', 'pg-fsync', 1), ('pg-fsync-2', 'pg-fsync', 2),
           ('pg-fsync-3', 'pg-fsync', 3)]
KIND_LABELS = {'sqlite': 'SQLite',
               'pg': 'PostgreSQL, fsync off (the fixture)',
               'pg-fsync': 'PostgreSQL, fsync on'}
RULES = [{'name': k, 'query': k} for k in workload.KEYWORDS]
DELIVERY = {'lease': '60s'}
# What the durable server changes in the fixture's postgresql.conf: a real server's settings.
DURABLE = {'fsync': 'on', 'full_page_writes': 'on', 'synchronous_commit': 'on'}
SHOWN = ('fsync', 'full_page_writes', 'synchronous_commit', 'shared_buffers', 'wal_sync_method')
# How long the daemons and the server must have used no CPU, nothing arriving, before the CPU is
# read; and how long a run may go without any of it before it counts as stuck.
STILL_S, QUIET_S = 1.0, 10.0


class SharedFailure(RuntimeError):
    """An alert missed, repeated or wrong in some run: the product broke its promise."""


def say(what):
    compare.say(f'shared: {what}')


def settings():
    quick = os.environ.get('BENCH_QUICK') == '1'

    def env(name, full, small):
        return int(os.environ.get(name, small if quick else full))
    return {'digests': env('BENCH_SHARED_DIGESTS', 1000, 100), 'papers_per_digest': 20,
            'shared_per_digest': 2, 'rounds': env('BENCH_SHARED_ROUNDS', 3, 1),
            'deadline_s': env('BENCH_SHARED_DEADLINE', 300, 120)}


# --- what arrives --------------------------------------------------------------------------------

class Collector:
    """Every request the receiver gets, as (instance, file, paper ids, webhook-id, arrival);
    waits until every expected paper has arrived. Runs in the receiver's handler threads."""

    def __init__(self):
        self.cond = threading.Condition()
        self.reset(())

    def reset(self, expected):
        with self.cond:
            self.requests = []          # (instance, source, ids, webhook-id, completed)
            self.pending = set(expected)
            self.done_at = None if self.pending else time.monotonic()
            self.last = 0.0             # when the latest request completed
            self.unreadable = 0

    def on_request(self, req):
        query = urllib.parse.parse_qs(req.query)
        try:
            msg = req.json()
            source, ids = msg['source'], [p['id'] for p in msg['papers']]
        except (ValueError, KeyError, TypeError):
            source, ids = None, []
        with self.cond:
            if source is None:
                self.unreadable += 1
            self.requests.append((int(query.get('instance', ['-1'])[0]), source, ids,
                                  req.headers.get('webhook-id'), req.completed))
            self.last = req.completed
            if self.pending:
                self.pending.difference_update(ids)
                if not self.pending:
                    self.done_at = req.completed
            self.cond.notify_all()

    def alerts(self):
        with self.cond:
            return [(source, i) for _, source, ids, _, _ in self.requests for i in ids]


# --- the instances ---------------------------------------------------------------------------


class Group:
    """n `paperwatch run` daemons on one state, as on n hosts: each with its own folder, inbox
    and configuration, all with the same rules and the same webhook; a staging folder beside
    the inboxes, on the same filesystem, for the digests to be renamed in from. Without a
    state, one SQLite file in the group's folder."""

    def __init__(self, n, url, state=None):
        self.dir = tempfile.mkdtemp(prefix=f'run-{n}-', dir=BASE)
        self.staging = os.path.join(self.dir, 'staging')
        os.mkdir(self.staging)
        state = state or os.path.join(self.dir, 'state.db')
        extra = {'delivery': DELIVERY} if state.startswith('postgresql:') else {}
        self.inboxes, self.daemons = [], []
        for i in range(n):
            d = os.path.join(self.dir, f'i{i}')
            inbox = os.path.join(d, 'inbox')
            os.makedirs(inbox)
            hook = {'name': 'hook', 'type': 'webhook', 'url': f'{url}/shared?instance={i}'}
            conf = write_config(os.path.join(d, 'pw.conf'), [hook], RULES, state=state,
                                watch={'dir': inbox}, **extra)
            self.inboxes.append(inbox)
            self.daemons.append(Daemon(conf, d, verbose=False))

    def start(self, timeout=60.0):
        """Starts every daemon at once and waits until each is ready."""
        for d in self.daemons:
            d.start(ready=False)
        for d in self.daemons:
            d.wait_note('READY=1', timeout)

    def pids(self):
        return [d.proc.pid for d in self.daemons]

    def dead(self):
        return [i for i, d in enumerate(self.daemons) if d.proc.poll() is not None]

    def stop(self):
        """SIGTERM to each daemon; their exit statuses."""
        return [d.stop() for d in self.daemons]

    def kill(self):
        """Ends whatever still runs, for a run that failed midway."""
        for d in self.daemons:
            if d.proc is not None and d.proc.poll() is None:
                d.kill()


# --- the run ----------------------------------------------------------------------------------

class Bench:
    """The section: the workload, the receiver, the servers, and every configuration's runs."""

    def __init__(self, binary):
        self.binary = binary
        self.cfg = settings()
        self.collector = Collector()
        self.rx = Receiver(on_request=self.collector.on_request)
        self.digests = workload.Workload(binary).digests(
            self.cfg['digests'], self.cfg['papers_per_digest'],
            shared=self.cfg['shared_per_digest'], prefix='s')
        self.texts = [d.text() for d in self.digests]
        self.expected = workload.Expected(self.digests)
        self.servers = {}   # kind -> PgServer
        self.shown = {}     # kind -> the settings the server reports
        self.failures = []  # what went wrong, a paragraph per run
        self.probes = []    # fsync probes, before each run
        self.n_db = 0

    def check_rules(self):
        """`paperwatch match` over the workload must pick exactly the papers Expected counts,
        or a missed alert would be the benchmark's mistake, not the product's."""
        d = tempfile.mkdtemp(prefix='match-', dir=BASE)
        for dg, text in zip(self.digests, self.texts):
            with open(os.path.join(d, dg.name), 'w') as f:
                f.write(text)
        conf = write_config(os.path.join(d, 'pw.conf'),
                            [{'name': 'out', 'type': 'file', 'path': '-'}], RULES,
                            state=os.path.join(d, 'state.db'), watch={'dir': d})
        out = subprocess.run([self.binary, 'match', '--json', '-c', conf], check=True,
                             capture_output=True, text=True).stdout
        got = {json.loads(line)['id'] for line in out.splitlines()}
        shutil.rmtree(d)
        want = set(self.expected.files_of)
        if got != want:
            raise SystemExit(f'shared: paperwatch match picks {len(got)} papers where the '
                             f'workload expects {len(want)} (e.g. {sorted(got ^ want)[:3]})')

    def server(self, kind):
        """The PostgreSQL server of a kind, started on first use and kept for the section."""
        if kind in self.servers:
            return self.servers[kind]
        pg = PgServer()
        pg.__enter__()
        self.servers[kind] = pg
        if kind == 'pg-fsync':
            with open(os.path.join(pg.data, 'postgresql.conf'), 'a') as f:
                f.write(''.join(f'{k} = {v}\n' for k, v in DURABLE.items()))
            pg.stop()
            pg.start()
        shown = {k: pg.sql(f'SHOW {k}')[0] for k in SHOWN}
        if kind == 'pg-fsync' and any(shown[k] != v for k, v in DURABLE.items()):
            raise RuntimeError(f'shared: the durable server runs with {shown}')
        self.shown[kind] = shown
        return pg

    def once(self, name, kind, n, rnd):
        """One configuration, once, on a fresh state; its figures."""
        self.probes.append(compare.fsync_ms(BASE))
        pg = db = None
        if kind != 'sqlite':
            pg = self.server(kind)
            self.n_db += 1
            db = pg.createdb(f'run{self.n_db}')
            pg.sql('CHECKPOINT')  # nothing an earlier run wrote left for this run to flush
        group = Group(n, self.rx.url, pg.uri(db) if pg else None)
        try:
            out = self.measure(group, pg, db)
        finally:
            group.kill()
        out = dict(out, round=rnd, fsync_ms_before=self.probes[-1])
        problem = failure(out)
        if problem:
            self.failures.append(f'{name}, round {rnd + 1} (folder {group.dir}): {problem}'
                                 + self.details(out.pop('requests_seen'), n))
            with open(os.path.join(group.dir, 'requests.json'), 'w') as f:
                json.dump(self.collector.requests, f)
        else:
            out.pop('requests_seen')
            if os.environ.get('BENCH_KEEP') != '1':
                shutil.rmtree(group.dir)
                if db:
                    pg.sql(f'DROP DATABASE "{db}"', db='postgres')
        return out

    def measure(self, group, pg, db):
        """Starts the group, renames every digest in and waits for every alert."""
        n = len(group.daemons)
        for dg, text in zip(self.digests, self.texts):
            with open(os.path.join(group.staging, dg.name), 'w') as f:
                f.write(text)
        os.sync()  # the staged files' writeback is nobody's work but the benchmark's
        group.start()
        if pg and not pg.tables(db):
            raise RuntimeError(f'shared: paperwatch made no table in {pg.uri(db)}')
        self.collector.reset(self.expected.files_of)
        self.rx.clear()
        server = ProcTree(pg.pid) if pg else None
        d0, s0 = cpu_ticks(group.pids()), cpu_ticks(server.pids()) if server else 0
        t0 = time.monotonic()
        for k, dg in enumerate(self.digests):
            os.rename(os.path.join(group.staging, dg.name),
                      os.path.join(group.inboxes[k % n], dg.name))
        rename_s = time.monotonic() - t0
        how = self.wait_done(group, server, t0 + self.cfg['deadline_s'])
        self.quiesce(group, server)
        d1, s1 = cpu_ticks(group.pids()), cpu_ticks(server.pids()) if server else 0
        dead = group.dead()
        status = group.stop()
        xacts = database_counts(pg, db) if pg else {}
        c = self.collector
        score = self.expected.score(c.alerts())
        wall = c.done_at - t0 if c.done_at else None
        alerts = score['expected']
        dcpu, scpu = (d1 - d0) / TICK, (s1 - s0) / TICK
        sent = [0] * n
        for who, *_ in c.requests:
            if 0 <= who < n:
                sent[who] += 1
        return dict(score, finished=how, wall_s=round(wall, 3) if wall else None,
                    alerts_per_s=round(alerts / wall) if wall else None,
                    rename_s=round(rename_s, 3), last_request_s=round(c.last - t0, 3),
                    daemon_cpu_s=round(dcpu, 2), server_cpu_s=round(scpu, 2) if pg else None,
                    daemon_cpu_ms_per_alert=round(dcpu * 1e3 / alerts, 3),
                    server_cpu_ms_per_alert=round(scpu * 1e3 / alerts, 3) if pg else None,
                    cpu_ms_per_alert=round((dcpu + scpu) * 1e3 / alerts, 3),
                    requests=len(c.requests), sent_by_instance=sent, **xacts,
                    unreadable_requests=c.unreadable, exited_early=dead, exit_status=status,
                    requests_seen=[(who, src, ids, wid, round(t - t0, 3))
                                   for who, src, ids, wid, t in c.requests])

    def ticks(self, group, server):
        return cpu_ticks(group.pids()) + (cpu_ticks(server.pids()) if server else 0)

    def wait_done(self, group, server, deadline):
        """Until every expected alert arrived ('complete'); a daemon exited ('exited'); nothing
        used CPU or arrived for QUIET_S seconds ('quiet': the rest will not come); or the
        deadline."""
        c = self.collector
        ticks, changed = self.ticks(group, server), time.monotonic()
        while True:
            with c.cond:
                if c.cond.wait_for(lambda: c.done_at is not None, 0.25):
                    return 'complete'
            if group.dead():
                return 'exited'
            now, t = time.monotonic(), self.ticks(group, server)
            if t != ticks:
                ticks, changed = t, now
            if now - max(changed, c.last) > QUIET_S:
                return 'quiet'
            if now > deadline:
                return 'deadline'

    def quiesce(self, group, server, limit=30.0):
        """Waits until the daemons and the server have used no CPU and nothing has arrived for
        STILL_S seconds, so that what follows the last expected alert (a repeat, the last
        deliveries' bookkeeping) is counted too."""
        end = time.monotonic() + limit
        ticks, changed = self.ticks(group, server), time.monotonic()
        while time.monotonic() < end:
            time.sleep(0.1)
            now, t = time.monotonic(), self.ticks(group, server)
            if t != ticks:
                ticks, changed = t, now
            if now - max(changed, self.collector.last) > STILL_S:
                return

    def details(self, seen, n):
        """The papers missed and repeated, with the requests that carried each."""
        carried = {}
        for who, src, ids, wid, t in seen:
            for i in ids:
                carried.setdefault(i, []).append(f'instance {who} sent {src} '
                                                 f'(webhook-id {wid}) at {t} s')
        lines = []
        repeated = [i for i, r in carried.items() if len(r) > 1]
        for i in repeated[:10]:
            lines.append(f'  {i} arrived {len(carried[i])} times: ' + '; '.join(carried[i]))
        missed = sorted(set(self.expected.files_of) - carried.keys())
        index = {dg.name: k % n for k, dg in enumerate(self.digests)}
        for i in missed[:10]:
            files = sorted(self.expected.files_of[i])
            lines.append(f'  {i} never arrived; it is in ' +
                         ', '.join(f'{f} (inbox of instance {index[f]})' for f in files))
        more = len(repeated) + len(missed) - len(lines)
        if more > 0:
            lines.append(f'  and {more} more')
        return ''.join('\n' + line for line in lines)

    def run(self):
        cfg = self.cfg
        t_start = compare.T0[0] = time.monotonic()
        say('checking the rules against the workload')
        self.check_rules()
        runs = {name: [] for name, _, _ in CONFIGS}
        for rnd in range(cfg['rounds']):
            k = rnd % len(CONFIGS)  # rotating: none always follows another
            for name, kind, n in CONFIGS[k:] + CONFIGS[:k]:
                r = self.once(name, kind, n, rnd)
                say(f'{name}, round {rnd + 1}: {r["wall_s"]} s, {r["alerts_per_s"]} alerts/s, '
                    f'sent by instance {r["sent_by_instance"]}')
                runs[name].append(r)
        rows = [summarise(name, kind, n, runs[name]) for name, kind, n in CONFIGS]
        base = rows[0]['alerts_per_s']
        for row in rows:
            row['ratio_to_sqlite'] = (round(row['alerts_per_s'] / base, 2)
                                      if row['alerts_per_s'] and base else None)
        shared_papers = sum(len(f) > 1 for f in self.expected.files_of.values())
        return {'settings': cfg,
                'workload': {'format': 'hf-daily', 'keywords': workload.KEYWORDS,
                             'expected_alerts': len(self.expected.files_of),
                             'expected_in_two_digests': shared_papers},
                'servers': self.shown, 'cores': os.cpu_count(), 'configs': rows,
                'fsync_ms': {'min': min(self.probes), 'max': max(self.probes),
                             'median': statistics.median(self.probes)},
                'took_s': round(time.monotonic() - t_start)}

    def close(self):
        """Stops the receiver and the servers; a server's log is kept beside the runs' folders
        when they are (a failure, BENCH_KEEP=1), for the statements its errors name."""
        self.rx.stop()
        keep = self.failures or os.environ.get('BENCH_KEEP') == '1'
        for kind, pg in self.servers.items():
            if keep:
                with open(os.path.join(BASE, f'postgres-{kind}.log'), 'w') as f:
                    f.write(pg.log_text())
            pg.__exit__(None, None, None)


def database_counts(pg, db):
    """The database's transactions committed and rolled back, and deadlocks, since it was
    made, once every backend of the run has gone (a backend's counts reach the statistics as it
    exits); the few of the psql calls before the run are among them."""
    who = f"datname = '{db}'"
    deadline = time.monotonic() + 10
    while pg.sql(f'SELECT count(*) FROM pg_stat_activity WHERE {who}', db='postgres') != ['0']:
        if time.monotonic() > deadline:
            raise RuntimeError(f'shared: backends of {db} still there 10 s after the run')
        time.sleep(0.05)
    row = pg.sql(f'SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database '
                 f'WHERE {who}', db='postgres')[0].split('|')
    return dict(zip(('commits', 'rollbacks', 'deadlocks'), map(int, row)))


def failure(r):
    """What is wrong with a run, in words; '' when nothing is."""
    bad = [f'{r[k]} alerts {k}' for k in ('missed', 'repeated', 'wrong') if r[k]]
    if r['unreadable_requests']:
        bad.append(f'{r["unreadable_requests"]} requests no alert could be read from')
    if r['finished'] != 'complete':
        bad.append(f'the run ended {r["finished"]}, not complete')
    if r['exited_early'] or any(s != 0 for s in r['exit_status']):
        bad.append(f'instances {r["exited_early"]} exited early; exit statuses {r["exit_status"]}')
    return ', '.join(bad)


def summarise(name, kind, n, runs):
    """One configuration's rounds as one row: medians, the worst round's alerts, every round
    kept under 'runs'."""
    med = lambda k: (None if any(r[k] is None for r in runs)
                     else round(statistics.median(r[k] for r in runs), 3))
    rate = med('alerts_per_s')
    row = {'name': name, 'kind': kind, 'label': KIND_LABELS[kind], 'instances': n,
           'rounds': len(runs), 'expected': runs[0]['expected'], 'wall_s': med('wall_s'),
           'alerts_per_s': None if rate is None else round(rate)}
    for k in ('daemon_cpu_ms_per_alert', 'server_cpu_ms_per_alert', 'cpu_ms_per_alert',
              'daemon_cpu_s', 'server_cpu_s', 'requests', 'commits', 'rollbacks'):
        row[k] = med(k) if all(k in r for r in runs) else None
    row['deadlocks'] = max(r['deadlocks'] for r in runs) if kind != 'sqlite' else None
    # How the sends divided among the instances, in the round of the median time: medians of
    # each instance's count over rounds would not add up to the messages of any one round.
    middle = sorted(runs, key=lambda r: (r['wall_s'] is None, r['wall_s'] or 0))[len(runs) // 2]
    row['sent_by_instance'] = middle['sent_by_instance']
    for k in ('missed', 'repeated', 'wrong', 'unreadable_requests'):
        row[k] = max(r[k] for r in runs)
    row['runs'] = runs
    return row


def run(binary):
    """The section's figures for latest.json; raises SharedFailure, once every run is done,
    when any alert was missed or repeated."""
    shutil.rmtree(BASE, ignore_errors=True)
    os.makedirs(BASE)
    bench = Bench(binary)
    try:
        res = bench.run()
    finally:
        bench.close()
    if bench.failures:
        import report
        print(report.shared(res), file=sys.stderr)
        raise SharedFailure('paperwatch lost or repeated alerts:\n' + '\n'.join(bench.failures)
                            + f'\nthe runs\' folders (logs, configurations, requests.json) are '
                            f'kept under {BASE}; again: BENCH_ONLY=shared make bench')
    if os.environ.get('BENCH_KEEP') != '1':
        shutil.rmtree(BASE, ignore_errors=True)
    return res
