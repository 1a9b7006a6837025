#!/usr/bin/env python3
"""gen_rules.py — writes N interest rules for the matcher benchmark, one query a line, of one of
two sets:

  real   rules as readers write them, for papers they have not seen. The real digests of
         tests/fixtures/real are split in two (real_split(): every other file, by name); the
         vocabulary comes from the papers of one half that the other half does not have, and the
         other half is what is matched. Topics are taken from titles, where they are named: title
         phrases of two or three words, single words that such phrases are made of, the acronyms
         a field names its methods by (LLM, NeRF, SLAM), stems of title words as prefixes, and
         authors' names. A rule draws its topic with Zipf-like popularity (the k-th topic with
         weight 1/(k + ZIPF_Q)), topics ranked by how many papers have them, blurred by chance,
         so that a few topics are followed by many rules and most by one; and no topic more than
         one paper in RARE has (a rule is an interest, not a word of the language). About a
         fifth are words, a third phrases, a tenth prefixes, a tenth authors, some fielded
         (title:, abstract:), some combinations (OR for synonyms, two terms both wanted) and a
         few negations (-survey, AND NOT). Calibrated so that at 10,000 rules a paper of the
         other half matches 3 rules at the median and about 9 on average.
  worst  the old set, drawn from the very papers that are matched (the sample digests): words no
         commoner than one paper in twenty, two-word title phrases, stems as prefixes, author
         names, some boolean combinations; with many rules nearly every word of a paper is some
         rule's term, so each paper matches ~159 rules at 10,000: the worst case.

Both put one regular expression, with a literal, in every thousand rules. The same seed gives
nested sets: the first 1,000 of 10,000 rules are the 1,000 (regular expressions aside).

usage: gen_rules.py real|worst PAPERWATCH N OUT [SEED]
       gen_rules.py files PAPERWATCH      (the matched half of the real digests, one a line)
"""
import bisect
import collections
import glob
import itertools
import json
import math
import os
import random
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REAL = os.path.join(ROOT, 'tests', 'fixtures', 'real')
WORD = re.compile(r'[^\W_]+')
STOP = set('''that this with from have were been their which these those there than then into
such also more most some only over under about between through each both other while when where
what will would could should does using used based show shows paper approach method methods
they them your ours many very much just even like make makes made across within without
results propose proposed present work however further well high large small first second'''.split())
# Words no topic is named by, for the real set: the short ones, and those every field uses.
REAL_STOP = STOP | set('''a an the of for in on to and or not by via at as is are be its it we
our can do how why all one two new novel study analysis toward towards any beyond versus vs
learning model models network networks deep neural data image images framework efficient robust
task tasks performance training system systems language generation detection semi multi self
cross pre non wide side wild aim open real time zero shot few fine low end long short state art
aware free'''.split())
# Endings of words that qualify a topic rather than name one (accelerating, qualitatively).
NOT_NOUN = ('ly', 'ing', 'ed', 'able', 'ible', 'ive', 'ous', 'ful', 'less', 'est')
# Words that join a phrase to the next thing said, not to a topic ("meets neural radiance").
CONNECT = set('''meets aware based driven general guided enhanced improved improving simple
unified effective scalable better'''.split())
# Endings cut off a title word to make the stem a reader writes as a prefix (segment*, quantiz*).
SUFFIXES = ('ization', 'isation', 'ation', 'ition', 'ing', 'ion', 'ers', 'er', 'ed', 'es', 's')
ACRONYM = re.compile(r'[A-Z0-9]*[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*')
NAME = re.compile(r"[A-Z][A-Za-z.'-]*( [A-Z][A-Za-z.'-]*)+")
# The real set's calibration (see the docstring).
ZIPF_Q = 10
BLUR = 2.0  # the standard deviation of the chance added to the logarithm of a topic's count
RARE = 425


def parse(binary, files):
    out = subprocess.run([binary, 'parse', *files], check=True, capture_output=True).stdout
    return [json.loads(line) for line in out.decode().splitlines()]


def sample_papers(binary):
    d = os.path.join(ROOT, 'tests', 'fixtures', 'digests')
    return parse(binary, sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.txt')))


def real_split(binary):
    """(vocabulary files, matched files) of the real digests that paperwatch reads."""
    files = sorted(f for f in glob.glob(os.path.join(REAL, '*', '*'))
                   if subprocess.run([binary, 'parse', f], capture_output=True).returncode == 0)
    return files[0::2], files[1::2]


# --- the worst case ----------------------------------------------------------------------------

def worst_vocabulary(papers):
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


def worst_rule(rng, words, phrases, authors):
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


def worst_rules(binary, n, rng):
    words, phrases, authors = worst_vocabulary(sample_papers(binary))
    rules = [worst_rule(rng, words, phrases, authors) for _ in range(n)]
    return rules, lambda: regex(rng, words, phrases)


# --- the real set ------------------------------------------------------------------------------

def topical(w):
    return len(w) >= 3 and w.isascii() and not w.isdigit() and w not in REAL_STOP


def stem_of(w):
    for x in SUFFIXES:
        if w.endswith(x) and len(w) - len(x) >= 5:
            return w[:-len(x)]
    return None


def grams_of(t):
    """The phrases of two and three words of the words t that could name a topic."""
    out = set()
    for n in (2, 3):
        for g in zip(*(t[i:] for i in range(n))):
            if (topical(g[0]) and topical(g[-1]) and not CONNECT & set(g)
                    and all(topical(w) or w == 'of' for w in g[1:-1])):
                out.add(' '.join(g))
    return out


class Topics:
    """The candidates of one kind, most popular first, drawn with Zipf-like weights."""

    def __init__(self, items):
        self.items = items
        self.cum = list(itertools.accumulate(1 / (k + ZIPF_Q) for k in range(len(items))))

    def __call__(self, rng):
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


def real_vocabulary(papers, rng):
    """Topics of each kind, from titles; how many papers have one is counted in the whole text,
    where a rule looks for it."""
    words, phrases, stems = set(), set(), set()
    df, authors, caps = collections.Counter(), collections.Counter(), collections.Counter()
    for p in papers:
        t = [w.lower() for w in WORD.findall(p['title'])]
        full = t + [w.lower() for w in WORD.findall(p['abstract'] or '')]
        words.update(w for w in t if topical(w) and len(w) >= 4 and not w.endswith(NOT_NOUN))
        for a in set(WORD.findall(p['title'])):
            caps[a.lower()] += 1 if ACRONYM.fullmatch(a) else -1
        phrases |= grams_of(t)
        stems.update(stem_of(w) for w in t if len(w) >= 7 and topical(w) and stem_of(w))
        seen = set(full) | grams_of(full)
        df.update(seen | {w[:k] for w in set(full) for k in range(5, len(w) + 1)})
        authors.update(a for a in p['authors'] or [] if NAME.fullmatch(a))
    # A word names a topic when recurring title phrases are made of it (splatting, diffusion),
    # or when titles write it in capitals, as fields name their methods (LLM, NeRF, SLAM).
    in_phrases = collections.Counter(w for g in phrases if df[g] >= 3 for w in set(g.split()))
    acronyms = {a.removesuffix('s') for a, v in caps.items()
                if v >= 2 and 2 <= len(a) <= 8 and not a[0].isdigit() and a not in REAL_STOP}
    words = {w for w in words if in_phrases[w] >= 2} | acronyms
    surnames = collections.Counter(a.split()[-1] for a in authors)
    most = len(papers) / RARE

    def ranked(items, least, cap):
        items = [t for t in items if least <= df[t] <= cap]
        blur = {t: math.log(df[t]) + rng.gauss(0, BLUR) for t in sorted(items)}
        return Topics(sorted(blur, key=lambda t: -blur[t]))
    return {'word': ranked(words, 3, most), 'phrase': ranked(phrases, 3, 2 * most),
            'stem': ranked(stems, 3, most),
            'author': Topics(sorted(authors, key=lambda a: (-authors[a], a))),
            'rare_surname': {s for s, k in surnames.items() if k == 1}}


def real_rule(rng, v):
    """One rule as readers write them: mostly one topic, some fielded, some combined."""
    w = lambda: v['word'](rng)
    ph = lambda: '"%s"' % v['phrase'](rng)
    pfx = lambda: v['stem'](rng) + '*'
    topic = lambda: rng.choice([w, ph, ph, pfx])()
    k = rng.random()
    if k < 0.20:
        return w()
    if k < 0.28:
        return pfx()
    if k < 0.56:
        return ph()
    if k < 0.60:  # "remote sensing ima*"
        p = v['phrase'](rng).split()
        return '"%s %s*"' % (' '.join(p[:-1]), p[-1][:max(3, len(p[-1]) - 2)])
    if k < 0.66:
        return 'title:' + rng.choice([w, ph])()
    if k < 0.78:
        a = v['author'](rng)
        if a.split()[-1] in v['rare_surname'] and rng.random() < 0.3:
            return 'author:' + a.split()[-1]
        return 'author:"%s"' % a
    if k < 0.80:
        return 'abstract:' + ph()
    if k < 0.87:
        return '%s OR %s' % (topic(), topic())
    if k < 0.93:
        return '%s %s' % (topic(), topic())
    if k < 0.96:
        return '%s -%s' % (topic(), rng.choice(['survey', 'review', 'benchmark', w()]))
    if k < 0.98:
        return '(%s OR %s) -title:survey' % (topic(), topic())
    return '(%s OR %s) AND NOT %s' % (topic(), topic(), topic())


def real_regex(rng, v):
    a, b = v['phrase'](rng).split()[:2]
    return rng.choice(['/%s[- ]%s/' % (a, b), '/\\b%s\\w*/' % v['stem'](rng)])


def real_rules(binary, n, rng):
    vocab_files, match_files = real_split(binary)
    matched = {p['id'] for p in parse(binary, match_files)}
    papers = {}
    for p in parse(binary, vocab_files):
        if p['id'] not in matched:
            papers.setdefault(p['id'], p)
    v = real_vocabulary(list(papers.values()), random.Random(rng.random()))
    return [real_rule(rng, v) for _ in range(n)], lambda: real_regex(rng, v)


def main():
    if sys.argv[1] == 'files':
        print('\n'.join(real_split(sys.argv[2])[1]))
        return
    kind, binary, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    rules, rx = (real_rules if kind == 'real' else worst_rules)(binary, n, rng)
    for i in rng.sample(range(n), round(n / 1000)):
        rules[i] = rx()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write('\n'.join(rules) + '\n')


if __name__ == '__main__':
    main()
