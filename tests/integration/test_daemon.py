#!/usr/bin/env python3
"""test_daemon.py — `paperwatch run` for real: files written into a watched folder every way
people and programs write them, restarts, a folder that disappears, reloads, signals, and the
systemd notify protocol. Each paper must be alerted exactly once."""
import collections
import os
import re
import shutil
import signal
import sqlite3
import tempfile
import time

from harness import (test, run, write_config, read_jsonl, wait_until, Daemon, tmpdir,
                     digests, pw, text, TIME_SCALE)
from receiver import Receiver, Reply

ALL = {'name': 'all', 'query': 'id:2*'}


def fast_base():
    """/dev/shm for the tests that write tens of thousands of files, when it is roomy (a
    container's is often 64 MB); the usual temporary folder otherwise."""
    try:
        st = os.statvfs('/dev/shm')
        if st.f_bavail * st.f_frsize > (1 << 30):
            return '/dev/shm'
    except OSError:
        pass
    return None


def digest_text(first, n):
    """A records digest of n papers with ids 2501.<first> ... (every one matches ALL)."""
    return ''.join(f'Title: Paper number {i}\nPDF: https://arxiv.org/pdf/2501.{i:05d}\n'
                   f'Summary: A summary of paper {i}.\n---\n' for i in range(first, first + n))


class Setup:
    """A folder, a configuration whose file channel writes out.jsonl, and the daemon."""

    def __init__(self, base=None, notifiers=None, rules=(ALL,), **daemon_args):
        self.dir = tempfile.mkdtemp(prefix='pw-daemon-', dir=base)
        self.inbox = os.path.join(self.dir, 'inbox')
        os.mkdir(self.inbox)
        self.out = os.path.join(self.dir, 'out.jsonl')
        self.notifiers = notifiers or [{'name': 'out', 'type': 'file', 'path': self.out}]
        self.rules = list(rules)
        self.write_conf()
        self.daemon = Daemon(self.conf, self.dir, **daemon_args)
        self._seen, self._offset = 0, 0

    def write_conf(self, **extra):
        groups = dict(state=os.path.join(self.dir, 'state.db'), watch={'dir': self.inbox},
                      delivery={'retry_base': '200ms', 'retry_max': '1s',
                                'shutdown_grace': '1s'})
        groups.update(extra)
        self.conf = write_config(os.path.join(self.dir, 'pw.conf'), self.notifiers, self.rules,
                                 **groups)

    def alerted(self):
        return [p['id'] for p in read_jsonl(self.out)]

    def count_alerted(self):
        """Lines written so far, reading only what is new (the file grows to 20,000 lines)."""
        try:
            with open(self.out, 'rb') as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return 0
        self._offset += len(chunk)
        self._seen += chunk.count(b'\n')
        return self._seen

    def wait_alerted(self, n, timeout=30):
        wait_until(lambda: self.count_alerted() >= n, timeout, f'{n} alerts')
        return self.alerted()

    def drop(self, name, text):
        """Writes a file the safe way: a hidden temporary name, then a rename into place."""
        tmp = os.path.join(self.inbox, '.' + name + '.tmp')
        with open(tmp, 'w') as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.inbox, name))


def assert_once(ids, expected):
    dup = [i for i, c in collections.Counter(ids).items() if c > 1]
    assert not dup, f'alerted twice: {dup[:5]}'
    assert set(ids) == set(expected), (len(ids), len(expected))


def ids(first, n):
    return [f'2501.{i:05d}' for i in range(first, first + n)]


@test
def files_waiting_at_start_are_processed_before_ready():
    s = Setup()
    s.drop('a.md', digest_text(0, 5))
    with s.daemon.start():
        assert_once(s.alerted(), ids(0, 5))  # READY=1 came after the start-up scan
        assert s.daemon.stop() == 0


@test
def a_renamed_in_file_is_processed_once():
    s = Setup()
    with s.daemon.start():
        s.drop('a.md', digest_text(0, 5))
        s.wait_alerted(5)
        time.sleep(0.3)
        assert_once(s.alerted(), ids(0, 5))
        assert s.daemon.stop() == 0


@test
def a_copied_file_is_processed_once_when_complete():
    s = Setup()
    with s.daemon.start():
        shutil.copy(digests()[1], os.path.join(s.inbox, 'copy.md'))
        s.wait_alerted(100)
        time.sleep(0.3)
        assert len(s.alerted()) == 100 == len(set(s.alerted()))
        assert s.daemon.stop() == 0


@test
def a_file_written_slowly_in_chunks_is_processed_once_complete():
    s = Setup()
    text = digest_text(0, 20)
    with s.daemon.start():
        with open(os.path.join(s.inbox, 'slow.md'), 'w') as f:
            for k in range(10):
                f.write(text[k * len(text) // 10:(k + 1) * len(text) // 10])
                f.flush()
                time.sleep(0.2)
        s.wait_alerted(20)
        time.sleep(0.3)
        assert_once(s.alerted(), ids(0, 20))
        assert 'slow.md: 20 papers' in s.daemon.log_text()
        assert s.daemon.stop() == 0


@test
def an_appended_digest_alerts_only_its_new_papers():
    s = Setup()
    with s.daemon.start():
        path = os.path.join(s.inbox, 'grow.md')
        with open(path, 'w') as f:
            f.write(digest_text(0, 5))
        s.wait_alerted(5)
        with open(path, 'a') as f:
            f.write(digest_text(5, 3))
        s.wait_alerted(8)
        time.sleep(0.3)
        assert_once(s.alerted(), ids(0, 8))
        assert s.daemon.stop() == 0


@test
def a_file_opened_and_closed_without_change_is_not_processed_again():
    s = Setup()
    with s.daemon.start():
        s.drop('a.md', digest_text(0, 5))
        s.wait_alerted(5)
        path = os.path.join(s.inbox, 'a.md')
        open(path, 'a').close()      # opened for writing, nothing written
        os.utime(path)               # touched: new mtime, same bytes
        time.sleep(0.5)
        assert s.daemon.log_text().count('a.md: 5 papers') == 1
        assert_once(s.alerted(), ids(0, 5))
        assert s.daemon.stop() == 0


@test
def a_file_hashed_by_an_earlier_version_is_read_again_and_alerts_nothing_twice():
    s = Setup()
    with s.daemon.start():
        s.drop('a.md', digest_text(0, 5))
        s.wait_alerted(5)
        assert s.daemon.stop() == 0
    db = sqlite3.connect(os.path.join(s.dir, 'state.db'))
    with db:  # the SHA-256 an earlier version recorded, 64 digits
        db.execute("UPDATE files SET hash = ? WHERE name = 'a.md'", ('ab' * 32,))
    db.close()
    with s.daemon.start():
        os.utime(os.path.join(s.inbox, 'a.md'))  # touched: the same bytes
        wait_until(lambda: s.daemon.log_text().count('a.md: 5 papers') == 2, 10,
                   'the file read again')
        time.sleep(0.3)
        assert_once(s.alerted(), ids(0, 5))
        assert s.daemon.stop() == 0


@test
def a_burst_of_2000_files_in_a_second_alerts_each_paper_once():
    s = Setup(base=fast_base())
    with s.daemon.start():
        start = time.monotonic()
        for k in range(2000):
            s.drop(f'd{k:04d}.md', digest_text(k * 2, 2))
        assert time.monotonic() - start < 5
        s.wait_alerted(4000, timeout=120)
        time.sleep(0.5)
        assert_once(s.alerted(), ids(0, 4000))
        assert s.daemon.stop() == 0
    shutil.rmtree(s.dir)


@test
def a_stopped_daemon_misses_nothing_when_its_event_queue_overflows():
    s = Setup(base=fast_base())
    with s.daemon.start():
        s.daemon.signal(signal.SIGSTOP)
        for k in range(20000):  # more events than the kernel queues (16384 by default)
            s.drop(f'd{k:05d}.md', digest_text(k, 1))
        s.daemon.signal(signal.SIGCONT)
        s.wait_alerted(20000, timeout=300)
        time.sleep(0.5)
        assert_once(s.alerted(), ids(0, 20000))
        assert 'some were lost; reading the whole folder again' in s.daemon.log_text()
        assert s.daemon.stop() == 0
    shutil.rmtree(s.dir)


@test
def after_a_restart_new_files_are_processed_and_nothing_is_repeated():
    s = Setup()
    s.daemon.start()
    s.drop('a.md', digest_text(0, 5))
    s.wait_alerted(5)
    assert s.daemon.stop() == 0
    s.drop('b.md', digest_text(5, 5))        # arrives while nobody watches
    s.drop('c.md', digest_text(0, 10))       # half of it was alerted before
    with s.daemon.start():
        assert_once(s.alerted(), ids(0, 10))
        assert s.daemon.stop() == 0


@test
def a_folder_deleted_and_recreated_is_watched_again():
    s = Setup()
    with s.daemon.start():
        s.drop('a.md', digest_text(0, 2))
        s.wait_alerted(2)
        shutil.rmtree(s.inbox)
        wait_until(lambda: 'waiting for it to come back' in s.daemon.log_text(), 10,
                   'the folder to be missed')
        os.mkdir(s.inbox)
        s.drop('b.md', digest_text(2, 2))
        s.wait_alerted(4)
        assert_once(s.alerted(), ids(0, 4))
        assert s.daemon.stop() == 0


@test
def a_folder_that_does_not_exist_yet_is_waited_for():
    s = Setup()
    shutil.rmtree(s.inbox)
    with s.daemon.start():
        os.makedirs(s.inbox)
        s.drop('a.md', digest_text(0, 3))
        s.wait_alerted(3)
        assert s.daemon.stop() == 0


@test
def sighup_with_a_good_configuration_applies_new_rules_and_keeps_the_queue():
    with Receiver() as r:
        r.push(Reply(hang=True))  # the first send is in flight during the reload
        s = Setup(notifiers=[{'name': 'hook', 'type': 'webhook', 'url': r.url, 'timeout': '2s'}],
                  rules=[{'name': 'first', 'query': 'id:2501.00000'}])
        with s.daemon.start():
            s.drop('a.md', digest_text(0, 2))
            r.wait_for(1)
            s.rules = [{'name': 'first', 'query': 'id:2501.00000'},
                       {'name': 'second', 'query': 'id:2501.00001'}]
            s.write_conf()
            mark = len(s.daemon.notes)
            s.daemon.signal(signal.SIGHUP)
            s.daemon.wait_note('READY=1', after=mark)
            s.drop('b.md', digest_text(0, 2))
            got = r.wait_for(3, timeout=20)  # hung first try, its retry, and b.md's message
            ids_seen = {(p['id'], tuple(p['rules'])) for q in got[1:] for p in q.json()['papers']}
            assert ('2501.00000', ('first',)) in ids_seen
            assert ('2501.00001', ('second',)) in ids_seen
            assert s.daemon.stop() == 0


@test
def sighup_that_adds_a_webhook_to_a_file_only_configuration_sends_through_it():
    # With no network notifier the daemon never started libcurl: the reload does.
    with Receiver() as r:
        s = Setup()
        with s.daemon.start():
            s.drop('a.md', digest_text(0, 1))
            s.wait_alerted(1)
            s.notifiers = s.notifiers + [{'name': 'hook', 'type': 'webhook', 'url': r.url}]
            s.write_conf()
            mark = len(s.daemon.notes)
            s.daemon.signal(signal.SIGHUP)
            s.daemon.wait_note('READY=1', after=mark)
            s.drop('b.md', digest_text(1, 2))
            got = r.wait_for(1, timeout=20)
            assert [p['id'] for p in got[0].json()['papers']] == ids(1, 2)
            s.wait_alerted(3)
            assert s.daemon.stop() == 0


@test
def libcurl_is_loaded_only_once_a_notifier_needs_the_network():
    # A file-only configuration never maps libcurl and the 28 libraries it brings (6 MiB).
    def mapped():
        with open(f'/proc/{s.daemon.proc.pid}/maps') as f:
            return 'libcurl' in f.read()
    s = Setup()
    with s.daemon.start():
        assert not mapped()
        s.notifiers = s.notifiers + [{'name': 'hook', 'type': 'webhook',
                                      'url': 'http://127.0.0.1:9/'}]
        s.write_conf()
        mark = len(s.daemon.notes)
        s.daemon.signal(signal.SIGHUP)
        s.daemon.wait_note('READY=1', after=mark)
        assert mapped()
        assert s.daemon.stop() == 0


@test
def pcre2_and_libstemmer_are_loaded_only_once_a_rule_needs_them():
    # Keyword rules need neither: PCRE2 comes with the first regular expression, libstemmer
    # with the first like rule's library.
    def mapped(lib):
        with open(f'/proc/{s.daemon.proc.pid}/maps') as f:
            return lib in f.read()
    s = Setup(rules=[{'name': 'word', 'query': 'zebra'}])
    with s.daemon.start():
        assert not mapped('libpcre2') and not mapped('libstemmer')
        assert 'regular expressions:' not in s.daemon.log_text()
        s.rules = [{'name': 'rx', 'query': '/number [0-9]+/'}]
        s.write_conf()
        mark = len(s.daemon.notes)
        s.daemon.signal(signal.SIGHUP)
        s.daemon.wait_note('READY=1', after=mark)
        assert mapped('libpcre2') and not mapped('libstemmer')
        assert s.daemon.log_text().count('regular expressions:') == 1, s.daemon.log_text()
        s.drop('a.md', digest_text(0, 2))
        assert s.wait_alerted(2) == ids(0, 2)
        assert s.daemon.stop() == 0


@test
def sighup_with_a_broken_configuration_keeps_the_old_one_and_names_the_line():
    s = Setup()
    with s.daemon.start():
        with open(s.conf, 'a') as f:
            f.write('rules = oops;\n')
        mark = len(s.daemon.notes)
        s.daemon.signal(signal.SIGHUP)
        s.daemon.wait_note('READY=1', after=mark)
        log = s.daemon.log_text()
        assert 'pw.conf:' in log and 'the one loaded before stays in force' in log, log
        s.drop('a.md', digest_text(0, 2))
        s.wait_alerted(2)
        assert s.daemon.stop() == 0


@test
def sigterm_with_a_send_in_flight_exits_0_and_the_message_goes_after_restart():
    with Receiver() as r:
        r.push(Reply(hang=True))
        s = Setup(notifiers=[{'name': 'hook', 'type': 'webhook', 'url': r.url}])
        s.daemon.start()
        s.drop('a.md', digest_text(0, 3))
        first = r.wait_for(1)[0]
        t = time.monotonic()
        assert s.daemon.stop() == 0
        assert time.monotonic() - t < 5  # the grace period is 1 s
        with s.daemon.start():
            second = r.wait_for(2)[1]
            assert second.headers['webhook-id'] == first.headers['webhook-id']
            assert [p['id'] for p in second.json()['papers']] == ids(0, 3)
            assert s.daemon.stop() == 0


@test
def sigkill_during_delivery_then_restart_loses_nothing():
    with Receiver() as r:
        r.push(Reply(delay=2))
        s = Setup(notifiers=[{'name': 'hook', 'type': 'webhook', 'url': r.url}])
        s.daemon.start()
        s.drop('a.md', digest_text(0, 4))
        r.wait_for(1)
        s.daemon.kill()
        with s.daemon.start():
            wait_until(lambda: len([q for q in r.requests if q.complete]) >= 2, 20,
                       'the message to be sent again')
            keys = {q.headers['webhook-id'] for q in r.requests}
            assert len(keys) == 1  # a repeat carries the same id, so a receiver can drop it
            assert s.daemon.stop() == 0


@test
def the_notify_protocol_says_ready_status_watchdog_reloading_and_stopping():
    s = Setup(watchdog_usec=200000)
    s.daemon.start()
    s.drop('a.md', digest_text(0, 3))
    s.wait_alerted(3)
    # Deliveries count too: the line follows them, not only the files.
    s.daemon.wait_note('STATUS=1 file, 3 papers, 3 alerts; 1 message delivered (3 papers), '
                       '0 pending, 0 failed')
    time.sleep(0.5)
    pings = [t for t, n in s.daemon.notes if 'WATCHDOG=1' in n]
    assert len(pings) >= 3, pings
    # Half of WATCHDOG_USEC; under valgrind a ping is late while a digest is read.
    assert all(b - a < 0.2 * TIME_SCALE for a, b in zip(pings, pings[1:]))
    mark = len(s.daemon.notes)
    s.daemon.signal(signal.SIGHUP)
    s.daemon.wait_note('READY=1', after=mark)
    reload_notes = [n for _, n in s.daemon.notes[mark:] if 'WATCHDOG' not in n]
    assert reload_notes[0].startswith('RELOADING=1\nMONOTONIC_USEC='), reload_notes
    assert 'READY=1' in reload_notes[-1]
    assert s.daemon.stop() == 0
    assert any('STOPPING=1' in n for _, n in s.daemon.notes)
    first = [n for _, n in s.daemon.notes if 'READY=1' in n][0]
    assert 'STATUS=' in first


@test
def the_watchdog_is_pinged_only_when_watchdog_pid_is_unset_or_names_this_process():
    # systemd sets WATCHDOG_PID to the service's main process: another process that inherits the
    # variables, such as a daemon a script under the service starts, must not ping in its name.
    other = Setup(watchdog_usec=100000, env={'WATCHDOG_PID': str(os.getpid())})
    with other.daemon.start():
        time.sleep(0.5 * TIME_SCALE)  # ten intervals
        assert not any('WATCHDOG=1' in n for _, n in other.daemon.notes), other.daemon.notes
        assert other.daemon.stop() == 0
    # The shell's pid is the daemon's once it execs it.
    own = Setup(watchdog_usec=100000,
                prefix=['/bin/sh', '-c', 'WATCHDOG_PID=$$ exec "$0" "$@"'])
    with own.daemon.start():
        own.daemon.wait_note('WATCHDOG=1', timeout=5)
        assert own.daemon.stop() == 0


@test
def a_burst_of_files_is_a_few_status_lines_not_one_per_file():
    s = Setup()
    with s.daemon.start():
        s.daemon.wait_note('READY=1')
        mark = len(s.daemon.notes)
        for i in range(40):
            s.drop(f'd{i:02}.md', digest_text(i * 2, 2))
        s.wait_alerted(80)
        s.daemon.wait_note('STATUS=40 files, 80 papers, 80 alerts; 40 messages delivered '
                           '(80 papers), 0 pending, 0 failed', after=mark)
        lines = [n for _, n in s.daemon.notes[mark:] if 'STATUS=' in n]
        # At most one a second: the burst takes far less than 40 seconds.
        assert len(lines) < 20, lines
        assert s.daemon.stop() == 0


@test
def an_idle_daemon_makes_no_wakeups():
    s = Setup()
    with s.daemon.start():
        time.sleep(0.5)
        with open(f'/proc/{s.daemon.proc.pid}/status') as f:
            before = {l.split(':')[0]: int(l.split()[1]) for l in f
                      if 'voluntary_ctxt_switches' in l}
        time.sleep(3)
        with open(f'/proc/{s.daemon.proc.pid}/status') as f:
            after = {l.split(':')[0]: int(l.split()[1]) for l in f
                     if 'voluntary_ctxt_switches' in l}
        assert after == before, (before, after)
        assert s.daemon.stop() == 0


@test
def logs_carry_journal_priorities_when_stderr_is_the_journal():
    s = Setup()
    log = open(s.daemon.log_path, 'ab')
    st = os.fstat(log.fileno())
    log.close()
    s.daemon.extra_env = {'JOURNAL_STREAM': f'{st.st_dev}:{st.st_ino}'}
    with s.daemon.start():
        s.drop('bad.md', 'not a digest at all\n')
        wait_until(lambda: 'bad.md' in s.daemon.log_text(), 10, 'the bad file to be named')
        assert s.daemon.stop() == 0
    lines = s.daemon.log_text().splitlines()
    assert any(l.startswith('<6>watching ') for l in lines), lines
    assert any(l.startswith('<3>') and 'bad.md' in l for l in lines), lines


@test
def symlinks_out_of_the_folder_and_fifos_are_left_alone():
    s = Setup()
    outside = os.path.join(s.dir, 'outside.md')
    with open(outside, 'w') as f:
        f.write(digest_text(0, 2))
    with s.daemon.start():
        os.symlink(outside, os.path.join(s.inbox, 'link.md'))
        os.mkfifo(os.path.join(s.inbox, 'pipe.md'))
        s.drop('good.md', digest_text(10, 1))
        s.wait_alerted(1)
        time.sleep(0.3)
        assert s.alerted() == ['2501.00010']
        assert s.daemon.proc.poll() is None
        assert s.daemon.stop() == 0


@test
def a_bad_configuration_exits_2_and_a_damaged_state_exits_3():
    s = Setup()
    with open(s.conf, 'a') as f:
        f.write('nonsense = ;\n')
    s.daemon.start(ready=False)
    assert s.daemon.proc.wait(10) == 2
    s.daemon._close()
    s.write_conf()
    with open(os.path.join(s.dir, 'state.db'), 'wb') as f:
        f.write(b'not a database' * 100)
    s.daemon.start(ready=False)
    assert s.daemon.proc.wait(10) == 3
    s.daemon._close()
    assert 'move it aside' in s.daemon.log_text()


@test
def a_digest_read_only_partly_is_alerted_whole_and_counted_in_status():
    s = Setup()
    with s.daemon.start():
        s.daemon.wait_note('READY=1')
        # The second row has no title cell the table can read; its paper is the fallback's.
        s.drop('partly.md', '| Title | Authors | Summary |\n|---|---|---|\n'
               '| [Read](https://arxiv.org/abs/2501.00001) | A | S |\n'
               '| | B | see [Orphaned Paper](https://arxiv.org/abs/2501.00002) |\n')
        assert sorted(s.wait_alerted(2)) == ['2501.00001', '2501.00002']
        s.daemon.wait_note('STATUS=1 file (1 read only partly), 2 papers')
        s.drop('whole.md', digest_text(3, 1))
        s.wait_alerted(3)
        s.daemon.wait_note('STATUS=2 files (1 read only partly), 3 papers')
        log = s.daemon.log_text()
        assert 'partly.md' in log and '1 only by the fallback' in log and 'line 4' in log, log
    st = pw('status', '-c', s.conf)
    line = [l for l in text(st.stdout).splitlines() if l.startswith('digests read only partly')]
    assert line and line[0].startswith('digests read only partly: 1 (the latest partly.md, at '), \
        text(st.stdout)


@test
def a_digest_linked_into_the_folder_is_read():
    s = Setup()
    with s.daemon.start():
        outside = os.path.join(s.dir, 'elsewhere.md')
        with open(outside, 'w') as f:
            f.write(digest_text(0, 2))
        os.link(outside, os.path.join(s.inbox, 'hard.md'))  # `ln`: no write, no rename
        assert sorted(s.wait_alerted(2, timeout=10)) == ['2501.00000', '2501.00001']
        hidden = os.path.join(s.inbox, '.kept.md')  # hidden names are not read themselves
        with open(hidden, 'w') as f:
            f.write(digest_text(2, 2))
        os.symlink('.kept.md', os.path.join(s.inbox, 'soft.md'))  # `ln -s`, inside the folder
        assert len(set(s.wait_alerted(4, timeout=10))) == 4


@test
def a_service_manager_that_stops_reading_cannot_freeze_the_daemon():
    import socket
    import subprocess
    from harness import BINARY, WRAPPER
    s = Setup()
    sock_path = os.path.join(s.dir, 'deaf.sock')
    deaf = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    deaf.bind(sock_path)  # bound, never read: its queue fills after a few datagrams
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC='20000')  # a ping every 10 ms
    log = open(os.path.join(s.dir, 'deaf.log'), 'wb')
    proc = subprocess.Popen(WRAPPER + [BINARY, 'run', '-c', s.conf], stdout=log, stderr=log,
                            env=env, cwd=s.dir)
    try:
        time.sleep(2.0)  # far more pings than the queue holds
        s.drop('a.md', digest_text(0, 2))
        s.wait_alerted(2, timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        deaf.close()
        log.close()
    with open(os.path.join(s.dir, 'deaf.log'), encoding='utf-8', errors='replace') as f:
        text_ = f.read()
    assert 'not reading its notify socket' in text_, text_


@test
def a_symlink_swapped_between_event_and_open_never_gets_an_outside_file_read():
    s = Setup()
    outside = os.path.join(s.dir, 'secret.md')  # beside the folder, not in it
    with open(outside, 'w') as f:
        f.write(digest_text(900, 1))
    inside = os.path.join(s.inbox, '.real.md')  # hidden: read only through the link
    with open(inside, 'w') as f:
        f.write(digest_text(0, 1))
    link = os.path.join(s.inbox, 'swap.md')
    with s.daemon.start():
        deadline = time.monotonic() + 4.0
        n = 0
        while time.monotonic() < deadline:
            # A link to the inside file is offered; then, quickly, to the outside one.
            for target in ('.real.md', outside):
                tmp = os.path.join(s.inbox, '.swap.tmp')
                os.symlink(target, tmp)
                os.rename(tmp, link)
            n += 1
            if n % 50 == 0:
                os.utime(inside)  # a new stamp: the inside file is read again
        time.sleep(1.0)
    assert '2501.00900' not in s.alerted(), 'a file outside the folder was read'


@test
def a_digest_still_being_written_at_a_start_is_read_once_its_writer_closes_it():
    s = Setup()
    path = os.path.join(s.inbox, 'growing.md')
    whole = digest_text(12, 1)  # the paper 2501.00012
    cut = whole.index('2501.00012') + len('2501.0001')
    f = open(path, 'w')
    f.write(whole[:cut])  # the writer has got as far as "2501.0001", a different paper
    f.flush()
    try:
        with s.daemon.start():  # the start-up scan sees the file, still open for writing
            time.sleep(1.0)
            assert s.alerted() == [], s.alerted()
            f.write(whole[cut:])
            f.close()
            assert s.wait_alerted(1) == ['2501.00012']
            time.sleep(0.5)
            assert s.alerted() == ['2501.00012'], s.alerted()
    finally:
        if not f.closed:
            f.close()


@test
def the_file_channels_lines_carry_their_messages_key():
    s = Setup()
    with s.daemon.start():
        s.drop('a.md', digest_text(0, 3))
        s.wait_alerted(3)
        s.drop('b.md', digest_text(3, 2))
        s.wait_alerted(5)
    keys = [p['message'] for p in read_jsonl(s.out)]
    assert all(re.fullmatch(r'msg_[0-9a-f]{32}-0', k) for k in keys), keys
    assert len(set(keys[:3])) == 1 and len(set(keys[3:])) == 1 and keys[0] != keys[3], keys


if __name__ == '__main__':
    run()
