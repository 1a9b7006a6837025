#!/usr/bin/env python3
"""test_health.py — the health checks against the real daemon: digests that stop coming (with
short watch.expect durations, and with the daemon's clock moved by libfaketime), that shrink,
that repeat an earlier one, that are read only partly. Each condition is raised once and cleared
once, at a loopback webhook receiver or the file channel, shown by status and the systemd status
line, and neither repeated nor forgotten across a restart or a SIGKILL."""
import json
import os
import signal
import time

from harness import (test, run, pw, text, tmpdir, write_config, read_jsonl, Daemon, Skip,
                     FAKETIME_LIB)
from receiver import Receiver

FAST = {'retry_base': '200ms', 'retry_max': '1s'}


def records(first, n):
    """A Title/PDF/Summary digest of n papers, ids 2501.<first> on."""
    return '\n---\n'.join(f'Title: Paper {i} on robots\nPDF: https://arxiv.org/pdf/2501.{i:05d}\n'
                          f'Summary: Paper {i}.\n' for i in range(first, first + n))


class Setup:
    """A folder, a file channel for alerts and one for health notices, and a daemon."""

    def __init__(self, expect=None, notifiers=None, env=None, notify=('ops',)):
        self.dir = tmpdir()
        self.inbox = os.path.join(self.dir, 'inbox')
        os.mkdir(self.inbox)
        self.ops = os.path.join(self.dir, 'ops.jsonl')
        self.notifiers = notifiers or [{'name': 'ops', 'type': 'file', 'path': self.ops}]
        self.notify = list(notify)
        self.conf = os.path.join(self.dir, 'pw.conf')
        self.write_conf(expect)
        self.env = env
        self.daemon = Daemon(self.conf, self.dir, env=env)

    def write_conf(self, expect):
        watch = {'dir': self.inbox}
        if expect is not None:
            watch['expect'] = expect
        write_config(self.conf, self.notifiers,
                     [{'name': 'robots', 'query': 'robots', 'notify': ['ops']}],
                     state=os.path.join(self.dir, 'state.db'), watch=watch, delivery=FAST,
                     health={'notify': self.notify} if self.notify else {})

    def drop(self, name, body):
        tmp = os.path.join(self.inbox, '.' + name + '.tmp')
        with open(tmp, 'w') as f:
            f.write(body)
        os.rename(tmp, os.path.join(self.inbox, name))

    def notices(self, condition=None):
        """The health lines of the file channel; a line written again after a SIGKILL (before
        its delivery was recorded) carries the same message key, and is dropped as a reader
        would."""
        seen, out = set(), []
        for l in read_jsonl(self.ops):
            if l.get('type') == 'health' and l['message'] not in seen and \
                    (condition is None or l['condition'] == condition):
                seen.add(l['message'])
                out.append(l)
        return out

    def states(self, condition):
        return [n['state'] for n in self.notices(condition)]

    def wait_states(self, condition, states, timeout=20):
        def done():
            return self.states(condition) == states
        try:
            from harness import wait_until
            wait_until(done, timeout, f'{condition} notices {states}')
        except AssertionError:
            raise AssertionError(f'{self.states(condition)} != {states}\n'
                                 + self.daemon.log_text())

    def restart(self, kill=False):
        if kill:
            self.daemon.kill()
        else:
            assert self.daemon.stop() == 0
        self.daemon = Daemon(self.conf, self.dir, env=self.env)
        return self.daemon.start()

    def status(self):
        p = pw('status', '-c', self.conf, '--json')
        assert p.returncode == 0, text(p.stderr)
        return json.loads(p.stdout)


@test
def quiet_is_raised_once_at_the_deadline_and_cleared_once_by_the_next_digest():
    s = Setup(expect=['hf-*.md 2s'])
    with s.daemon.start():
        s.drop('hf-1.md', records(1, 3))
        s.wait_states('quiet', ['raised'], timeout=10)
        n = s.notices('quiet')[0]
        assert n['subject'] == 'hf-*.md' and 'hf-*.md' in n['title'] and '2s' in n['title'], n
        # A digest the pattern does not match does not end it; time passing does not repeat it.
        s.drop('other.md', records(100, 3))
        time.sleep(3)
        assert s.states('quiet') == ['raised']
        s.daemon.wait_note('health: quiet hf-*.md')
        st = s.status()
        assert [(h['condition'], h['subject']) for h in st['health']] == [('quiet', 'hf-*.md')], st
        assert 'quiet (hf-*.md) since' in text(pw('status', '-c', s.conf).stdout)
        log = s.daemon.log_text()
        assert 'warning: health: no digest matching hf-*.md for 2s' in log, log
        s.drop('hf-2.md', records(10, 3))
        s.wait_states('quiet', ['raised', 'cleared'])
        assert 'health: digests matching hf-*.md come again: hf-2.md came' in \
            s.daemon.log_text()
        assert s.status()['health'] == []
        assert s.daemon.stop() == 0


@test
def without_health_notify_a_condition_is_in_the_log_status_and_status_line_only():
    s = Setup(expect='2s', notify=())
    with s.daemon.start():
        s.drop('a.md', records(1, 3))
        s.daemon.wait_note('health: quiet *', timeout=10)
        assert 'warning: health: no digest for 2s' in s.daemon.log_text()
        assert [h['condition'] for h in s.status()['health']] == ['quiet']
        s.drop('b.md', records(10, 3))
        mark = len(s.daemon.notes)
        s.daemon.wait_note('STATUS=2 files', after=mark)
        assert all('health:' not in n for _, n in s.daemon.notes[mark:])
        lines = read_jsonl(s.ops)  # the two digests' papers, and nothing else
        assert len(lines) == 6 and all('type' not in l for l in lines), lines
        assert s.daemon.stop() == 0


@test
def a_quiet_condition_survives_a_sigkill_and_a_restart_without_a_second_alert():
    s = Setup(expect='2s')
    with s.daemon.start():
        s.drop('a.md', records(1, 3))
        s.wait_states('quiet', ['raised'], timeout=10)
        s.restart(kill=True)
        time.sleep(3)
        assert s.states('quiet') == ['raised'], s.daemon.log_text()
        assert [h['condition'] for h in s.status()['health']] == ['quiet']
        s.restart()
        s.drop('b.md', records(10, 3))
        s.wait_states('quiet', ['raised', 'cleared'])
        s.restart(kill=True)
        time.sleep(1)
        assert s.states('quiet') == ['raised', 'cleared']
        assert s.daemon.stop() == 0


@test
def a_digest_that_came_while_the_daemon_was_down_counts_before_the_deadline_is_judged():
    s = Setup(expect='3s')
    with s.daemon.start():
        s.drop('a.md', records(1, 3))
        s.daemon.wait_note('STATUS=1 file')
        assert s.daemon.stop() == 0
    s.drop('b.md', records(10, 3))
    time.sleep(3.5)  # a.md's deadline has passed, b.md's has not
    s.daemon = Daemon(s.conf, s.dir)
    with s.daemon.start():
        time.sleep(1)
        assert s.states('quiet') == [], s.daemon.log_text()
        s.wait_states('quiet', ['raised'], timeout=10)
        assert 'The last, b.md, came at' in s.notices('quiet')[0]['detail']
        assert s.daemon.stop() == 0


@test
def under_a_moved_clock_the_quiet_deadline_counts_from_the_last_digest_across_restarts():
    if not os.path.exists(FAKETIME_LIB):
        raise Skip(f'no {FAKETIME_LIB} (Debian package faketime)')
    env = {'LD_PRELOAD': FAKETIME_LIB, 'FAKETIME_DONT_FAKE_MONOTONIC': '1',
           'FAKETIME': '@2027-03-28 07:59:55'}
    s = Setup(expect=['hf-*.md 24h'], env=env)
    with s.daemon.start():
        s.drop('hf-1.md', records(1, 3))
        s.daemon.wait_note('STATUS=1 file')
        assert s.daemon.stop() == 0
    # A day later, but for three seconds: the deadline is the last digest's time and 24 hours.
    env['FAKETIME'] = '@2027-03-29 07:59:52'
    s.env = env
    s.daemon = Daemon(s.conf, s.dir, env=env)
    with s.daemon.start():
        time.sleep(0.5)
        assert s.states('quiet') == [], s.daemon.log_text()
        s.wait_states('quiet', ['raised'], timeout=10)
        assert 'for 24h' in s.notices('quiet')[0]['title']
        assert '2027-03-28 07:59' in s.notices('quiet')[0]['detail']
        assert s.daemon.stop() == 0
    # Two days on, still quiet: said once, not again.
    env['FAKETIME'] = '@2027-03-31 12:00:00'
    s.daemon = Daemon(s.conf, s.dir, env=env)
    with s.daemon.start():
        time.sleep(1)
        assert s.states('quiet') == ['raised']
        s.drop('hf-2.md', records(10, 3))
        s.wait_states('quiet', ['raised', 'cleared'])
        assert s.daemon.stop() == 0


@test
def a_reload_that_expects_a_pattern_no_more_ends_its_quiet_condition_in_the_log_only():
    s = Setup(expect=['hf-*.md 2s', 'ax-*.md 1h'])
    with s.daemon.start():
        s.drop('hf-1.md', records(1, 3))
        s.wait_states('quiet', ['raised'], timeout=10)
        s.write_conf(['ax-*.md 1h'])
        mark = len(s.daemon.notes)
        s.daemon.signal(signal.SIGHUP)
        s.daemon.wait_note('READY=1', after=mark)
        assert 'health: hf-*.md is no longer expected' in s.daemon.log_text()
        assert s.status()['health'] == []
        time.sleep(2.5)
        assert s.states('quiet') == ['raised']
        assert s.daemon.stop() == 0


@test
def a_digest_far_smaller_than_the_median_is_small_until_one_of_usual_size_comes():
    s = Setup()
    with s.daemon.start():
        for i in range(3):
            s.drop(f'd{i}.md', records(100 * (i + 1), 30))
            s.daemon.wait_note(f'STATUS={i + 1} file')
        assert s.notices() == []
        s.drop('d3.md', records(500, 5))
        s.wait_states('small', ['raised'])
        n = s.notices('small')[0]
        assert 'd3.md' in n['title'] and '5 papers' in n['title'], n
        assert 'median of the last 3' in n['detail'] and 'is 30' in n['detail'], n
        assert 'warning: health: d3.md holds only 5 papers' in s.daemon.log_text()
        st = s.status()
        assert st['digests']['latest'] == 'd3.md' and st['digests']['latest_papers'] == 5, st
        assert st['digests']['median_papers'] == 30 and st['digests']['median_of'] == 4, st
        s.restart(kill=True)
        s.drop('d4.md', records(600, 4))  # small still: nothing new to say
        s.daemon.wait_note('STATUS=1 file')
        time.sleep(0.5)
        assert s.states('small') == ['raised']
        s.drop('d5.md', records(700, 28))
        s.wait_states('small', ['raised', 'cleared'])
        assert s.daemon.stop() == 0


@test
def a_digest_repeating_an_earlier_ones_papers_is_stale_until_one_brings_new_papers():
    rx = Receiver()
    rx.start()
    try:
        s = Setup(notifiers=[{'name': 'ops', 'type': 'webhook', 'url': rx.url + '/ops'}])
        with s.daemon.start():
            s.drop('mon.md', records(1, 10))
            rx.wait_for(1)  # the papers
            # The same papers in another order, under another name: a stale copy.
            papers = records(1, 10).split('\n---\n')
            s.drop('tue.md', '\n---\n'.join(reversed(papers)))
            events = rx.wait_for(2)
            e = events[1].json()
            assert e['type'] == 'health' and e['condition'] == 'stale', e
            assert e['state'] == 'raised' and 'tue.md repeats mon.md' == e['title'], e
            assert events[1].headers['webhook-id'].startswith('health_'), events[1].headers
            assert 'papers' not in e
            s.daemon.wait_note('health: stale ')
            s.drop('wed.md', records(20, 10))
            rx.wait_for(4)  # wed's papers, and the clearing
            health = [r.json() for r in rx.requests if r.json().get('type') == 'health']
            assert [(h['condition'], h['state']) for h in health] == \
                [('stale', 'raised'), ('stale', 'cleared')], health
            assert s.daemon.stop() == 0
    finally:
        rx.stop()


@test
def a_digest_read_only_partly_is_raised_once_and_cleared_by_one_read_whole():
    s = Setup()
    with s.daemon.start():
        s.drop('partly.md', '| Title | Authors | Summary |\n|---|---|---|\n'
               '| [Read](https://arxiv.org/abs/2501.00001) | A | S |\n'
               '| | B | see [Orphaned Paper](https://arxiv.org/abs/2501.00002) |\n')
        s.wait_states('partial', ['raised'])
        assert 'partly.md was read only partly' == s.notices('partial')[0]['title']
        assert '1 paper only from their links' in s.notices('partial')[0]['detail']
        s.restart()
        s.drop('partly2.md', '| Title | Authors | Summary |\n|---|---|---|\n'
               '| [Read](https://arxiv.org/abs/2501.00011) | A | S |\n'
               '| | B | see [Orphaned Paper](https://arxiv.org/abs/2501.00012) |\n')
        s.daemon.wait_note('STATUS=1 file (1 read only partly)')
        time.sleep(0.5)
        assert s.states('partial') == ['raised']
        s.drop('whole.md', '| Title | Authors | Summary |\n|---|---|---|\n'
               '| [Whole](https://arxiv.org/abs/2501.00021) | A | S |\n')
        s.wait_states('partial', ['raised', 'cleared'])
        assert s.daemon.stop() == 0


@test
def check_config_refuses_bad_health_settings_naming_the_line_the_setting_and_why():
    d = tmpdir()
    conf = os.path.join(d, 'pw.conf')
    with open(conf, 'w') as f:
        f.write('watch = {\n  expect = ["hf-*.md 24h",\n    "hf-*.md tomorrow",\n'
                '    "../x.md 1h"];\n};\nhealth = {\n  notify = ["ops"];\n};\n'
                'notifiers = ({ name = "team"; type = "file"; path = "-"; });\n'
                'rules = ({ name = "r"; query = "robots"; });\n')
    p = pw('check-config', '-c', conf)
    err = text(p.stderr)
    assert p.returncode == 2, err
    assert f'{conf}:3: watch.expect: "hf-*.md tomorrow": "tomorrow" is not a duration' in err, err
    assert f'{conf}:4: watch.expect: "../x.md 1h": a pattern matches names' in err, err
    assert f'{conf}:7: health.notify: no notifier named "ops"' in err, err


@test
def with_expect_set_an_idle_daemon_wakes_only_at_the_deadline():
    s = Setup(expect='1h')
    with s.daemon.start():
        time.sleep(0.5)
        pid = s.daemon.proc.pid

        def switches():
            with open(f'/proc/{pid}/status') as f:
                return [l for l in f if 'voluntary_ctxt_switches' in l]
        before = switches()
        time.sleep(3)
        assert switches() == before
        assert s.daemon.stop() == 0


if __name__ == '__main__':
    run()
