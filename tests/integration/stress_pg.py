#!/usr/bin/env python3
"""stress_pg.py — three daemons on one PostgreSQL state at length, for `make stress`: digests
arrive all the while in their inboxes, the same papers in two or three of them at once, and the
instances are killed (SIGKILL) at random moments, 50 times in all (PW_PG_KILLS), each started
again at once. In the end every expected (paper, rule, notifier) alert has arrived, and any alert
that arrived twice came both times under the webhook-id of its first delivery: a message sent
again after its sender's claim was lost, never a second alert."""
import collections
import os
import random
import time

from harness import test, run, wait_until, records_digest, webhook_alerts
from pgserver import PgServer, Instances
from receiver import Receiver, jittered

KILLS = int(os.environ.get('PW_PG_KILLS', '50'))
SEED = int(os.environ.get('PW_PG_SEED', '11'))
RULES = [{'name': 'every', 'query': 'id:2*'}, {'name': 'worded', 'query': 'paper'}]
# A short lease, so that a killed sender's claims are taken over within the run; each attempt
# ends (timeout) before its lease does.
DELIVERY = {'retry_base': '100ms', 'retry_max': '500ms', 'shutdown_grace': '1s', 'lease': 3.0}





@test
def three_daemons_killed_at_random_lose_no_alert_and_repeat_only_whole_messages():
    rng = random.Random(SEED)
    with PgServer() as pg, Receiver(default=jittered(0.04)) as rx:
        notifiers = [{'name': n, 'type': 'webhook', 'url': f'{rx.url}/{n}', 'timeout': '2s',
                      'connect_timeout': '1s'} for n in ('a', 'b')]
        with Instances(pg, notifiers, RULES, verbose=False, delivery=DELIVERY) as group:
            group.start()
            expected, next_id, kills = set(), 0, collections.Counter()
            for k in range(KILLS):
                for f in range(rng.randint(1, 3)):
                    # New papers, now and then one from an earlier digest, in one to three
                    # inboxes: the first gets them all, the others some of them.
                    ids = list(range(next_id, next_id + rng.randint(1, 20)))
                    if next_id and rng.random() < 0.5:
                        ids.append(rng.randrange(next_id))
                    next_id += 21
                    to = rng.sample(range(3), rng.randint(1, 3))
                    group.drop(f'k{k}-{f}.md', {i: records_digest(ids if i == to[0] else sorted(
                        rng.sample(ids, rng.randint(1, len(ids))))) for i in to})
                    expected |= {(f'2502.{i:05d}', rule['name'], '/' + n['name'])
                                 for i in ids for rule in RULES for n in notifiers}
                time.sleep(rng.random() * 0.15)
                victim = rng.randrange(3)
                group.restart(victim)
                kills[victim] += 1
            wait_until(lambda: expected <= set(webhook_alerts(rx)[0]), 180,
                       'every alert to arrive')
            time.sleep(1.5)  # time for any late copy to arrive
            for d in group:
                assert d.stop() == 0, d.log_text()[-3000:]
        seen, count = webhook_alerts(rx)
        lost = expected - set(seen)
        split = {key: ids for key, ids in seen.items() if len(ids) > 1}
        print(f'# kills {KILLS} ({dict(sorted(kills.items()))} per instance), alerts expected '
              f'{len(expected)}, lost {len(lost)}, repeated {sum(c - 1 for c in count.values())}'
              f' ({len(split)} in another message), in {len(rx.requests)} requests')
        assert not lost, sorted(lost)[:5]
        assert not split, f'an alert came in two different messages: {list(split.items())[:3]}'
        assert set(seen) == expected, sorted(set(seen) - expected)[:5]


if __name__ == '__main__':
    run()
