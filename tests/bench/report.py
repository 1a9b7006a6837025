#!/usr/bin/env python3
"""report.py — the Markdown tables of a benchmark run, from tests/bench/results/latest.json.

run.py prints them at the end of `make bench`; `python3 tests/bench/report.py [FILE]` prints them
again from a saved run, e.g. for the README.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results', 'latest.json')
BASELINES = ('shell', 'python')


def table(rows, cols):
    """rows: dicts; cols: (heading, key) pairs."""
    head = '| ' + ' | '.join(c[0] for c in cols) + ' |'
    sep = '|' + '|'.join('---' for _ in cols) + '|'
    body = ['| ' + ' | '.join(str(r[c[1]]) for c in cols) + ' |' for r in rows]
    return '\n'.join([head, sep] + body)


def grid(head, rows):
    """head: headings; rows: lists of cells."""
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join('---' for _ in head) + '|']
    lines += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(lines)


def machine(res):
    m = res['machine']
    return f"Measured on {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}, {m['date']}."


def parse(res):
    runs = res['parse'][0].get('runs', 5)
    return (f'Parsing 100 MB digests (median of {runs} runs; target >= 500 MB/s and <= 4x '
            'wc -l):\n\n'
            + table(res['parse'], [('format', 'format'), ('MB', 'megabytes'),
                                   ('papers', 'papers'), ('parse MB/s', 'parse_mb_s'),
                                   ('wc -l MB/s', 'wc_l_mb_s'),
                                   ('parse time / wc -l time', 'ratio_to_wc_l')]))


def match(res):
    rows = res['match']
    cols = [('rules', 'rules'), ('papers/s', 'papers_per_s'), ('us/paper', 'us_per_paper'),
            ('time / time at 10 rules', 'ratio_to_10_rules'),
            ('papers/s with hits', 'papers_per_s_explain'),
            ('matches/paper, median', 'matches_median'), ('mean', 'matches_per_paper'),
            ('compile s', 'compile_s')]
    out = [f"Matching {rows[0]['papers']:,} papers (the half of the real digests the rules were "
           f"not drawn from, replicated), CPU time of one core, median of "
           f"{rows[0].get('runs', 5)} runs; target >= 100,000 papers/s at 10,000 rules and "
           "<= 2x the time per paper at 10 rules:\n\n" + table(rows, cols)]
    if res.get('match_worst'):
        out.append('The worst case: rules drawn from the very papers matched (the sample digests, '
                   'replicated), beside ten such rules:\n\n' + table(res['match_worst'], cols))
    if res.get('match_end_to_end'):
        e = res['match_end_to_end']
        out.append(f"End to end: `paperwatch match --json -c CONF` over the {e[0]['papers']:,} "
                   'papers of the matched half read four times (parsing, matching, hits and '
                   'JSON), CPU time less '
                   'that of the same command over a digest with no paper:\n\n'
                   + table(e, [('rules', 'rules'), ('papers/s', 'papers_per_s'),
                               ('us/paper', 'us_per_paper'),
                               ('time / time at 10 rules', 'ratio_to_10_rules')]))
    return '\n\n'.join(out)


def _ratio(a, b, digits=2):
    if a is None or b in (None, 0):
        return '–'
    return f'{a / b:.{digits}f}'


def _mib(kib):
    return round(kib / 1024, 1)


def _wall(row):
    """Seconds until every expected alert arrived, or why that never happened."""
    if row['wall_s'] is not None:
        return row['wall_s']
    return 'never (went quiet)' if row['finished'] == 'quiet' else f'never ({row["finished"]})'


def compare_rows(c):
    """(figure, {tool: value}, ratio wanted?) for the side-by-side table."""
    lat, idle, burst = c['latency'], c['idle'], c['burst']
    rounds = max(burst[n].get('rounds', 1) for n in c['labels'])
    runs = f', median of {rounds} runs' if rounds > 1 else ''
    rows = [
        ('latency, median (ms)', {n: lat[n]['median_ms'] for n in c['labels']}, True),
        ('latency, 95th percentile (ms)', {n: lat[n]['p95_ms'] for n in c['labels']}, True),
        ('latency, 99th percentile (ms)', {n: lat[n]['p99_ms'] for n in c['labels']}, True),
        (f'CPU per digest, burst of {burst["files"]} (ms){runs}',
         {n: burst[n]['cpu_ms_per_digest'] for n in c['labels']}, True),
        (f'wall time, burst of {burst["files"]} (s){runs}',
         {n: _wall(burst[n]) for n in c['labels']}, True),
        (f'peak RSS, burst (MiB{runs})',
         {n: _mib(burst[n]['peak_rss_kib']) for n in c['labels']}, True),
        ('RSS idle, after start (MiB)',
         {n: _mib(idle[n]['rss_kib_after_start']) for n in c['labels']}, True),
        ('RSS idle, after the latency run (MiB)',
         {n: _mib(idle[n]['rss_kib_after_work']) for n in c['labels']}, True),
        ('of which the processes\' own (anonymous) pages (MiB)',
         {n: _mib(idle[n]['rss_anon_kib_after_work']) for n in c['labels']}, True),
        (f'CPU ticks in {idle["seconds"]} idle s',
         {n: idle[n]['cpu_ticks'] for n in c['labels']}, False),
        (f'wakeups in {idle["seconds"]} idle s',
         {n: idle[n]['wakeups'] for n in c['labels']}, False),
    ]
    for phase in ('burst', 'flood'):
        if phase not in c:
            continue
        p = c[phase]
        what = (f'{p["files"]} digests sharing papers' if phase == 'burst'
                else f'{p["files"]} one-paper digests at once')
        rows.append((f'{phase}: alerts missed of {p["expected_alerts"]} ({what})',
                     {n: p[n]['missed'] for n in c['labels']}, False))
        rows.append((f'{phase}: alerts repeated', {n: p[n]['repeated'] for n in c['labels']},
                     False))
        if phase == 'flood':
            rows.append(('flood: time until every expected alert arrived (s)',
                         {n: _wall(p[n]) for n in c['labels']}, True))
        if any(p[n]['wrong'] for n in c['labels']):
            rows.append((f'{phase}: alerts wrong', {n: p[n]['wrong'] for n in c['labels']},
                         False))
        if any(p[n].get('unreadable_requests') for n in c['labels']):
            rows.append((f'{phase}: requests no alert could be read from',
                         {n: p[n]['unreadable_requests'] for n in c['labels']}, False))
    return rows


def compare(c):
    labels = c['labels']
    head = ['figure'] + [labels[n] for n in labels] + [f'paperwatch / {labels[n]}'
                                                       for n in BASELINES]
    body = []
    for what, vals, ratio in compare_rows(c):
        cells = [what] + [vals[n] for n in labels]
        for n in BASELINES:
            a, b = vals['paperwatch'], vals[n]
            num = all(isinstance(x, (int, float)) for x in (a, b))
            cells.append(_ratio(a, b) if ratio and num else '')
        body.append(cells)
    lat, s = c['latency'], c['samples']
    out = [f"paperwatch beside the tools users would otherwise run, in one run "
           f"({lat['files']} digests of {lat['papers_per_file']} papers for latency, about "
           f"{lat['matching_per_file']} matching each; keywords: "
           f"{', '.join(c['workload']['keywords'])}; one fsync on this disk took "
           f"{c['fsync_ms']['min']} to {c['fsync_ms']['max']} ms as the run went, median "
           f"{c['fsync_ms']['median']} ms):",
           '', grid(head, body), '',
           f"paperwatch alone: RSS {_mib(s['rss_kib_after_start'])} MiB after start "
           f"({_mib(s['rss_anon_kib_after_start'])} MiB of it its own, the rest shared "
           f"libraries' pages), {_mib(s['rss_kib_after_samples'])} MiB after the {s['files']} "
           f"sample digests ({_mib(s['rss_anon_kib_after_samples'])} MiB its own; peak "
           f"{_mib(s['peak_rss_kib'])} MiB).", '']
    for name, label in c.get('diagnostic_labels', {}).items():
        if name in lat:
            d = lat[name]
            out += [f"Diagnostic in the same latency run: {label}, where a commit's fsync costs "
                    f"nothing: median {d['median_ms']} ms, 95th percentile {d['p95_ms']} ms, "
                    f"99th {d['p99_ms']} ms.", '']
    out += ['Targets:', '',
            grid(['target', 'wanted', 'measured', 'met'],
                 [[t['what'], t['target'], t['value'], 'yes' if t['met'] else '**no**']
                  for t in c['targets']])]
    return '\n'.join(out)


def memory(m):
    rows = m['rows']
    body = [[label, _mib(rows[n]['rss_kib']), _mib(rows[n]['pss_kib']), _mib(rows[n]['own_kib']),
             rows[n]['processes']] for n, label in m['labels'].items()]
    return '\n'.join([
        f"Memory {m['after_s']:g} s after start, each alone and fresh (median of {m['rounds']} "
        "rounds): RSS counts every resident page, a shared library's in full; PSS divides "
        "each page among the processes mapping it; own pages are RssAnon, the processes' alone:",
        '', grid(['configuration', 'RSS (MiB)', 'PSS (MiB)', 'own pages (MiB)', 'processes'],
                 body), '',
        'Targets:', '',
        grid(['target', 'wanted', 'measured', 'met'],
             [[t['what'], t['target'], t['value'], 'yes' if t['met'] else '**no**']
              for t in m['targets']])])


def like(k):
    q = k['quality']
    pairs = q['pairs']
    rows = [[p['source'], p['library'], p['other'], p['text'],
             f"{p['library_papers']} / {p['to_find']} / {p['to_leave']}",
             p['auc'], p['baseline_auc'], p['p_at_10'], p['baseline_p_at_10'],
             'yes' if p['auc'] > p['baseline_auc'] else '**no**'] for p in pairs]
    won = sum(p['auc'] > p['baseline_auc'] for p in pairs)
    s, l = k['speed'], k['load']
    out = [f'Ranking by like: (half a topic as the library, the rest of it among another '
           f"topic's papers): ROC AUC above the plain TF-IDF cosine's on {won} of "
           f'{len(pairs)} pairs; precision at 10 at least as high on '
           f"{sum(p['p_at_10'] >= p['baseline_p_at_10'] for p in pairs)}.\n\n"
           + grid(['digests', 'library topic', 'other topic', 'text',
                   'library / to find / to leave', 'AUC', 'TF-IDF AUC', 'P@10',
                   'TF-IDF P@10', 'beats'], rows),
           'What a min_score keeps (share of the papers to find scoring it or more) and lets '
           "through (share of the other topic's), the mean over the pairs:\n\n"
           + grid(['text', 'min_score', 'found', 'let through'],
                  [[t['text'], t['min_score'], t['found'], t['let_through']]
                   for t in q['thresholds']]),
           f"Scoring {s['papers']:,} papers against a {s['library']:,}-paper library "
           f"({s['library_with_abstract']:,} with abstracts), the papers with abstracts: "
           f"{s['papers_per_s']:,.0f} papers/s ({s['us_per_paper']} us each) on one core "
           '(target >= 50,000); the cost per paper as the library grows:\n\n'
           + grid(['library', 'us/paper', 'library / smallest', 'cost / smallest'],
                  [[g['library'], g['us_per_paper'], g['library_ratio'], g['cost_ratio']]
                   for g in k['growth']]),
           f"Loading a {l['entries']:,}-entry BibTeX file (every entry with an abstract): "
           f"{l['load_s']} s (target < 1 s); the index keeps "
           f"{l['index_heap_bytes'] / 2**20:.1f} MiB of heap, and reading it grew the process "
           f"by {l['peak_growth_bytes'] / 2**20:.1f} MiB at its peak, the file's bytes included "
           '(target < 32 MiB).']
    return '\n\n'.join(out)


def _cell(v, fmt='{}'):
    return '–' if v is None else fmt.format(v)


def _spread(row):
    """The lowest and highest alerts/s of a configuration's rounds."""
    v = [r['alerts_per_s'] for r in row['runs']]
    return '–' if None in v else f'{min(v)}–{max(v)}'


def shared(s):
    cfg, w, rows = s['settings'], s['workload'], s['configs']
    rounds = cfg['rounds']
    runs = (f'median of {rounds} rounds, the configurations taking turns' if rounds > 1
            else 'one round')
    throughput = [[r['label'], r['instances'], _cell(r['alerts_per_s']), _spread(r),
                   _cell(r['wall_s']), _cell(r['ratio_to_sqlite'], '{:.2f}'),
                   r['cpu_ms_per_alert'], ' / '.join(map(str, r['sent_by_instance'])),
                   r['missed'], r['repeated']] for r in rows]
    cost = [[r['label'], r['instances'], r['daemon_cpu_ms_per_alert'],
             _cell(r['server_cpu_ms_per_alert']), _cell(r['commits'], '{:.0f}'),
             _cell(r['rollbacks'], '{:.0f}'), _cell(r['deadlocks'])] for r in rows]
    f = s['fsync_ms']
    return '\n'.join([
        'Alert throughput of paperwatch instances sharing one PostgreSQL database, beside one '
        f"instance on SQLite, in one run ({runs}): {cfg['digests']} digests of "
        f"{cfg['papers_per_digest']} papers (hf-daily), each sharing its first "
        f"{cfg['shared_per_digest']} papers with the one before, digest k going into instance "
        f"k mod N's inbox, all renamed in at once; {w['expected_alerts']} alerts expected, "
        f"{w['expected_in_two_digests']} of their papers in two digests (with two or three "
        'instances, read by two of them), through one webhook to one receiver on 127.0.0.1. '
        'Time runs from the first rename until every expected alert has arrived; CPU is '
        "utime + stime from /proc of the daemons and of the PostgreSQL server's processes "
        "(the postmaster, the daemons' backends, its background workers); one fsync on this "
        f"disk took {f['min']} to {f['max']} ms as the run went, median {f['median']} ms. "
        'The messages each instance sent are those of the round of the median time:',
        '', grid(['state', 'instances', 'alerts/s', 'alerts/s, each round',
                  's until every alert', "alerts/s / SQLite's", 'CPU per alert, all (ms)',
                  'messages sent by each instance', 'missed', 'repeated'], throughput), '',
        "Where the CPU goes, and what the run's database counted (pg_stat_database, "
        'medians; deadlocks the worst round):', '',
        grid(['state', 'instances', "daemons' CPU per alert (ms)",
              "server's CPU per alert (ms)", 'transactions committed', 'rolled back',
              'deadlocks'], cost), '',
        "The fixture's server runs with fsync and full_page_writes off, so no commit waits for "
        'the disk; "fsync on" is the same server made durable (fsync, full_page_writes and '
        'synchronous_commit on), as a real one runs, its data on the same disk as the SQLite '
        'file, which commits with synchronous=FULL: those rows are the fair comparison. Every '
        f"instance and the server run on this one machine of {s.get('cores', 2)} cores, so "
        'more instances compete for the same cores: the figures show what sharing a state '
        'costs, not how throughput grows with hosts.'
        + (' A deadlock stops both its statements until PostgreSQL breaks it, after '
           "deadlock_timeout (1 s); the losing statement is tried again."
           if any(r['deadlocks'] for r in rows) else '')])


def markdown(res, sections):
    parts = [machine(res)]
    for name, fn in (('parse', parse), ('match', match), ('compare', compare),
                     ('memory', memory), ('like', like), ('shared', shared)):
        if name in sections and name in res:
            parts.append(fn(res[name]) if name in ('compare', 'memory', 'like', 'shared')
                         else fn(res))
    return '\n\n'.join(parts)


if __name__ == '__main__':
    with open(sys.argv[1] if len(sys.argv) > 1 else RESULTS) as f:
        r = json.load(f)
    print(markdown(r, ('parse', 'match', 'compare', 'memory', 'like', 'shared')))
