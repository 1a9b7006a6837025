#!/usr/bin/env python3
"""gen_rules.py — writes N random interest rules for the matcher benchmark, one query a line.

The vocabulary is the sample digests' own (through `paperwatch parse`): words of four letters or
more (no stop words), two-word phrases from titles, stems of longer words as prefixes, author
names, and
from those a few boolean combinations and, one per thousand rules, a regular expression. Words are
drawn uniformly from the distinct ones, as users name topics rather than common words; so with
many rules nearly every word of a paper is some rule's term, which is the case to measure.

usage: gen_rules.py PAPERWATCH N OUT [SEED]
"""
import json
import os
import random
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STOP = set('''that this with from have were been their which these those there than then into
such also more most some only over under about between through each both other while when where
what will would could should does using used based show shows paper approach method methods
they them your ours many very much just even like make makes made across within without
results propose proposed present work however further well high large small first second'''.split())
WORD = re.compile(r'[^\W_]+')


def sample_papers(binary):
    d = os.path.join(ROOT, 'tests', 'fixtures', 'digests')
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.txt'))
    out = subprocess.run([binary, 'parse', *files], check=True, capture_output=True).stdout
    return [json.loads(l) for l in out.decode().splitlines()]


def vocabulary(papers):
    """Words, title phrases and author names; a word found in more than one paper in twenty
    (task, introduce, various) names no topic, so it is left out, as a user would."""
    df, phrases, authors = {}, set(), set()
    for p in papers:
        seen = set()
        for text in (p['title'], p['abstract'] or ''):
            for w in WORD.findall(text):
                w = w.lower()
                if len(w) >= 4 and w not in STOP and not w.isdigit() and w.isascii():
                    seen.add(w)
        for w in seen:
            df[w] = df.get(w, 0) + 1
    words = {w for w, n in df.items() if n <= len(papers) / 20}
    for p in papers:
        t = [w.lower() for w in WORD.findall(p['title'])]
        for a, b in zip(t, t[1:]):
            if len(a) >= 3 and len(b) >= 3 and a not in STOP and b not in STOP:
                phrases.add((a, b))
        for a in p['authors'] or []:
            if ' ' in a and '"' not in a:
                authors.add(a)
    return sorted(words), sorted(phrases), sorted(authors)


def stem(rng, words):
    """A prefix as people write them: a longer word less its ending (generat*, retriev*)."""
    x = rng.choice([w for w in words if len(w) >= 7])
    return x[:len(x) - rng.randint(2, 3)] + '*'


def rule(rng, words, phrases, authors):
    """One rule: mostly single terms, as most interests are, and some combinations."""
    w = lambda: rng.choice(words)
    ph = lambda: '"%s %s"' % rng.choice(phrases)
    k = rng.random()
    if k < 0.35:
        return w()
    if k < 0.45:
        return 'title:' + w()
    if k < 0.58:
        return stem(rng, words)
    if k < 0.72:
        return ph()
    if k < 0.80:
        name = rng.choice(authors)
        return 'author:"%s"' % name if rng.random() < 0.7 else 'author:' + name.split()[-1]
    if k < 0.86:
        return '%s OR %s' % (w(), ph())
    if k < 0.92:
        return '%s %s -%s' % (w(), w(), w())
    if k < 0.96:
        return 'title:(%s OR %s) -survey' % (w(), w())
    return '(%s OR %s) AND NOT %s' % (ph(), stem(rng, words), w())


def regex(rng, words, phrases):
    a, b = rng.choice(phrases)
    c = rng.choice(words)
    return rng.choice(['/%s (%s|%s)/' % (a, b, c), '/\\b%s\\w*/' % c[:5], '/%s[- ]%s/' % (a, b)])


def main():
    binary, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    words, phrases, authors = vocabulary(sample_papers(binary))
    rules = [rule(rng, words, phrases, authors) for _ in range(n)]
    for i in rng.sample(range(n), round(n / 1000)):
        rules[i] = regex(rng, words, phrases)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write('\n'.join(rules) + '\n')


if __name__ == '__main__':
    main()
