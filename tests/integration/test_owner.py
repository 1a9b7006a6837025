#!/usr/bin/env python3
"""test_owner.py — one process delivers from a state at a time: a second daemon refuses, and
`scan` and `retry` beside a running daemon leave the sending to it and wake it at once."""
import os
import re
import shutil
import time

from harness import test, run, pw, text, digests, tmpdir, write_config, wait_until, Daemon
from receiver import Receiver, Reply

ALL = {'name': 'all', 'query': 'id:2*'}
FAST = {'retry_base': '200ms', 'retry_max': '1s', 'shutdown_grace': '1s'}


def setup(url):
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    conf = write_config(os.path.join(d, 'pw.conf'), [{'name': 'hook', 'type': 'webhook',
                                                      'url': url}],
                        [ALL], state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                        delivery=FAST)
    return d, inbox, conf


def delivered(rx):
    """webhook-id -> how many requests carrying it the receiver answered 200."""
    ok = {}
    for q in rx.requests:
        if q.reply is not None and q.reply.status == 200:
            ok[q.headers['webhook-id']] = ok.get(q.headers['webhook-id'], 0) + 1
    return ok


@test
def a_second_daemon_on_the_same_state_refuses_naming_the_first():
    with Receiver() as rx:
        d, inbox, conf = setup(rx.url)
        first = Daemon(conf, d)
        with first.start():
            os.mkdir(os.path.join(d, 'second'))
            second = Daemon(conf, os.path.join(d, 'second'))
            second.start(ready=False)
            assert second.proc.wait(20) != 0
            log = second.log_text()
            assert f'in use by another paperwatch (pid {first.proc.pid})' in log, log
            shutil.copy(digests()[0], os.path.join(inbox, 'a.md'))
            wait_until(lambda: len(delivered(rx)) == 1, 20, 'the first daemon still delivers')


@test
def scan_beside_a_running_daemon_leaves_every_message_to_it():
    with Receiver() as rx:
        d, inbox, conf = setup(rx.url)
        # The daemon's first message meets two errors: it is still queued when scan runs.
        rx.push(Reply(500), Reply(500))
        with Daemon(conf, d).start() as daemon:
            shutil.copy(digests()[0], os.path.join(inbox, 'a.md'))
            wait_until(lambda: len(rx.requests) >= 1, 20, 'the first attempt')
            s = pw('scan', '-c', conf, digests()[1], digests()[2])
            out = text(s.stdout) + text(s.stderr)
            assert s.returncode == 0, out
            assert f'queued for the running paperwatch (pid {daemon.proc.pid})' in out, out
            wait_until(lambda: len(delivered(rx)) == 3, 20, 'three messages delivered')
            time.sleep(1.0)  # time for a second sender's copies to arrive, if there were one
            assert sorted(delivered(rx).values()) == [1, 1, 1], delivered(rx)


@test
def retry_beside_a_running_daemon_is_sent_without_a_reload():
    with Receiver() as rx:
        d, inbox, conf = setup(rx.url)
        rx.push(Reply(404, 'no such hook'))
        with Daemon(conf, d).start() as daemon:
            shutil.copy(digests()[0], os.path.join(inbox, 'a.md'))
            wait_until(lambda: re.search(r'^hook +0 +0 +- +1 ',
                                         text(pw('status', '-c', conf).stdout), re.M),
                       20, 'the message failed for good')
            r = pw('retry', '-c', conf)
            assert r.returncode == 0 and text(r.stdout).startswith('1 failed message queued'), r
            assert f'the running paperwatch (pid {daemon.proc.pid}) sends them now' in \
                text(r.stdout), text(r.stdout)
            # No reload and no new digest: before the knock, nothing sent it at all.
            wait_until(lambda: len(delivered(rx)) == 1, 10, 'the retried message')


if __name__ == '__main__':
    run()
