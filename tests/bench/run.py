#!/usr/bin/env python3
"""run.py — `make bench`: every benchmark of paperwatch, with the figures as ratios measured in
the same run, written to tests/bench/results/latest.json and printed as Markdown tables.

The machines are shared and noisy, so each figure is set beside a reference measured in the same
run and interleaved with it (the parser beside `wc -l` on the same file, paperwatch beside the
shell pipeline and the Python script users would otherwise run), and medians are used.

Sections, each kept in latest.json under its own key (a section not run keeps its last figures):

  parse    the parser on 100 MB digests beside `wc -l` (bench_parse.c)
  match    the matcher on 100,000 papers against 10, 1,000 and 10,000 realistic rules, each
           beside ten rules, on the half of the real digests the rules were not drawn from;
           the worst case (10,000 rules drawn from the papers matched) beside ten such rules;
           and `paperwatch match --json` end to end at 10 and 10,000 rules (bench_match.c,
           gen_rules.py)
  compare  paperwatch against the baselines (compare.py)
  memory   paperwatch's memory after start, with a file notifier and with a webhook, beside
           the baselines and libcurl's floor (memory.py)
  like     like: rules: ranking quality per pair of topics of real digests beside a plain
           TF-IDF cosine (like_quality.py); 100,000 papers scored against a 2,000-paper library,
           and the cost per paper as the library grows; a 10,000-entry BibTeX file loaded, in
           time and in memory (bench_like.c)
  shared   alert throughput of 1, 2 and 3 instances on one PostgreSQL database (fsync off, as
           the test fixture runs it, and on) beside one instance on SQLite, the configurations
           taking turns for BENCH_SHARED_ROUNDS rounds; CPU of the daemons and of the server
           per alert; any alert missed or repeated fails it (shared.py)

BENCH_ONLY=parse,compare runs only the sections named; BENCH_QUICK=1 makes compare and shared
small (see compare.settings() and shared.settings() for each size's variable) and memory's rounds
fewer (BENCH_MEMORY_ROUNDS).
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
import shared

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, 'build', 'rel', 'tests', 'bench')
DATA = os.path.join(HERE, 'data')
RESULTS = os.path.join(HERE, 'results', 'latest.json')
BINARY = os.path.join(ROOT, 'paperwatch')
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
SAMPLES = os.path.join(ROOT, 'tests', 'fixtures', 'digests')
SECTIONS = ('parse', 'match', 'compare', 'memory', 'like', 'shared')


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
# The worst case, at the largest count and beside ten rules drawn alike on the same papers.
WORST_RULES = [10, 10000]
# End to end: `paperwatch match --json`, less the same command over a digest with no paper.
E2E_RULES = [10, 10000]
E2E_REPEAT = 4  # the matched half read this many times over, for a time well above the clock's tick
EMPTY_DIGEST = '## Papers for 2024-01-01\n\n'


def write_config(path, rules_file):
    """A configuration of the rules in rules_file, named r0, r1, ..., and no state to read."""
    with open(rules_file) as f:
        rules = [line.rstrip('\n') for line in f]
    esc = lambda s: s.replace('\\', '\\\\').replace('"', '\\"')
    with open(path, 'w') as f:
        f.write(f'state = "{DATA}/no-state/state.db";\nwatch = {{ dir = "{DATA}/no-inbox"; }};\n'
                'notifiers = ({ name = "out"; type = "file"; path = "-"; });\nrules = (\n')
        f.write(',\n'.join(f'  {{ name = "r{i}"; query = "{esc(r)}"; }}' for i, r in enumerate(rules)))
        f.write('\n);\n')


def cpu(argv):
    """The CPU time (user and system) of a command, its output thrown away."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise RuntimeError(f'{argv[:4]} failed')
    return ru.ru_utime + ru.ru_stime


def match_rows(runs, counts):
    """One row per rule count from the runs of bench_match, with the ratio to the first."""
    rows = []
    for n in counts:
        t = statistics.median(r['median_s'] for r in runs[n])
        te = statistics.median(r['explain_median_s'] for r in runs[n])
        r = runs[n][0]
        rows.append({'rules': n, 'papers': r['papers'], 'seconds': round(t, 4),
                     'papers_per_s': round(r['papers'] / t), 'us_per_paper': round(t / r['papers'] * 1e6, 2),
                     'papers_per_s_explain': round(r['papers'] / te),
                     'matches_per_paper': r['matches_per_paper'],
                     'matches_median': r['matches_median'], 'hits_per_paper': r['hits_per_paper'],
                     'compile_s': round(statistics.median(x['compile_s'] for x in runs[n]), 4),
                     'runs': len(runs[n])})
    base = rows[0]['us_per_paper']
    for row in rows:
        row['ratio_to_10_rules'] = round(row['us_per_paper'] / base, 2)
    return rows


def bench_match():
    """Papers per second, on one core, for each number of rules, with the realistic rules on the
    half of the real digests they were not drawn from; the worst case on the papers its rules
    come from; and `paperwatch match --json` end to end. Rounds interleaved by rule count so
    that a noisy moment falls on all of them alike."""
    gen = os.path.join(HERE, 'gen_rules.py')
    real_files = subprocess.run([sys.executable, gen, 'files', BINARY], check=True,
                                capture_output=True, text=True).stdout.split()
    samples = sorted(glob.glob(os.path.join(SAMPLES, '*.txt')))
    jobs = {}  # (set, rules) -> the command
    for kind, counts, files in (('real', MATCH_RULES, real_files), ('worst', WORST_RULES, samples)):
        for n in counts:
            rules = os.path.join(DATA, f'rules-{kind}-{n}.txt')
            subprocess.run([sys.executable, gen, kind, BINARY, str(n), rules], check=True)
            jobs[kind, n] = [os.path.join(BUILD, 'bench_match'), rules, str(MATCH_PAPERS), *files]
    empty = os.path.join(DATA, 'empty-digest.md')
    with open(empty, 'w') as f:
        f.write(EMPTY_DIGEST)
    for n in E2E_RULES:
        conf = os.path.join(DATA, f'rules-real-{n}.conf')
        write_config(conf, os.path.join(DATA, f'rules-real-{n}.txt'))
        jobs['e2e', n] = [BINARY, 'match', '--json', '-c', conf]
    n_real = len(parse_papers(real_files)) * E2E_REPEAT
    runs = {k: [] for k in jobs}
    for _ in range(ROUNDS):
        for k, argv in jobs.items():
            if k[0] == 'e2e':
                full = statistics.median(cpu(argv + real_files * E2E_REPEAT) for _ in range(3))
                none = statistics.median(cpu(argv + [empty]) for _ in range(3))
                runs[k].append(full - none)
            else:
                out = subprocess.run(argv, check=True, capture_output=True).stdout
                runs[k].append(json.loads(out))
    e2e = []
    for n in E2E_RULES:
        t = statistics.median(runs['e2e', n])
        e2e.append({'rules': n, 'papers': n_real, 'seconds': round(t, 4),
                    'papers_per_s': round(n_real / t), 'us_per_paper': round(t / n_real * 1e6, 2),
                    'runs': ROUNDS})
    for row in e2e:
        row['ratio_to_10_rules'] = round(row['us_per_paper'] / e2e[0]['us_per_paper'], 2)
    return {'real': match_rows({n: runs['real', n] for n in MATCH_RULES}, MATCH_RULES),
            'worst': match_rows({n: runs['worst', n] for n in WORST_RULES}, WORST_RULES),
            'end_to_end': e2e}


LIKE_LIBRARY, LIKE_PAPERS = 2000, 100000
LIKE_GROWTH = [250, 500, 1000, 2000, 4000, 8000]
LIKE_GROWTH_PAPERS = 30000
LIKE_LOAD_ENTRIES = 10000


def like_digests():
    """The papers like: is measured on: the shared digests, real ones included."""
    shared = os.path.join(os.path.dirname(ROOT), 'shared', 'digests')
    files = sorted(glob.glob(os.path.join(shared, '*.txt')) +
                   glob.glob(os.path.join(shared, 'real', '*', '*')))
    return [f for f in files if not f.endswith('SOURCES.md')] or \
        sorted(glob.glob(os.path.join(SAMPLES, '*.txt')))


def bench_like():
    import like_quality
    exe = os.path.join(BUILD, 'bench_like')
    files = like_digests()
    run_json = lambda *a: json.loads(subprocess.run([exe, *map(str, a), *files], check=True,
                                                    capture_output=True).stdout)
    print('like: quality on topic pairs ...', flush=True)
    quality = like_quality.run(BINARY)
    print('like: speed ...', flush=True)
    speed = [run_json('speed', LIKE_LIBRARY, LIKE_PAPERS) for _ in range(3)]
    speed = sorted(speed, key=lambda r: r['papers_per_s'])[1]
    growth = [run_json('speed', n, LIKE_GROWTH_PAPERS) for n in LIKE_GROWTH]
    base = growth[0]['us_per_paper']
    for g in growth:
        g['cost_ratio'] = round(g['us_per_paper'] / base, 2)
        g['library_ratio'] = round(g['library'] / growth[0]['library'], 1)
    print('like: loading a BibTeX library ...', flush=True)
    bib = os.path.join(DATA, 'library-10000.bib')
    os.makedirs(DATA, exist_ok=True)
    subprocess.run([exe, 'write', str(LIKE_LOAD_ENTRIES), bib, *files], check=True)
    load = sorted((json.loads(subprocess.run([exe, 'load', bib], check=True,
                                             capture_output=True).stdout) for _ in range(3)),
                  key=lambda r: r['load_s'])[1]
    return {'quality': quality, 'speed': speed, 'growth': growth, 'load': load}


def parse_papers(files):
    out = subprocess.run([BINARY, 'parse', *files], check=True, capture_output=True).stdout
    return out.decode().splitlines()


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
        m = bench_match()
        results['match'] = m['real']
        results['match_worst'] = m['worst']
        results['match_end_to_end'] = m['end_to_end']
    if 'compare' in sections:
        print('comparing paperwatch with the baselines ...', flush=True)
        results['compare'] = compare.run(BINARY)
    if 'memory' in sections:
        print('measuring memory after start ...', flush=True)
        results['memory'] = memory.run()
    if 'like' in sections:
        results['like'] = bench_like()
    if 'shared' in sections:
        print('measuring instances on a shared PostgreSQL state ...', flush=True)
        results['shared'] = shared.run(BINARY)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, 'w') as f:
        json.dump(results, f, indent=2)
        f.write('\n')
    print()
    print(report.markdown(results, sections))


if __name__ == '__main__':
    main()
