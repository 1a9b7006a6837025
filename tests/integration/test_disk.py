#!/usr/bin/env python3
"""test_disk.py — the state's disk fills up or turns read-only, the state file is damaged, the
folder cannot be read: each gets a clear message, loses nothing, and never crashes the daemon.
Filesystems are small tmpfs mounts made by the test (root and CAP_SYS_ADMIN needed: without
them these tests say so and are skipped)."""
import collections
import os
import shutil
import subprocess
import time

from harness import (test, run, write_config, read_jsonl, Daemon, tmpdir, wait_until, BINARY,
                     small_fs, fill)

ALL = {'name': 'all', 'query': 'id:2*'}
FAST = {'retry_base': '100ms', 'retry_max': '500ms', 'shutdown_grace': '1s'}


def digest_text(first, n):
    return ''.join(f'Title: Paper number {i}\nPDF: https://arxiv.org/pdf/2504.{i:05d}\n'
                   f'Summary: A summary of paper {i}.\n---\n' for i in range(first, first + n))


class Place:
    """A folder, an output file and a configuration whose state lives where the test says."""

    def __init__(self, state_dir, owner=None, out_dir=None):
        self.dir = tmpdir()
        self.inbox = os.path.join(self.dir, 'inbox')
        os.mkdir(self.inbox)
        self.out = os.path.join(out_dir or self.dir, 'out.jsonl')
        self.state = os.path.join(state_dir, 'state.db')
        self.conf = write_config(os.path.join(self.dir, 'pw.conf'),
                                 [{'name': 'out', 'type': 'file', 'path': self.out}], [ALL],
                                 state=self.state, watch={'dir': self.inbox}, delivery=FAST)
        if owner is not None:
            for p in (self.dir, self.inbox, self.conf):
                os.chown(p, owner, owner)

    def drop(self, name, first, n):
        tmp = os.path.join(self.inbox, '.' + name)
        with open(tmp, 'w') as f:
            f.write(digest_text(first, n))
        os.rename(tmp, os.path.join(self.inbox, name))

    def ids(self):
        return [p['id'] for p in read_jsonl(self.out)]

    def wait_ids(self, n, timeout=30):
        wait_until(lambda: len(set(self.ids())) >= n, timeout, f'{n} papers alerted')
        return self.ids()


NOBODY = 65534
# Runs the daemon unprivileged: files it may not read, leases it may not take.
AS_NOBODY = ['setpriv', f'--reuid={NOBODY}', f'--regid={NOBODY}', '--clear-groups']


def nobody_place():
    """A Place whose folder, configuration and state directory belong to nobody."""
    state_dir = tmpdir()
    os.chown(state_dir, NOBODY, NOBODY)
    return Place(state_dir, owner=NOBODY)


def assert_all_once(ids, first_last):
    expected = {f'2504.{i:05d}' for a, b in first_last for i in range(a, b)}
    assert set(ids) == expected, sorted(set(ids) ^ expected)[:5]
    dup = [i for i, c in collections.Counter(ids).items() if c > 1]
    assert not dup, f'alerted twice: {dup}'


@test
def a_full_state_disk_is_named_and_its_digest_processed_once_space_returns():
    with small_fs(os.path.join(tmpdir(), 'full'), '1m') as fs:
        p = Place(fs)
        with Daemon(p.conf, p.dir) as d:
            d.start()
            p.drop('a.md', 0, 5)
            p.wait_ids(5)
            # Fill the disk only once the delivery is recorded: a delivery whose record fails
            # is sent again (the file channel has no id to drop the repeat by).
            wait_until(lambda: 'out: delivered message' in d.log_text(), 10,
                       'the delivery to be recorded')
            filler = fill(fs)
            p.drop('b.md', 10, 5)
            wait_until(lambda: 'the disk is full' in d.log_text(), 20, 'the full disk message')
            assert d.proc.poll() is None
            os.unlink(filler)
            ids = p.wait_ids(10)
            assert_all_once(ids, [(0, 5), (10, 15)])
            assert d.stop() == 0


@test
def a_read_only_state_file_exits_3_with_the_reason():
    p = nobody_place()
    state_dir = os.path.dirname(p.state)
    with Daemon(p.conf, p.dir, prefix=AS_NOBODY) as d:
        d.start()
        assert d.stop() == 0
    os.chmod(p.state, 0o444)
    os.chmod(state_dir, 0o555)
    d = Daemon(p.conf, p.dir, prefix=AS_NOBODY)
    d.start(ready=False)
    assert d.proc.wait(10) == 3
    d._close()
    assert 'paperwatch needs to write its state here' in d.log_text(), d.log_text()


@test
def a_state_on_a_read_only_filesystem_exits_3_with_the_reason():
    with small_fs(os.path.join(tmpdir(), 'ro'), '8m') as fs:
        p = Place(fs)
        subprocess.run(['mount', '-o', 'remount,ro', fs], check=True)
        d = Daemon(p.conf, p.dir)
        d.start(ready=False)
        assert d.proc.wait(10) == 3
        d._close()
        assert 'paperwatch needs to write its state here' in d.log_text() or \
            'read-only' in d.log_text().lower(), d.log_text()


@test
def a_damaged_state_is_recovered_by_moving_it_aside_as_documented():
    p = Place(tmpdir())
    with open(p.state, 'wb') as f:
        f.write(b'garbage, not SQLite ' * 200)
    d = Daemon(p.conf, p.dir)
    d.start(ready=False)
    assert d.proc.wait(10) == 3
    d._close()
    assert f'mv {p.state} {p.state}.broken' in d.log_text()
    os.rename(p.state, p.state + '.broken')
    p.drop('a.md', 0, 2)
    with Daemon(p.conf, p.dir) as d2:
        d2.start()
        assert_all_once(p.wait_ids(2), [(0, 2)])
        assert d2.stop() == 0


@test
def an_unreadable_folder_is_named_waited_for_and_read_once_it_is_readable():
    p = nobody_place()
    p.drop('a.md', 0, 2)
    os.chmod(p.inbox, 0)
    with Daemon(p.conf, p.dir, prefix=AS_NOBODY) as d:
        d.start()
        assert 'Permission denied' in d.log_text(), d.log_text()
        assert p.ids() == []
        os.chmod(p.inbox, 0o755)
        assert_all_once(p.wait_ids(2), [(0, 2)])
        # Unreadable again while running: new files are named, nothing crashes, and they are
        # read once the folder is readable again.
        os.chmod(p.inbox, 0o300)
        p.drop('b.md', 10, 2)
        wait_until(lambda: d.log_text().count('Permission denied') >= 2, 10,
                   'the second refusal to be logged')
        assert d.proc.poll() is None
        os.chmod(p.inbox, 0o755)
        assert_all_once(p.wait_ids(4), [(0, 2), (10, 12)])
        assert d.stop() == 0


@test
def a_digest_made_readable_after_it_arrived_is_read():
    p = nobody_place()
    with Daemon(p.conf, p.dir, prefix=AS_NOBODY) as d:
        d.start()
        path = os.path.join(p.inbox, 'late.md')
        # It arrives unreadable by the daemon: only its owner, root, may write it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o200)
        os.write(fd, digest_text(0, 3).encode())
        os.close(fd)
        wait_until(lambda: 'late.md' in d.log_text() and 'Permission denied' in d.log_text(),
                   20, 'the refusal')
        os.chmod(path, 0o644)  # made readable, nothing written
        ids = p.wait_ids(3, timeout=10)
        assert_all_once(ids, [(0, 3)])
        assert d.stop() == 0


@test
def a_state_deleted_or_emptied_under_the_daemon_stops_it_and_a_start_will_not_begin_afresh():
    for how in ('deleted', 'emptied'):
        state_dir = tmpdir()
        p = Place(state_dir)
        with Daemon(p.conf, p.dir) as d:  # a failure kills what it started
            d.start()
            p.drop('a.md', 0, 2)
            p.wait_ids(2)
            if how == 'deleted':
                os.unlink(p.state)
            else:
                os.truncate(p.state, 0)
            assert d.proc.wait(20) == 3, how
            d._close()
        assert f'state.db was {how} while paperwatch was running' in d.log_text(), d.log_text()
        # Started again, it does not begin afresh and alert the whole folder once more.
        with Daemon(p.conf, p.dir) as again:
            again.start(ready=False)
            assert again.proc.wait(20) == 3, how
            again._close()
        assert 'is missing or empty, but' in again.log_text(), again.log_text()
        assert len(p.ids()) == 2, p.ids()


@test
def a_torn_line_of_the_file_channel_is_cut_back_before_the_retry():
    with small_fs(os.path.join(tmpdir(), 'out'), '1m') as fs:
        p = Place(tmpdir(), out_dir=fs)  # the output on the small disk, the state not
        filler = os.path.join(fs, 'filler')
        with open(filler, 'wb', buffering=0) as f:
            try:
                while True:
                    f.write(b'\0' * 4096)
            except OSError:
                pass
        os.truncate(filler, os.path.getsize(filler) - 8192)  # room for a part of a message
        with Daemon(p.conf, p.dir) as d:
            d.start()
            p.drop('a.md', 0, 60)
            wait_until(lambda: 'No space left' in d.log_text(), 20, 'the full disk')
            os.unlink(filler)
            wait_until(lambda: os.path.exists(p.out) and
                       open(p.out).read().count('\n') >= 60, 20, 'the retry')
            # Every line whole (a torn one would not parse), every paper once.
            assert_all_once(p.ids(), [(0, 60)])
            assert d.stop() == 0


@test
def the_file_channel_takes_regular_files_only_and_a_fifo_cannot_freeze_the_daemon():
    p = Place(tmpdir())
    os.mkfifo(os.path.join(p.dir, 'fifo'))
    bad = write_config(os.path.join(p.dir, 'bad.conf'),
                       [{'name': 'out', 'type': 'file', 'path': os.path.join(p.dir, 'fifo')}],
                       [ALL], state=os.path.join(p.dir, 'bad.db'))
    r = subprocess.run([BINARY, 'check-config', '-c', bad], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0 and 'not a regular file' in r.stderr, r.stderr
    with Daemon(p.conf, p.dir) as d:
        d.start()
        os.mkfifo(p.out)  # the output file becomes a FIFO nobody reads, after the check
        p.drop('a.md', 0, 2)
        wait_until(lambda: 'out.jsonl' in d.log_text() and 'not a regular file' in d.log_text(),
                   20, 'the refusal')
        assert d.stop(timeout=10) == 0


@test
def a_daemon_that_cannot_take_a_lease_still_waits_for_a_digest_being_written():
    p = nobody_place()
    path = os.path.join(p.inbox, 'growing.md')
    whole = digest_text(12, 1)
    cut = whole.index('2504.00012') + len('2504.0001')
    f = open(path, 'w')  # root's file: the daemon, run as nobody, may not lease it
    f.write(whole[:cut])
    f.flush()
    os.chmod(path, 0o644)
    try:
        with Daemon(p.conf, p.dir, prefix=AS_NOBODY) as d:
            d.start()
            for _ in range(6):  # the writer is still at it: the file keeps changing
                time.sleep(0.5)
                os.utime(path)
            assert p.ids() == [], p.ids()
            f.write(whole[cut:])
            f.close()
            ids = p.wait_ids(1)
            time.sleep(0.5)
            assert p.ids() == ['2504.00012'], p.ids()
            assert d.stop() == 0
    finally:
        if not f.closed:
            f.close()


if __name__ == '__main__':
    run()
