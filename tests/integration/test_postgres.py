#!/usr/bin/env python3
"""test_postgres.py — several daemons on one PostgreSQL state, as on several machines, each
watching its own folder. Together they alert each (paper, rule, notifier) once however the
digests overlap; a message is sent by one instance at a time, and one whose sender was killed or
frozen past its lease is sent again by another under the same webhook-id, the late sender's
answer changing nothing; a notifier's pace and a server's Retry-After hold between them; a
database away for ten seconds stops no daemon and loses no alert; they create their schema
themselves, and check-config names an unreachable database without its password; an SQLite
state moved in alerts nothing again. Each test runs its own throwaway server (pgserver.py);
without PostgreSQL installed they are skipped."""
import collections
import json
import os
import re
import signal
import shutil
import tempfile
import time

from certs import make_certs
from harness import (test, run, pw, text, digests, tmpdir, write_config, wait_until,
                     register_secret, Daemon, records_digest)
from pgserver import PgServer, Instances
from receiver import Receiver, Reply

RULES = [{'name': 'every', 'query': 'id:2*'}, {'name': 'worded', 'query': 'paper'}]
FAST = {'retry_base': '200ms', 'retry_max': '1s', 'shutdown_grace': '1s'}
# A lease far shorter than the default minute, so that a lost claim is taken over within the
# test; every notifier's attempt must end before it does.
LEASE = 3.0
SHORT = dict(FAST, lease=LEASE)
TIMEOUTS = {'timeout': '2s', 'connect_timeout': '1s'}
# How long a second sender's copy is given to show up before a test says there is none.
SETTLE = 1.5
OUTAGE = 10.0
PASSWORD = 's3cret-pw'
register_secret(PASSWORD)
SLACK_TOKEN = 'SLACKTOKEN0pg4242QRS'
register_secret(SLACK_TOKEN)


def hooks(rx, names=('a', 'b'), **extra):
    """Webhook notifiers, one path of the receiver each: a request's path names its notifier."""
    return [dict({'name': n, 'type': 'webhook', 'url': f'{rx.url}/{n}'}, **extra)
            for n in names]



def keys_of(ids, notifiers, rules=RULES):
    """The (paper, rule, notifier path) alerts the generated papers ids make."""
    return {(f'2502.{i:05d}', r['name'], '/' + n['name'])
            for i in ids for r in rules for n in notifiers}


def expected_of(files, notifiers, rules=RULES):
    """The alerts digest files make, as `paperwatch match` finds them (on a state of its own)."""
    d = tmpdir()
    conf = write_config(os.path.join(d, 'twin.conf'), [], rules,
                        state=os.path.join(d, 'twin.db'))
    p = pw('match', '--json', '-c', conf, *files)
    assert p.returncode == 0, text(p.stderr)
    return {(m['id'], rule, '/' + n['name']) for m in map(json.loads, text(p.stdout).splitlines())
            for rule in m['rules'] for n in notifiers}


def arrived(rx, answered=False):
    """(paper, rule, notifier path) -> the webhook-ids of the complete requests that carried it,
    in arrival order; answered: only those answered 2xx."""
    seen = collections.defaultdict(list)
    for q in rx.requests:
        if not q.complete or (answered and (q.reply is None or q.reply.status >= 300)):
            continue
        for p in q.json()['papers']:
            for rule in p['rules']:
                seen[(p['id'], rule, q.path)].append(q.headers['webhook-id'])
    return seen


def sends(rx):
    """webhook-id -> how many complete requests carried it."""
    return collections.Counter(q.headers['webhook-id'] for q in rx.requests if q.complete)


def exactly_once(rx, expected):
    """Asserts every expected alert arrived, each once, in messages each sent once."""
    seen = arrived(rx)
    lost, extra = expected - set(seen), set(seen) - expected
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    resent = {i: n for i, n in sends(rx).items() if n > 1}
    print(f'# alerts expected {len(expected)}, lost {len(lost)}, unexpected {len(extra)}, '
          f'twice {len(twice)}, in {len(rx.requests)} requests')
    assert not lost, sorted(lost)[:5]
    assert not extra, sorted(extra)[:5]
    assert not twice, sorted(twice.items())[:3]
    assert not resent, resent


def overlapping(group, tag, first, notifiers):
    """A round of three digests dropped into the three inboxes at once: eight papers in all
    three, six in two of them, five in each alone. Returns the alerts they make."""
    common, pair = range(first, first + 8), range(first + 8, first + 14)
    both = (first // 40 % 3, (first // 40 + 1) % 3)
    texts, ids = {}, set()
    for i in range(3):
        own = range(first + 14 + 5 * i, first + 19 + 5 * i)
        mine = [*common, *(pair if i in both else ()), *own]
        texts[i] = records_digest(mine)
        ids |= set(mine)
    group.drop(f'{tag}.md', texts)
    return keys_of(ids, notifiers)


def one_daemon(pg, rx):
    """A folder, its inbox and a configuration on pg's database, with one webhook notifier at
    rx: (folder, inbox, configuration, notifiers)."""
    notifiers = hooks(rx, names=('a',))
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    conf = write_config(os.path.join(d, 'pw.conf'), notifiers, RULES, state=pg.uri(),
                        watch={'dir': inbox}, delivery=FAST)
    return d, inbox, conf, notifiers


def notifier_status(conf, name):
    """The notifier's entry of `paperwatch status --json`."""
    p = pw('status', '-c', conf, '--json')
    assert p.returncode == 0, text(p.stderr)
    return next(n for n in json.loads(text(p.stdout))['notifiers'] if n['name'] == name)


def settled(conf, notifiers):
    """Whether status shows nothing pending for any of the notifiers."""
    return all(notifier_status(conf, n['name'])['pending'] == 0 for n in notifiers)


def error_lines(log):
    """The log lines at the error level (the stamped style: 'TIME error: ...')."""
    return [line for line in log.splitlines() if re.match(r'\S+ error: ', line)]


@test
def the_throwaway_server_restarts_on_its_socket_keeps_its_data_and_leaves_nothing_behind():
    with PgServer() as pg:
        folder, pid = pg.dir, pg.pid
        assert len(pg.socket_file) < 100 and os.path.exists(pg.socket_file), pg.socket_file
        assert pg.sql('SELECT 1') == ['1']
        pg.createdb('kept')
        pg.sql('CREATE TABLE t (x int); INSERT INTO t VALUES (7)', db='kept')
        assert pg.sql("SELECT current_setting('listen_addresses'), current_setting('fsync')") \
            == ['|off']
        pg.stop()
        assert not os.path.exists(f'/proc/{pid}'), 'the server outlived stop()'
        try:
            pg.sql('SELECT 1')
            reached = True
        except AssertionError:
            reached = False
        assert not reached, 'psql reached a stopped server'
        pg.start()
        assert pg.sql('SELECT x FROM t', db='kept') == ['7']
        pid = pg.pid
    assert not os.path.exists(folder), os.listdir(folder)
    assert not os.path.exists(f'/proc/{pid}'), 'the server outlived the with block'


@test
def three_daemons_on_one_database_alert_each_paper_once_from_overlapping_digests():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx)
        with Instances(pg, notifiers, RULES, delivery=FAST) as group:
            expected = expected_of(digests(), notifiers)
            group.start()
            for path in digests():  # the same five sample digests, in every inbox at once
                with open(path, encoding='utf-8') as f:
                    group.drop(os.path.basename(path), dict.fromkeys(range(3), f.read()))
            for k in range(6):
                expected |= overlapping(group, f'round{k}', 40 * k, notifiers)
            wait_until(lambda: expected <= set(arrived(rx)), 60, 'every alert')
            time.sleep(SETTLE)
            exactly_once(rx, expected)
            group.assert_alive()
            # Any instance's status sees every instance's deliveries.
            wait_until(lambda: settled(group.confs[2], notifiers), 10, 'nothing pending')
            for n in notifiers:
                st = notifier_status(group.confs[2], n['name'])
                sent = sum(1 for q in rx.requests if q.path == '/' + n['name'])
                assert (st['delivered'], st['failed']) == (sent, 0), (st, sent)
            for d in group:
                assert d.stop() == 0, d.log_text()


@test
def scan_beside_the_daemons_alerts_only_new_papers_sent_within_a_second_and_exits_0():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx)
        with Instances(pg, notifiers, RULES, delivery=FAST) as group:
            group.start()
            expected = overlapping(group, 'round0', 0, notifiers)
            # Ten new papers and five the daemons have alerted (or are alerting) already, in
            # a digest scanned on the shared state; what the scan queues, the daemons hear of
            # at once (or the scan sends it itself).
            beside = os.path.join(group.base, 'beside.md')
            with open(beside, 'w') as f:
                f.write(records_digest([*range(1000, 1010), *range(0, 5)]))
            s = pw('scan', '-c', group.confs[1], '--wait', '20', beside)
            done = time.monotonic()
            scanned = keys_of(range(1000, 1010), notifiers)
            wait_until(lambda: scanned <= set(arrived(rx)), 2.0, "the scanned digest's alerts")
            print(f'# the scanned alerts arrived within {time.monotonic() - done:.2f} s of the '
                  'scan\'s end')
            expected |= scanned
            wait_until(lambda: expected <= set(arrived(rx)), 30, 'every alert')
            time.sleep(SETTLE)
            exactly_once(rx, expected)
            # As beside a daemon on an SQLite state: the messages are in good hands, status 0.
            assert s.returncode == 0, text(s.stdout) + text(s.stderr)
            group.assert_alive()


@test
def a_message_whose_sender_is_killed_is_sent_again_after_its_lease_under_the_same_id():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx, ('a',), **TIMEOUTS)
        rx.push(Reply(hang=True), path='/a')  # the first request is never answered
        with Instances(pg, notifiers, RULES, delivery=SHORT) as group:
            group.start()
            group.drop('first.md', {0: records_digest(range(10))})
            (first,) = rx.wait_for(1, 10)
            killed = group.sender(rx.port)
            group[killed].kill()  # mid-request, its claim held
            second = wait_until(lambda: rx.requests[1:2], LEASE + 10, 'the message sent again')[0]
            gap = second.started - first.started
            print(f'# instance {killed} killed; sent again {gap:.2f} s after its first attempt')
            assert second.headers['webhook-id'] == first.headers['webhook-id'], second.headers
            assert [p['id'] for p in second.json()['papers']] == \
                [p['id'] for p in first.json()['papers']]
            assert gap >= 0.8 * LEASE, f'sent again after {gap:.2f} s, within the {LEASE} s lease'
            # The killed one comes back, and new digests are alerted once, with nothing repeated
            # but that one message.
            group.start([killed])
            expected = keys_of(range(10), notifiers)
            for k in range(3):
                expected |= overlapping(group, f'round{k}', 40 + 40 * k, notifiers)
            wait_until(lambda: expected <= set(arrived(rx)), 30, 'every alert')
            time.sleep(SETTLE)
            seen = arrived(rx)
            assert set(seen) == expected, sorted(set(seen) ^ expected)[:5]
            again = {k: v for k, v in seen.items() if len(v) > 1}
            assert set(again) == keys_of(range(10), notifiers), sorted(again)[:5]
            assert {i: n for i, n in sends(rx).items() if n > 1} == \
                {first.headers['webhook-id']: 2}, sends(rx)
            group.assert_alive()


@test
def a_sender_frozen_past_its_lease_is_overtaken_and_its_late_answer_changes_nothing():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx, ('a',), **TIMEOUTS)
        # Answered while its sender is frozen: the answer waits in the sender's socket.
        rx.push(Reply(200, 'ok', delay=1.0), path='/a')
        with Instances(pg, notifiers, RULES, delivery=SHORT) as group:
            group.start()
            group.drop('first.md', {0: records_digest(range(10))})
            (first,) = rx.wait_for(1, 10)
            frozen_no = group.sender(rx.port)
            frozen = group[frozen_no]
            log_at = len(frozen.log_text())
            frozen.signal(signal.SIGSTOP)
            try:
                second = wait_until(lambda: rx.requests[1:2], LEASE + 10,
                                    'the message sent by another instance')[0]
                time.sleep(1.0)  # frozen a while longer, as a paused virtual machine would be
            finally:
                frozen.signal(signal.SIGCONT)
            gap = second.started - first.started
            print(f'# instance {frozen_no} frozen; overtaken {gap:.2f} s after its attempt')
            assert second.headers['webhook-id'] == first.headers['webhook-id'], second.headers
            assert gap >= 0.8 * LEASE, f'sent again after {gap:.2f} s, within the {LEASE} s lease'
            time.sleep(3.0)  # the woken daemon reads its late answer and records what it may
            assert len(rx.requests) == 2, [(q.path, q.headers['webhook-id'])
                                           for q in rx.requests]
            group.assert_alive()
            wait_until(lambda: settled(group.confs[frozen_no], notifiers), 10, 'nothing pending')
            st = notifier_status(group.confs[frozen_no], 'a')
            assert (st['delivered'], st['pending'], st['failed']) == (1, 0, 0), st
            late = frozen.log_text()[log_at:]
            assert not error_lines(late), late
            # Awake, it reads its folder and its alerts go out once, like any instance's.
            group.drop('second.md', {frozen_no: records_digest(range(10, 20))})
            expected = keys_of(range(20), notifiers)
            wait_until(lambda: expected <= set(arrived(rx)), 20, "the woken instance's alerts")
            time.sleep(SETTLE)
            assert set(arrived(rx)) == expected
            assert sorted(sends(rx).values()) == [1, 2], sends(rx)
            assert sends(rx)[first.headers['webhook-id']] == 2, sends(rx)
            wait_until(lambda: settled(group.confs[0], notifiers), 10, 'nothing pending')
            out = text(pw('status', '-c', group.confs[0]).stdout)
            assert re.search(r'^a +2 +0 +- +0 +-$', out, re.M), out
            group.assert_alive()
            assert not error_lines(frozen.log_text()[log_at:]), frozen.log_text()[log_at:]


@test
def a_database_away_for_ten_seconds_loses_no_alert_and_stops_no_daemon():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx)
        # Not verbose: what a daemon says of the database is its own lines, not every retry.
        with Instances(pg, notifiers, RULES, verbose=False, delivery=FAST) as group:
            group.start()
            expected = overlapping(group, 'before', 0, notifiers)
            wait_until(lambda: expected <= set(arrived(rx)), 30, 'the first alerts')
            # Every delivery recorded before the database goes: nothing is in flight.
            wait_until(lambda: settled(group.confs[0], notifiers), 10, 'nothing pending')
            at_stop = [len(d.log_text()) for d in group]
            pg.stop()
            down_at, k = time.monotonic(), 0
            while time.monotonic() - down_at < OUTAGE:
                if time.monotonic() - down_at >= k:  # a round of digests each second
                    expected |= overlapping(group, f'down{k}', 40 + 40 * k, notifiers)
                    k += 1
                group.assert_alive()
                time.sleep(0.1)
            at_start = [len(d.log_text()) for d in group]
            pg.start()
            expected |= overlapping(group, 'after', 40 + 40 * k, notifiers)

            def all_arrived():
                group.assert_alive()
                return expected <= set(arrived(rx))
            wait_until(all_arrived, 60, 'every alert once the database is back')
            time.sleep(SETTLE)
            exactly_once(rx, expected)
            group.assert_alive()
            for i, d in enumerate(group):
                log = d.log_text()
                lost, back = log[at_stop[i]:at_start[i]], log[at_start[i]:]
                said = [line for line in log[at_stop[i]:].splitlines()
                        if re.search(r'database|postgres', line, re.I)]
                assert re.search(r'database|postgres', lost, re.I), f'instance {i}:\n{lost}'
                assert re.search(r'database|postgres', back, re.I), f'instance {i}:\n{back}'
                assert len(said) <= 4, f'instance {i} said it {len(said)} times:\n' + \
                    '\n'.join(said)


def slack_papers(q):
    """The arXiv ids a Slack request links, in its order."""
    return [m for b in q.json()['blocks'] if b.get('type') == 'section'
            for m in re.findall(r'<https://arxiv\.org/abs/(\d{4}\.\d{5})(?:v\d+)?\|',
                                b['text']['text'])]


@test
def three_daemons_keep_slacks_second_between_requests_between_them():
    certs = make_certs(os.path.join(tmpdir(), 'certs'))
    who = []  # per request, the instances connected to the receiver as it arrived
    group = None
    with PgServer() as pg, Receiver(tls=certs, default=Reply(200, 'ok', close=True),
                                    on_request=lambda q: who.append(
                                        group.connected_to(rx.port) if group else [])) as rx:
        slack = {'name': 'slack', 'type': 'slack', 'ca_file': certs.ca_file,
                 'url': f'{rx.url}/services/T0001/B0001/{SLACK_TOKEN}'}
        with Instances(pg, [slack], RULES[:1], delivery=FAST) as group:
            group.start()
            expected = []
            for f in range(3):  # nine digests of new papers, three per inbox, all at once
                texts = {}
                for i in range(3):
                    ids = range(100 * f + 10 * i, 100 * f + 10 * i + 5)
                    texts[i] = records_digest(ids)
                    expected += [f'2502.{x:05d}' for x in ids]
                group.drop(f'd{f}.md', texts)
            wait_until(lambda: sorted(p for q in rx.requests for p in slack_papers(q))
                       == sorted(expected), 60, 'every paper at Slack')
            time.sleep(SETTLE)
            reqs = sorted(rx.requests, key=lambda q: q.started)
            assert sorted(p for q in reqs for p in slack_papers(q)) == sorted(expected)
            gaps = [b.started - a.started for a, b in zip(reqs, reqs[1:])]
            senders = collections.Counter(tuple(w) for w in who)
            print(f'# {len(reqs)} requests, the shortest gap {min(gaps):.3f} s; '
                  f'sent by {dict(senders)}')
            assert min(gaps) >= 0.95, [f'{g:.3f}' for g in gaps]
            group.assert_alive()


@test
def a_retry_after_told_to_one_daemon_holds_back_the_others():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx, ('a',))
        rx.push(Reply(429, 'slow down', headers={'Retry-After': '2'}), path='/a')
        # retry_max caps a Retry-After: here it is above the two seconds asked for.
        with Instances(pg, notifiers, RULES, delivery=dict(FAST, retry_max='5s')) as group:
            group.start()
            group.drop('first.md', {0: records_digest(range(10))})
            (told,) = rx.wait_for(1, 10)
            time.sleep(0.3)  # the answer is recorded before the others have anything to send
            group.drop('second.md', {1: records_digest(range(10, 20))})
            group.drop('third.md', {2: records_digest(range(20, 30))})
            expected = keys_of(range(30), notifiers)
            wait_until(lambda: expected <= set(arrived(rx, answered=True)), 20, 'every alert')
            early = [f'{q.started - told.completed:.3f}' for q in rx.requests[1:]
                     if q.started < told.completed + 1.9]
            assert not early, f'sent {early} s after a Retry-After of 2 s'
            time.sleep(SETTLE)
            assert all(len(v) == 1 for v in arrived(rx, answered=True).values())
            group.assert_alive()


@test
def daemons_create_their_schema_and_check_config_names_an_unreachable_database_and_why():
    with PgServer() as pg, Receiver() as rx:
        notifiers = hooks(rx, ('a',))
        assert pg.tables() == [], pg.tables()
        with Instances(pg, notifiers, RULES, delivery=FAST) as group:
            # Three at once on an empty database: one creates the schema, none trips on it.
            group.start()
            tables = pg.tables()
            p = pw('check-config', '-c', group.confs[0])
            assert p.returncode == 0 and 'ok' in text(p.stdout), text(p.stdout) + text(p.stderr)
            group.drop('a.md', {0: records_digest(range(10)), 1: records_digest(range(5, 15))})
            expected = keys_of(range(15), notifiers)
            wait_until(lambda: expected <= set(arrived(rx)), 20, 'every alert')
            for d in group:
                assert d.stop() == 0, d.log_text()
            group.start()  # again, on the schema they made
            assert pg.tables() == tables, (tables, pg.tables())
            group.drop('b.md', {2: records_digest(range(10, 20))})
            expected |= keys_of(range(15, 20), notifiers)
            wait_until(lambda: expected <= set(arrived(rx)), 20, 'the alerts after a restart')
            time.sleep(SETTLE)
            exactly_once(rx, expected)

        # Where no server listens: one line, naming the database and why, and no password.
        p, nowhere = unreachable(pg, notifiers, 'check-config')
        out = text(p.stdout) + text(p.stderr)
        lines = [line for line in out.splitlines() if line.strip() and 'warning' not in line]
        assert p.returncode != 0, out
        assert PASSWORD not in out, out
        assert len(lines) == 1, out
        assert nowhere in lines[0] or 'database' in lines[0].lower(), lines[0]
        assert re.search(r'no such file|refused|could not|cannot|failed|unreachable', lines[0],
                         re.I), lines[0]


def unreachable(pg, notifiers, *command):
    """Runs a command on a configuration whose state (a URI with a password) names a socket
    folder where no server listens, beside pg's; returns its CompletedProcess and the folder."""
    d = tmpdir()
    nowhere = tempfile.mkdtemp(prefix='pw-pg-none-', dir='/tmp')
    try:
        conf = write_config(os.path.join(d, 'bad.conf'), notifiers, RULES,
                            watch={'dir': d}, state=f'postgresql://paperwatch:{PASSWORD}@'
                                                    f'/paperwatch?host={nowhere}&port={pg.port}')
        p = pw(*command, '-c', conf, timeout=30)
    finally:
        shutil.rmtree(nowhere)
    return p, nowhere


@test
def a_password_in_the_state_uri_is_never_shown_by_check_config_status_or_the_daemon():
    with PgServer() as pg:
        notifiers = [{'name': 'a', 'type': 'webhook', 'url': 'http://127.0.0.1:9/a'}]
        d = tmpdir()
        inbox = os.path.join(d, 'inbox')
        os.mkdir(inbox)
        conf = write_config(os.path.join(d, 'pw.conf'), notifiers, RULES,
                            state=pg.uri(password=PASSWORD), watch={'dir': inbox})
        with Daemon(conf, d).start() as daemon:
            assert daemon.stop() == 0
            assert PASSWORD not in daemon.log_text(), daemon.log_text()
        for args in (['check-config'], ['status'], ['status', '--json']):
            p = pw(*args, '-c', conf)
            out = text(p.stdout) + text(p.stderr)
            assert p.returncode == 0 and PASSWORD not in out, (args, out)
        # Unreachable, status fails (a script must not read nothing as all well), naming the
        # database but not the password.
        for args in (['status'], ['status', '--json']):
            p, nowhere = unreachable(pg, notifiers, *args)
            out = text(p.stdout) + text(p.stderr)
            assert PASSWORD not in out, (args, out)
            assert p.returncode != 0, (args, p.returncode, out)
            assert nowhere in out or 'database' in out.lower(), (args, out)


@test
def an_sqlite_state_imported_alerts_nothing_again_and_a_second_import_adds_nothing():
    with Receiver() as rx, PgServer() as pg:
        notifiers = hooks(rx, names=('a',))
        d = tmpdir()
        inbox = os.path.join(d, 'inbox')
        os.mkdir(inbox)
        sqlite = os.path.join(d, 'state.db')
        old = write_config(os.path.join(d, 'old.conf'), notifiers, RULES, state=sqlite,
                           watch={'dir': inbox}, delivery=FAST)
        new = write_config(os.path.join(d, 'new.conf'), notifiers, RULES, state=pg.uri(),
                           watch={'dir': inbox}, delivery=FAST)
        first = os.path.join(inbox, 'first.txt')
        with open(first, 'w') as f:
            f.write(records_digest(range(1, 11)))
        with Daemon(old, d).start() as daemon:
            rx.wait_until(lambda r: len(arrived(r)) == 20, timeout=20)
            # The state is in use: nothing moves.
            p = pw('import', '-c', new, sqlite)
            assert p.returncode == 1, text(p.stdout + p.stderr)
            assert 'stop the paperwatch' in text(p.stderr), text(p.stderr)
            assert daemon.stop() == 0
        assert pg.sql('SELECT count(*) FROM alerts') == ['0']
        p = pw('import', '-c', new, sqlite)
        assert p.returncode == 0, text(p.stdout + p.stderr)
        assert re.search(r'(\d+) records, \1 of them new', text(p.stdout)), text(p.stdout)
        assert pg.sql('SELECT count(*) FROM alerts') == ['20']
        p = pw('import', '-c', new, sqlite)
        assert ' 0 of them new' in text(p.stdout), text(p.stdout)
        # The PostgreSQL daemon on the same folder: the old digest is known, a new one with
        # three old papers and five new alerts only the new.
        with open(os.path.join(inbox, 'second.txt'), 'w') as f:
            f.write(records_digest(range(8, 16)))
        before = len(rx.requests)
        with Daemon(new, d).start():
            rx.wait_until(lambda r: len(arrived(r)) == 30, timeout=20)
            time.sleep(SETTLE)
        assert len(rx.requests) == before + 1, [q.path for q in rx.requests]
        exactly_once(rx, keys_of(range(1, 16), notifiers))


@test
def a_daemon_started_while_the_database_is_away_waits_for_it_and_loses_nothing():
    with Receiver() as rx, PgServer() as pg:
        d, inbox, conf, notifiers = one_daemon(pg, rx)
        pg.stop()
        with open(os.path.join(inbox, 'early.txt'), 'w') as f:
            f.write(records_digest(range(1, 6)))
        with Daemon(conf, d).start() as daemon:
            with open(os.path.join(inbox, 'later.txt'), 'w') as f:
                f.write(records_digest(range(4, 9)))
            time.sleep(1)
            assert not rx.requests
            pg.start()
            rx.wait_until(lambda r: len(arrived(r)) == 16, timeout=30)
            time.sleep(SETTLE)
            assert daemon.stop() == 0
            log = daemon.log_text()
        exactly_once(rx, keys_of(range(1, 9), notifiers))
        errors = [l for l in log.splitlines() if ' error: ' in l]
        assert len(errors) == 1 and 'waits for it' in errors[0], errors
        assert 'the database is back' in log, log


def server_processes(pg):
    """The postmaster and every process it started: each backend is a session of its own, so
    a signal to the postmaster's group would miss them."""
    parents = {}
    for entry in os.listdir('/proc'):
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    return [pg.pid] + [pid for pid, ppid in parents.items() if ppid == pg.pid]


@test
def a_daemon_waiting_on_a_frozen_database_keeps_its_watchdog_fed():
    with Receiver() as rx, PgServer() as pg:
        d, inbox, conf, notifiers = one_daemon(pg, rx)
        with Daemon(conf, d, watchdog_usec=3_000_000).start() as daemon:
            server = server_processes(pg)
            for pid in server:
                os.kill(pid, signal.SIGSTOP)
            try:
                with open(os.path.join(inbox, 'frozen.txt'), 'w') as f:
                    f.write(records_digest(range(1, 6)))
                frozen = time.monotonic()
                time.sleep(6)
            finally:
                for pid in server:
                    os.kill(pid, signal.SIGCONT)
            pings = [t for t, n in daemon.notes if 'WATCHDOG=1' in n and t >= frozen]
            rx.wait_until(lambda r: len(arrived(r)) == 10, timeout=30)
            assert rx.requests[0].started - frozen > 5, 'sent while the server was frozen' 
            assert daemon.stop() == 0
        # The daemon waited on the database all that time: the loop was held, not hung.
        gaps = [b - a for a, b in zip([frozen] + pings, pings + [frozen + 6])]
        print(f'# {len(pings)} pings while frozen, the longest gap {max(gaps):.2f} s')
        assert max(gaps) < 3.0, gaps
        exactly_once(rx, keys_of(range(1, 6), notifiers))


@test
def retry_from_another_host_is_heard_and_sent_by_a_running_instance():
    with Receiver() as rx, PgServer() as pg:
        d, inbox, conf, notifiers = one_daemon(pg, rx)
        rx.push(Reply(404, 'no such hook'), path='/a')  # failed for good, once
        other = tmpdir()  # another host's configuration: its own folder, the same database
        os.mkdir(os.path.join(other, 'inbox'))
        elsewhere = write_config(os.path.join(other, 'pw.conf'), notifiers, RULES,
                                 state=pg.uri(), watch={'dir': os.path.join(other, 'inbox')})
        with Daemon(conf, d).start() as daemon:
            with open(os.path.join(inbox, 'd.txt'), 'w') as f:
                f.write(records_digest(range(1, 4)))
            wait_until(lambda: notifier_status(elsewhere, 'a')['failed'] == 1, 20,
                       'the message to fail')
            p = pw('retry', '-c', elsewhere, 'a')
            assert p.returncode == 0, text(p.stdout + p.stderr)
            assert 'send them now' in text(p.stdout), text(p.stdout)
            asked = time.monotonic()
            rx.wait_for(2, timeout=10)
            assert rx.requests[1].started - asked < 2.0, 'not heard at once'
            wait_until(lambda: notifier_status(elsewhere, 'a')['delivered'] == 1, 10,
                       'the delivery to be recorded')
            assert daemon.stop() == 0
        first, second = rx.requests
        assert first.headers['webhook-id'] == second.headers['webhook-id']
        assert second.reply.status == 200


if __name__ == '__main__':
    run()
