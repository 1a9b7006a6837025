#!/usr/bin/env python3
"""test_crash.py — crash consistency: digests keep arriving while alerts are delivered, and the
daemon is killed (SIGKILL) at random moments and restarted. In the end every expected (paper,
rule, notifier) alert has arrived, and any alert that arrived twice came both times in the same
message (the same webhook-id), so a receiver can drop the repeat. PW_CRASH_KILLS sets the number
of kills (10 here; `make stress` runs 50)."""
import collections
import os
import random
import time

from harness import (test, run, write_config, Daemon, tmpdir, wait_until, records_digest,
                     webhook_alerts)
from receiver import Receiver, Reply, jittered

KILLS = int(os.environ.get('PW_CRASH_KILLS', '10'))
RULES = [{'name': 'every', 'query': 'id:2*'}, {'name': 'worded', 'query': 'paper'}]





def judge(receiver, expected, what=''):
    """Asserts every expected alert arrived, none in two different messages and none unexpected;
    prints the tallies."""
    seen, count = webhook_alerts(receiver)
    lost = expected - set(seen)
    split = {k: ids for k, ids in seen.items() if len(ids) > 1}
    print(f'# kills {KILLS}{what}, alerts expected {len(expected)}, lost {len(lost)}, '
          f'repeated {sum(c - 1 for c in count.values())} (each within one message)')
    assert not lost, sorted(lost)[:5]
    assert not split, f'an alert came in two different messages: {list(split.items())[:3]}'
    assert set(seen) == expected, sorted(set(seen) - expected)[:5]


@test
def killed_at_random_moments_the_daemon_loses_no_alert_and_repeats_only_whole_messages():
    rng = random.Random(int(os.environ.get('PW_CRASH_SEED', '7')))
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    with Receiver(default=jittered(0.04)) as r:
        notifiers = [{'name': n, 'type': 'webhook', 'url': f'{r.url}/{n}'} for n in ('a', 'b')]
        conf = write_config(os.path.join(d, 'pw.conf'), notifiers, RULES,
                            state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                            delivery={'retry_base': '100ms', 'retry_max': '500ms'})
        daemon = Daemon(conf, d, verbose=False)
        expected, next_id = set(), 0
        daemon.start()
        for k in range(KILLS):
            for f in range(rng.randint(1, 4)):
                # New papers, and now and then a paper from an earlier digest.
                ids = list(range(next_id, next_id + rng.randint(1, 30)))
                if next_id and rng.random() < 0.5:
                    ids.append(rng.randrange(next_id))
                next_id += 30
                tmp = os.path.join(inbox, f'.k{k}-{f}.tmp')
                with open(tmp, 'w') as fh:
                    fh.write(records_digest(ids))
                os.rename(tmp, os.path.join(inbox, f'k{k}-{f}.md'))
                expected |= {(f'2502.{i:05d}', rule['name'], '/' + n['name'])
                             for i in ids for rule in RULES for n in notifiers}
            time.sleep(rng.random() * 0.15)
            daemon.kill()
            daemon.start()
        wait_until(lambda: expected <= set(webhook_alerts(r)[0]), 120, 'every alert to arrive')
        assert daemon.stop() == 0
        judge(r, expected)


@test
def killed_inside_a_burst_the_group_of_digests_is_recorded_whole_or_read_again():
    """Bursts of 40 digests land at once, so that they are recorded in groups (one commit for
    up to 32), and the daemon is killed a few milliseconds later, often inside a group: what a
    group held is either committed, and sent, or read again after the restart."""
    rng = random.Random(int(os.environ.get('PW_CRASH_SEED', '7')) + 2)
    d = tmpdir()
    inbox, staging = os.path.join(d, 'inbox'), os.path.join(d, 'staging')
    os.mkdir(inbox)
    os.mkdir(staging)
    with Receiver(default=jittered(0.04)) as r:
        notifiers = [{'name': 'a', 'type': 'webhook', 'url': f'{r.url}/a'}]
        conf = write_config(os.path.join(d, 'pw.conf'), notifiers, RULES,
                            state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                            delivery={'retry_base': '100ms', 'retry_max': '500ms'})
        daemon = Daemon(conf, d, verbose=False)
        expected, next_id = set(), 0
        daemon.start()
        for k in range(KILLS):
            names = []
            for f in range(40):
                ids = list(range(next_id, next_id + rng.randint(1, 5)))
                next_id += 5
                names.append(f'b{k}-{f}.md')
                with open(os.path.join(staging, names[-1]), 'w') as fh:
                    fh.write(records_digest(ids))
                expected |= {(f'2502.{i:05d}', rule['name'], '/a') for i in ids
                             for rule in RULES}
            for name in names:
                os.rename(os.path.join(staging, name), os.path.join(inbox, name))
            time.sleep(rng.random() * 0.03)
            daemon.kill()
            daemon.start()
        wait_until(lambda: expected <= set(webhook_alerts(r)[0]), 120, 'every alert to arrive')
        assert daemon.stop() == 0
        judge(r, expected)


def faulty(rng):
    """Mostly 200; now and then a 500, a 429 asking for a moment, or a hang past the timeout."""
    def reply(req):
        x = rng.random()
        if x < 0.08:
            return Reply(500, 'oops')
        if x < 0.16:
            return Reply(429, 'slow down', headers={'Retry-After': '0.2'})
        if x < 0.20:
            return Reply(200, 'late', hang=True)
        return Reply(200, 'ok', delay=rng.random() * 0.03)
    return reply


def overlapping_senders(receiver):
    """Pairs of complete requests with the same webhook-id that were in flight at once: two
    processes sending one message, which a crash alone cannot cause."""
    by_id = collections.defaultdict(list)
    for q in receiver.requests:
        by_id[q.headers['webhook-id']].append(q)
    return [(a, b) for qs in by_id.values() for a in qs for b in qs
            if a is not b and a.started < b.started < a.completed]


@test
def killed_beside_scan_and_retry_with_a_faulty_endpoint_it_loses_nothing_and_never_sends_twice():
    import subprocess
    from harness import BINARY
    rng = random.Random(int(os.environ.get('PW_CRASH_SEED', '7')) + 1)
    d = tmpdir()
    inbox, scratch = os.path.join(d, 'inbox'), os.path.join(d, 'scratch')
    os.mkdir(inbox)
    os.mkdir(scratch)
    with Receiver(default=faulty(rng)) as r:
        notifiers = [{'name': n, 'type': 'webhook', 'url': f'{r.url}/{n}', 'timeout': '1s'}
                     for n in ('a', 'b')]
        conf = write_config(os.path.join(d, 'pw.conf'), notifiers, RULES,
                            state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                            delivery={'retry_base': '100ms', 'retry_max': '500ms'})
        daemon = Daemon(conf, d, verbose=False)
        expected, next_id, beside = set(), 0, []

        def digest(ids):
            nonlocal expected
            expected |= {(f'2502.{i:05d}', rule['name'], '/' + n['name'])
                         for i in ids for rule in RULES for n in notifiers}
            return records_digest(ids)

        def start():
            # A scan that found no daemon owns the state while it delivers: wait it out.
            for _ in range(60):
                try:
                    daemon.start()
                    return
                except AssertionError:
                    daemon._close()
                    time.sleep(0.5)
            raise AssertionError('the daemon could not start again')

        start()
        for k in range(KILLS):
            for f in range(rng.randint(1, 3)):
                ids = list(range(next_id, next_id + rng.randint(1, 20)))
                next_id += 20
                if rng.random() < 0.5:  # written in place, in two writes
                    text = digest(ids)
                    with open(os.path.join(inbox, f'k{k}-{f}.md'), 'w') as fh:
                        fh.write(text[:len(text) // 2])
                        fh.flush()
                        fh.write(text[len(text) // 2:])
                else:
                    tmp = os.path.join(inbox, f'.k{k}-{f}.tmp')
                    with open(tmp, 'w') as fh:
                        fh.write(digest(ids))
                    os.rename(tmp, os.path.join(inbox, f'k{k}-{f}.md'))
            if rng.random() < 0.5:  # a scan of a digest of its own, beside the daemon
                ids = list(range(next_id, next_id + rng.randint(1, 10)))
                next_id += 20
                path = os.path.join(scratch, f's{k}.md')
                with open(path, 'w') as fh:
                    fh.write(digest(ids))
                beside.append(subprocess.Popen([BINARY, 'scan', '-c', conf, '--wait', '3',
                                                path], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            if rng.random() < 0.3:
                beside.append(subprocess.Popen([BINARY, 'retry', '-c', conf],
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            time.sleep(rng.random() * 0.15)
            daemon.kill()
            start()
        for p in beside:
            p.wait(60)
        wait_until(lambda: expected <= set(webhook_alerts(r)[0]), 180, 'every alert to arrive')
        assert daemon.stop() == 0
        judge(r, expected, f', beside {len(beside)}')
        twice = overlapping_senders(r)
        print(f'# sent by two at once {len(twice)}')
        assert not twice, twice[:2]


if __name__ == '__main__':
    run()
