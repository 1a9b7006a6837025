#!/usr/bin/env python3
"""run.py — `make bench`: every benchmark of paperwatch, with the figures as ratios measured in
the same run, written to tests/bench/results/latest.json and printed as Markdown tables.

The machines are shared and noisy, so each figure is set beside a reference measured in the same
run and interleaved with it (the parser beside `wc -l` on the same file, paperwatch beside the
shell pipeline and the Python script users would otherwise run), and medians are used.

Sections, each kept in latest.json under its own key (a section not run keeps its last figures):

  parse    the parser on 100 MB digests beside `wc -l` (bench_parse.c)
  match    the matcher on 100,000 papers against 10, 1,000 and 10,000 generated rules, each
           beside ten rules (bench_match.c, gen_rules.py)
  compare  paperwatch against the baselines (compare.py)
  memory   paperwatch's memory after start, with a file notifier and with a webhook, beside
           the baselines and libcurl's floor (memory.py)

BENCH_ONLY=parse,compare runs only the sections named; BENCH_QUICK=1 makes compare small (see
compare.settings() for each size's variable) and memory's rounds fewer (BENCH_MEMORY_ROUNDS).
"""
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import compare
import memory
import report

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, 'build', 'rel', 'tests', 'bench')
DATA = os.path.join(HERE, 'data')
RESULTS = os.path.join(HERE, 'results', 'latest.json')
BINARY = os.path.join(ROOT, 'paperwatch')
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
SAMPLES = os.path.join(ROOT, 'tests', 'fixtures', 'digests')
SECTIONS = ('parse', 'match', 'compare', 'memory')


def machine():
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    return {'cpu': cpu, 'cores': os.cpu_count(), 'kernel': platform.release(),
            'date': time.strftime('%Y-%m-%d')}


def wall(argv):
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def bench_parse():
    files = ['hf-daily.md', 'arxiv-daily.md', 'date-table.md', 'records.txt']
    if not all(os.path.exists(os.path.join(DATA, f)) for f in files):
        print('generating 100 MB digests in tests/bench/data ...', flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, 'gen_digests.py'), BINARY, DATA, '100'],
                       check=True)
    rows = []
    for name in files:
        path = os.path.join(DATA, name)
        with open(path, 'rb') as f:  # into the page cache, for both tools alike
            while f.read(1 << 20):
                pass
        parse_t, wc_t = [], []
        for _ in range(ROUNDS):
            out = subprocess.run([os.path.join(BUILD, 'bench_parse'), path], check=True,
                                 capture_output=True).stdout
            r = json.loads(out)
            parse_t.append(r['median_s'])
            wc_t.append(statistics.median(wall(['wc', '-l', path]) for _ in range(3)))
        p, w = statistics.median(parse_t), statistics.median(wc_t)
        mb = r['bytes'] / 1e6
        rows.append({'format': r['format'], 'megabytes': round(mb, 1), 'papers': r['papers'],
                     'parse_s': round(p, 4), 'parse_mb_s': round(mb / p), 'wc_l_s': round(w, 4),
                     'wc_l_mb_s': round(mb / w), 'ratio_to_wc_l': round(p / w, 2),
                     'runs': ROUNDS})
    return rows


MATCH_RULES = [10, 1000, 10000]
MATCH_PAPERS = 100000


def bench_match():
    """Papers per second, on one core, for each number of rules; rounds interleaved by rule count
    so that a noisy moment falls on all of them alike."""
    digests = sorted(glob.glob(os.path.join(SAMPLES, '*.txt')))
    rules = {}
    for n in MATCH_RULES:
        rules[n] = os.path.join(DATA, f'rules-{n}.txt')
        subprocess.run([sys.executable, os.path.join(HERE, 'gen_rules.py'), BINARY, str(n),
                        rules[n]], check=True)
    runs = {n: [] for n in MATCH_RULES}
    for _ in range(ROUNDS):
        for n in MATCH_RULES:
            out = subprocess.run([os.path.join(BUILD, 'bench_match'), rules[n], str(MATCH_PAPERS),
                                  *digests], check=True, capture_output=True).stdout
            runs[n].append(json.loads(out))
    rows = []
    for n in MATCH_RULES:
        t = statistics.median(r['median_s'] for r in runs[n])
        te = statistics.median(r['explain_median_s'] for r in runs[n])
        r = runs[n][0]
        rows.append({'rules': n, 'papers': r['papers'], 'seconds': round(t, 4),
                     'papers_per_s': round(r['papers'] / t), 'us_per_paper': round(t / r['papers'] * 1e6, 2),
                     'papers_per_s_explain': round(r['papers'] / te),
                     'matches_per_paper': r['matches_per_paper'], 'hits_per_paper': r['hits_per_paper'],
                     'compile_s': round(statistics.median(x['compile_s'] for x in runs[n]), 4),
                     'runs': ROUNDS})
    base = rows[0]['us_per_paper']
    for row in rows:
        row['ratio_to_10_rules'] = round(row['us_per_paper'] / base, 2)
    return rows


def main():
    only = os.environ.get('BENCH_ONLY')
    sections = only.split(',') if only else SECTIONS
    results = {}
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            results = json.load(f)
    results['machine'] = machine()
    if 'parse' in sections:
        results['parse'] = bench_parse()
    if 'match' in sections:
        results['match'] = bench_match()
    if 'compare' in sections:
        print('comparing paperwatch with the baselines ...', flush=True)
        results['compare'] = compare.run(BINARY)
    if 'memory' in sections:
        print('measuring memory after start ...', flush=True)
        results['memory'] = memory.run()
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, 'w') as f:
        json.dump(results, f, indent=2)
        f.write('\n')
    print()
    print(report.markdown(results, sections))


if __name__ == '__main__':
    main()
