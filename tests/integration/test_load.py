#!/usr/bin/env python3
"""test_load.py — load: many digests of 100 papers each through the running daemon with 1,000
rules. Every alert arrives (exactly once, or repeated within its own message), memory stays
bounded (peak RSS reported), and no descriptor leaks. PW_LOAD_FILES sets the number of digests:
300 here, 10,000 in `make stress`."""
import collections
import json
import os
import random
import re
import time

from harness import test, run, write_config, Daemon, tmpdir, wait_until, pw, digests
from receiver import Receiver

FILES = int(os.environ.get('PW_LOAD_FILES', '300'))
PAPERS = 100
RULES = 1000


def sample_papers():
    out = pw('parse', *digests()).stdout.decode()
    return [json.loads(l) for l in out.splitlines()]


def paper_id(k):
    """A distinct valid arXiv id for paper number k (up to 1.2 million a year of ids)."""
    return f'{24 + k // 1200000:02d}{1 + k // 100000 % 12:02d}.{k % 100000:05d}'


def make_rules(papers, rng):
    """1,000 rules drawn from the samples' vocabulary: words, phrases, prefixes, authors."""
    words = sorted({w.lower() for p in papers for w in re.findall(r'[A-Za-z]{7,}', p['title'])})
    authors = sorted({a for p in papers for a in (p['authors'] or []) if ' ' in a})
    rules = []
    for i in range(RULES):
        kind = i % 4
        if kind == 0:
            q = rng.choice(words)
        elif kind == 1:
            q = f'"{rng.choice(words)} {rng.choice(words)}" OR {rng.choice(words)}'
        elif kind == 2:
            q = f'title:{rng.choice(words)[:6]}* {rng.choice(words)}'
        else:
            q = f'author:"{rng.choice(authors)}"'
        rules.append({'name': f'r{i:04d}', 'query': q})
    return rules


def write_digest(path, papers, first):
    with open(path + '.tmp', 'w') as f:
        for k in range(first, first + PAPERS):
            p = papers[k % len(papers)]
            f.write(f"Title: {p['title']}\nPDF: https://arxiv.org/pdf/{paper_id(k)}\n"
                    f"Authors: {', '.join(p['authors'] or ['Anonymous'])}\n"
                    f"Summary: {p['abstract'] or ''}\n---\n")
    os.rename(path + '.tmp', path)


def fds(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


def peak_rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        return int(next(l for l in f if l.startswith('VmHWM:')).split()[1])


@test
def many_digests_with_a_thousand_rules_deliver_every_alert_in_bounded_memory():
    rng = random.Random(11)
    papers = sample_papers()
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    staging = os.path.join(d, 'staging')
    os.mkdir(inbox)
    os.mkdir(staging)
    for f in range(FILES):
        write_digest(os.path.join(staging, f'd{f:05d}.md'), papers, f * PAPERS)
    with Receiver() as r:
        conf = write_config(os.path.join(d, 'pw.conf'),
                            [{'name': 'hook', 'type': 'webhook', 'url': r.url}],
                            make_rules(papers, rng), state=os.path.join(d, 'state.db'),
                            watch={'dir': inbox}, delivery={'retry_base': '100ms'})
        # What must arrive: every (paper, rule) the dry run says matches.
        m = pw('match', '-c', conf, *sorted(os.path.join(staging, f) for f in os.listdir(staging)),
               timeout=1800)
        matched = [json.loads(l) for l in m.stdout.decode().splitlines()]
        expected = {(o['id'], rule) for o in matched for rule in o['rules']}
        # Each digest with a match brings one message: its papers are k*100 ... k*100+99.
        by_id = {paper_id(k): k // PAPERS for k in range(FILES * PAPERS)}
        digests_matched = {by_id[o['id']] for o in matched}
        assert expected, 'the rules should match something'
        names = sorted(os.listdir(staging))
        with Daemon(conf, d, verbose=False) as daemon:
            daemon.start()
            # A first digest opens what stays open (libcurl's kept-alive connection), so that
            # the count after the load compares like with like.
            os.rename(os.path.join(staging, names[0]), os.path.join(inbox, names[0]))
            wait_until(lambda: len(r.requests) >= 1, 60, 'the first message')
            before = fds(daemon.proc.pid)
            start = time.monotonic()
            for name in names[1:]:
                os.rename(os.path.join(staging, name), os.path.join(inbox, name))
            wait_until(lambda: len(r.requests) >= len(digests_matched), 3600,
                       'a message for every digest with a match')
            took = time.monotonic() - start
            peak = peak_rss_kib(daemon.proc.pid)
            after = fds(daemon.proc.pid)
            assert daemon.stop() == 0
        seen = collections.defaultdict(set)
        for q in r.requests:
            for p in q.json()['papers']:
                for rule in p['rules']:
                    seen[(p['id'], rule)].add(q.headers['webhook-id'])
        assert set(seen) == expected, (len(set(seen) - expected), len(expected - set(seen)))
        split = [k for k, ids in seen.items() if len(ids) > 1]
        assert not split, split[:3]
        print(f'# {FILES} digests, {FILES * PAPERS} papers, {RULES} rules: {len(expected)} '
              f'alerts in {len(r.requests)} messages, {took:.1f} s; peak RSS {peak / 1024:.1f} '
              f'MiB; descriptors {before} before, {after} after')
        assert after == before
        assert peak < 128 * 1024, f'peak RSS {peak} KiB'


if __name__ == '__main__':
    run()
