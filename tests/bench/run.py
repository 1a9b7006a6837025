#!/usr/bin/env python3
"""run.py — `make bench`: every benchmark of paperwatch, with the figures as ratios measured in
the same run, written to tests/bench/results/latest.json and printed as Markdown tables.

The machines are shared and noisy, so each figure is set beside a reference measured in the same
run and interleaved with it (the parser beside `wc -l` on the same file, paperwatch beside the
shell pipeline and the Python script users would otherwise run), and medians are used.

Sections, each kept in latest.json under its own key (a section not run keeps its last figures):

  parse    the parser on 100 MB digests beside `wc -l` (bench_parse.c)
  match    the matcher, when tests/bench/bench_match.c exists: its binary is run on the sample
           digests and must print one JSON object per line; rows with `rules` and a throughput
           (a key ending in `_per_s`) also give the rules-vs-throughput plot
  compare  paperwatch against the baselines (compare.py)

BENCH_ONLY=parse,compare runs only the sections named; BENCH_QUICK=1 makes compare small (see
compare.settings() for each size's variable).
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import compare
import report

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, 'build', 'rel', 'tests', 'bench')
DATA = os.path.join(HERE, 'data')
RESULTS = os.path.join(HERE, 'results', 'latest.json')
BINARY = os.path.join(ROOT, 'paperwatch')
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
SAMPLES = os.path.join(ROOT, 'tests', 'fixtures', 'digests')
SECTIONS = ('parse', 'match', 'compare')


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


def bench_match():
    """The matcher benchmark's own rows, when its binary was built."""
    binary = os.path.join(BUILD, 'bench_match')
    if not os.path.exists(binary):
        return None
    files = sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith('.txt'))
    out = subprocess.run([binary, *files], check=True, capture_output=True).stdout.decode()
    return [json.loads(line) for line in out.splitlines() if line.strip()]


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
        rows = bench_match()
        if rows is not None:
            results['match'] = rows
    if 'compare' in sections:
        print('comparing paperwatch with the baselines ...', flush=True)
        results['compare'] = compare.run(BINARY)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, 'w') as f:
        json.dump(results, f, indent=2)
        f.write('\n')
    print()
    print(report.markdown(results, sections))


if __name__ == '__main__':
    main()
