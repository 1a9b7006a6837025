#!/usr/bin/env python3
"""like_quality.py — how well like: ranks, on topic-labelled real digests: arxiv-daily files have
one section per topic, so part of one topic can stand for a researcher's library and the rest of
that topic, beside the papers of another topic, for a day's digest. For each pair of topics
(A, B): the first half of A's papers (in the digest's order) is the library, written as BibTeX;
the other half of A are the papers to find and B's papers those to leave; `paperwatch match
--like LIB --min-score 0 --json` scores them. Reported per pair: ROC AUC (the chance that a paper
of A outscores one of B) and precision at 10, beside a plain TF-IDF cosine baseline computed
here (raw term counts, words of two or more letters, no stemming, no bigrams, no field weights,
smoothed IDF over the library and the candidates, each candidate's cosine with the library's
centroid). Twice: titles only, and titles with abstracts where the digests give them.

usage: like_quality.py PAPERWATCH [DIGESTS_DIR]  — prints one JSON object."""
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REAL = os.path.join(os.path.dirname(ROOT), 'shared', 'digests', 'real')
# (name, files, heading level of a topic, whether abstracts are used)
SOURCES = [
    ('cv-arxiv-daily', ['Vincentqyw__cv-arxiv-daily/README_2024-12-31.md'], '## ', False),
    ('arxiv-daily-in-place', ['jawatech__arxiv-daily-in-place/*.md'], '### ', True),
]
MIN_TOPIC = 30  # papers a topic needs to be split into a library and papers to find
TOKEN = re.compile(r'(?u)\b\w\w+\b')


def sections(path, level):
    """{topic: text} of one digest, cut at headings of the level."""
    out, name, buf = {}, None, []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            if line.startswith(level):
                if name:
                    out.setdefault(name, []).append(''.join(buf))
                name, buf = line[len(level):].strip(), []
            elif name:
                buf.append(line)
    if name:
        out.setdefault(name, []).append(''.join(buf))
    return out


def parse(binary, text, d):
    path = os.path.join(d, 'section.md')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    p = subprocess.run([binary, 'parse', path], capture_output=True, text=True)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def topics(binary, files, level, abstracts, d):
    """{topic: [paper]} over the files, each paper once (by id), in the order first met."""
    import glob
    found, seen = {}, {}
    for pattern in files:
        for path in sorted(glob.glob(os.path.join(REAL, pattern))):
            for name, chunks in sections(path, level).items():
                for chunk in chunks:
                    for p in parse(binary, chunk, d):
                        if not p.get('id') or (abstracts and not p.get('abstract')):
                            continue
                        seen.setdefault(p['id'], set()).add(name)
                        lst = found.setdefault(name, {})
                        lst.setdefault(p['id'], p)
    # A paper filed under two topics tells neither apart.
    return {name: [p for i, p in ps.items() if len(seen[i]) == 1]
            for name, ps in found.items()}


def bib_escape(s):
    return s.replace('\\', ' ').replace('{', '(').replace('}', ')')


def write_library(path, papers, abstracts):
    with open(path, 'w', encoding='utf-8') as f:
        for i, p in enumerate(papers):
            f.write(f'@article{{p{i},\n  title = {{{bib_escape(p["title"])}}},\n')
            if abstracts and p.get('abstract'):
                f.write(f'  abstract = {{{bib_escape(p["abstract"])}}},\n')
            f.write(f'  eprint = {{{p["id"]}}},\n}}\n')


def write_digest(path, papers, abstracts):
    with open(path, 'w', encoding='utf-8') as f:
        for p in papers:
            f.write(f'Title: {p["title"]}\nPDF: https://arxiv.org/pdf/{p["id"]}\n')
            if abstracts and p.get('abstract'):
                f.write('Summary: ' + ' '.join(p['abstract'].split()) + '\n')
            f.write('---\n')


def tfidf_baseline(library, candidates, abstracts):
    """Each candidate's cosine with the library's centroid: plain TF-IDF."""
    def terms(p):
        t = p['title'] + (' ' + p['abstract'] if abstracts and p.get('abstract') else '')
        return Counter(TOKEN.findall(t.lower()))
    docs = [terms(p) for p in library] + [terms(p) for p in candidates]
    df = Counter(t for d in docs for t in d)
    n = len(docs)
    idf = {t: math.log((1 + n) / (1 + k)) + 1 for t, k in df.items()}

    def vec(c):
        v = {t: k * idf[t] for t, k in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1
        return {t: x / norm for t, x in v.items()}
    centroid = Counter()
    for d in docs[:len(library)]:
        for t, x in vec(d).items():
            centroid[t] += x / len(library)
    cn = math.sqrt(sum(x * x for x in centroid.values())) or 1
    return [sum(x * centroid.get(t, 0) for t, x in vec(d).items()) / cn
            for d in docs[len(library):]]


def auc(scores, labels):
    """ROC AUC by ranks, ties counting half."""
    pos = [s for s, l in zip(scores, labels) if l]
    neg = [s for s, l in zip(scores, labels) if not l]
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def precision_at(scores, labels, k=10):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return sum(labels[i] for i in order[:k]) / k


def ours(binary, library, candidates, abstracts, d):
    lib, dig = os.path.join(d, 'library.bib'), os.path.join(d, 'digest.txt')
    write_library(lib, library, abstracts)
    write_digest(dig, candidates, abstracts)
    p = subprocess.run([binary, 'match', '--like', lib, '--min-score', '0', '--json', dig],
                       capture_output=True, text=True, check=True)
    by_id = {}
    for line in p.stdout.splitlines():
        x = json.loads(line)
        by_id.setdefault(x['id'], x['score'])
    return [by_id.get(c['id'], 0.0) for c in candidates]


THRESHOLDS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4]


def shares(mine, labels):
    """Per threshold: the share of the papers to find, and of those to leave, scoring it or more."""
    pos = [s for s, l in zip(mine, labels) if l]
    neg = [s for s, l in zip(mine, labels) if not l]
    return [(sum(s >= t for s in pos) / len(pos), sum(s >= t for s in neg) / len(neg))
            for t in THRESHOLDS]


def run(binary):
    rows, kept = [], {}
    with tempfile.TemporaryDirectory() as d:
        for source, files, level, has_abstracts in SOURCES:
            t = topics(binary, files, level, has_abstracts, d)
            names = sorted(n for n, ps in t.items() if len(ps) >= MIN_TOPIC)
            for a, b in itertools.permutations(names, 2):
                half = len(t[a]) // 2
                library, positives, negatives = t[a][:half], t[a][half:], t[b]
                candidates = positives + negatives
                labels = [True] * len(positives) + [False] * len(negatives)
                for abstracts in ([False, True] if has_abstracts else [False]):
                    mine = ours(binary, library, candidates, abstracts, d)
                    kept.setdefault('title + abstract' if abstracts else 'title', []).append(
                        shares(mine, labels))
                    base = tfidf_baseline(library, candidates, abstracts)
                    rows.append({
                        'source': source, 'library': a, 'other': b,
                        'text': 'title + abstract' if abstracts else 'title',
                        'library_papers': len(library), 'to_find': len(positives),
                        'to_leave': len(negatives),
                        'auc': round(auc(mine, labels), 4),
                        'baseline_auc': round(auc(base, labels), 4),
                        'p_at_10': precision_at(mine, labels),
                        'baseline_p_at_10': precision_at(base, labels),
                        # The scores of what is to find and what is to leave, for min_score.
                        'median_to_find': round(sorted(mine[:len(positives)])[len(positives) // 2], 3),
                        'p90_to_leave': round(sorted(mine[len(positives):])[int(len(negatives) * 0.9)], 3),
                    })
    # The mean over the pairs, per threshold: what a min_score keeps and lets through.
    thresholds = [{'text': text, 'min_score': t,
                   'found': round(sum(s[i][0] for s in v) / len(v), 3),
                   'let_through': round(sum(s[i][1] for s in v) / len(v), 3)}
                  for text, v in kept.items() for i, t in enumerate(THRESHOLDS)]
    return {'pairs': rows, 'thresholds': thresholds}


if __name__ == '__main__':
    if len(sys.argv) > 2:
        REAL = sys.argv[2]
    print(json.dumps(run(sys.argv[1]), indent=1))
