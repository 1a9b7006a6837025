#!/usr/bin/env python3
"""test_load.py — load: many digests of 100 papers each through the running daemon with 1,000
rules. Every alert arrives exactly once, memory stays bounded (peak RSS reported), and no
descriptor leaks. PW_LOAD_FILES sets the number of digests: 300 here, 10,000 in `make stress`.

The check itself must scale like the daemon: alerts are counted per rule, streaming both the
dry run's output (`paperwatch match`) and the file channel's lines, never held in memory. Each
paper is in exactly one digest, so equal counts per rule mean nothing lost and nothing repeated."""
import collections
import json
import os
import random
import re
import subprocess
import time

from harness import test, run, write_config, Daemon, tmpdir, wait_until, pw, digests, BINARY

FILES = int(os.environ.get('PW_LOAD_FILES', '300'))
PAPERS = 100
RULES = 1000


def sample_papers():
    return [json.loads(l) for l in pw('parse', *digests()).stdout.decode().splitlines()]


def paper_id(k):
    """A distinct valid arXiv id for paper number k (up to 1.2 million a year of ids)."""
    return f'{24 + k // 1200000:02d}{1 + k // 100000 % 12:02d}.{k % 100000:05d}'


def make_rules(papers, rng):
    """1,000 rules from the samples: authors, two-word phrases of titles, rare prefixes."""
    authors = sorted({a for p in papers for a in (p['authors'] or []) if ' ' in a})
    pairs = sorted({f'{a} {b}' for p in papers
                    for a, b in zip(re.findall(r'[A-Za-z]{4,}', p['title']),
                                    re.findall(r'[A-Za-z]{4,}', p['title'])[1:])})
    rules = []
    for i in range(RULES):
        if i % 5 < 2:
            q = f'author:"{rng.choice(authors)}"'
        elif i % 5 < 4:
            q = f'title:"{rng.choice(pairs)}"'
        else:
            q = f'abstract:"{rng.choice(pairs)}" -survey'
        rules.append({'name': f'r{i:04d}', 'query': q})
    return rules


def write_digest(path, papers, first):
    with open(path, 'w') as f:
        for k in range(first, first + PAPERS):
            p = papers[k % len(papers)]
            f.write(f"Title: {p['title']}\nPDF: https://arxiv.org/pdf/{paper_id(k)}\n"
                    f"Authors: {', '.join(p['authors'] or ['Anonymous'])}\n"
                    f"Summary: {p['abstract'] or ''}\n---\n")


def count_rules(path):
    """(alerts per rule, papers) over a file of JSON lines that carry "rules", streamed."""
    per_rule, papers = collections.Counter(), 0
    with open(path, encoding='utf-8') as f:
        for line in f:
            papers += 1
            per_rule.update(json.loads(line)['rules'])
    return per_rule, papers


def settled_fds(pid):
    """Open descriptors once transient ones (the output file while it is written) are closed:
    the least of a few looks."""
    seen = []
    for _ in range(10):
        seen.append(len(os.listdir(f'/proc/{pid}/fd')))
        time.sleep(0.02)
    return min(seen)


def lines(path, state={}):
    """Lines in a growing file, reading only what is new since the last call."""
    off, n = state.get(path, (0, 0))
    try:
        with open(path, 'rb') as f:
            f.seek(off)
            chunk = f.read()
    except FileNotFoundError:
        return 0
    state[path] = (off + len(chunk), n + chunk.count(b'\n'))
    return state[path][1]


@test
def many_digests_with_a_thousand_rules_deliver_every_alert_in_bounded_memory():
    rng = random.Random(11)
    papers = sample_papers()
    d = tmpdir()
    inbox, staging = os.path.join(d, 'inbox'), os.path.join(d, 'staging')
    os.mkdir(inbox)
    os.mkdir(staging)
    names = [f'd{f:05d}.md' for f in range(FILES)]
    for f, name in enumerate(names):
        write_digest(os.path.join(staging, name), papers, f * PAPERS)
    out = os.path.join(d, 'out.jsonl')
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'out', 'type': 'file', 'path': out}],
                        make_rules(papers, rng), state=os.path.join(d, 'state.db'),
                        watch={'dir': inbox})
    # What must arrive: every (paper, rule) the dry run says matches, counted per rule.
    dry = os.path.join(d, 'match.jsonl')
    with open(dry, 'wb') as f:
        subprocess.run([BINARY, 'match', '--json', '-c', conf]
                       + [os.path.join(staging, n) for n in names],
                       stdout=f, check=True, timeout=3600)
    expected, matched_papers = count_rules(dry)
    assert matched_papers > 0, 'the rules should match something'
    with Daemon(conf, d, verbose=False) as daemon:
        daemon.start()
        # A first digest opens what stays open, so that descriptors compare like with like.
        os.rename(os.path.join(staging, names[0]), os.path.join(inbox, names[0]))
        wait_until(lambda: 'd00000.md' in daemon.log_text(), 60, 'the first digest')
        before = settled_fds(daemon.proc.pid)
        start = time.monotonic()
        for name in names[1:]:
            os.rename(os.path.join(staging, name), os.path.join(inbox, name))
        wait_until(lambda: lines(out) >= matched_papers, 7200, 'every matched paper')
        took = time.monotonic() - start
        with open(f'/proc/{daemon.proc.pid}/status') as f:
            peak = int(next(l for l in f if l.startswith('VmHWM:')).split()[1])
        after = settled_fds(daemon.proc.pid)
        assert daemon.stop() == 0
    delivered, delivered_papers = count_rules(out)
    missing = {r: n - delivered[r] for r, n in expected.items() if delivered[r] < n}
    extra = {r: n - expected[r] for r, n in delivered.items() if n > expected[r]}
    print(f'# {FILES} digests, {FILES * PAPERS} papers, {RULES} rules: '
          f'{sum(expected.values())} alerts ({matched_papers} papers) in {took:.1f} s; '
          f'peak RSS {peak / 1024:.1f} MiB; descriptors {before} before, {after} after')
    assert not missing and not extra, (list(missing.items())[:3], list(extra.items())[:3])
    assert delivered_papers == matched_papers
    assert after == before
    assert peak < 128 * 1024, f'peak RSS {peak} KiB'


if __name__ == '__main__':
    run()
