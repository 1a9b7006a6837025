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

from harness import test, run, write_config, Daemon, tmpdir, wait_until
from receiver import Receiver, Reply

KILLS = int(os.environ.get('PW_CRASH_KILLS', '10'))
RULES = [{'name': 'every', 'query': 'id:2*'}, {'name': 'worded', 'query': 'paper'}]


def digest_text(ids):
    return ''.join(f'Title: Paper number {i}\nPDF: https://arxiv.org/pdf/2502.{i:05d}\n'
                   f'Summary: A summary of paper {i}.\n---\n' for i in ids)


def slow_sometimes(req):
    """Answers after up to 40 ms, so that kills land mid-send as well as between sends."""
    return Reply(200, 'ok', delay=random.random() * 0.04)


def arrived(receiver):
    """(paper, rule, notifier) -> the webhook-ids of every complete request that carried it."""
    seen = collections.defaultdict(set)
    count = collections.Counter()
    for q in receiver.requests:
        if not q.complete:
            continue
        for p in q.json()['papers']:
            for rule in p['rules']:
                key = (p['id'], rule, q.path)
                seen[key].add(q.headers['webhook-id'])
                count[key] += 1
    return seen, count


@test
def killed_at_random_moments_the_daemon_loses_no_alert_and_repeats_only_whole_messages():
    rng = random.Random(int(os.environ.get('PW_CRASH_SEED', '7')))
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    with Receiver(default=slow_sometimes) as r:
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
                    fh.write(digest_text(ids))
                os.rename(tmp, os.path.join(inbox, f'k{k}-{f}.md'))
                expected |= {(f'2502.{i:05d}', rule['name'], '/' + n['name'])
                             for i in ids for rule in RULES for n in notifiers}
            time.sleep(rng.random() * 0.15)
            daemon.kill()
            daemon.start()
        wait_until(lambda: expected <= set(arrived(r)[0]), 120, 'every alert to arrive')
        assert daemon.stop() == 0
        seen, count = arrived(r)
        lost = expected - set(seen)
        split = {k: ids for k, ids in seen.items() if len(ids) > 1}
        repeated = sum(c - 1 for c in count.values())
        print(f'# kills {KILLS}, alerts expected {len(expected)}, lost {len(lost)}, '
              f'repeated {repeated} (each within one message)')
        assert not lost, sorted(lost)[:5]
        assert not split, f'an alert came in two different messages: {list(split.items())[:3]}'
        assert set(seen) == expected, sorted(set(seen) - expected)[:5]


if __name__ == '__main__':
    run()
