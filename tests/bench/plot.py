#!/usr/bin/env python3
"""plot.py — PNG plots of a benchmark run with gnuplot (Debian's gnuplot-nox), next to the JSON
they come from:

    results/latency.png   the latency distribution of each tool, as the share of digests alerted
                          within a given time (a cumulative distribution, log time axis)
    results/match.png     the matcher's papers per second against the number of rules, beside
                          the worst case and the target at 10,000 rules

usage: plot.py [RESULTS_JSON]    (default tests/bench/results/latest.json)
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results', 'latest.json')

STYLE = '''set terminal pngcairo noenhanced size 900,560 font "DejaVu Sans,11"
set grid xtics ytics mxtics lc rgb "#dddddd"
set border 3
set tics nomirror
set key bottom right box opaque
'''


def gnuplot(script):
    subprocess.run(['gnuplot'], input=script.encode(), check=True)


def write_points(path, points):
    with open(path, 'w') as f:
        f.writelines(f'{x} {y}\n' for x, y in points)


def latency(res, out, tmp):
    """One cumulative curve per tool: at x ms, the share of digests whose first alert had
    arrived within x ms of the rename."""
    c = res['compare']
    lat = c['latency']
    series = list(c['labels'].items()) + list(c.get('diagnostic_labels', {}).items())
    plots = []
    colours = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e']
    for k, (name, label) in enumerate(series):
        if name not in lat or not lat[name]['samples_ms']:
            continue
        ms = sorted(lat[name]['samples_ms'])
        path = os.path.join(tmp, f'{name}.dat')
        write_points(path, [(x, 100 * (i + 1) / len(ms)) for i, x in enumerate(ms)])
        dash = 'dt 2' if name in c.get('diagnostic_labels', {}) else 'dt 1'
        title = f'{label} (median {lat[name]["median_ms"]} ms)'
        plots.append(f'"{path}" using 1:2 with steps lw 2 {dash} lc rgb "{colours[k % 4]}" '
                     f'title "{title}"')
    m = res['machine']
    heading = (f"From a digest's rename to its first alert at the receiver: {lat['files']} "
               f"digests of {lat['papers_per_file']} papers\\n{m['cpu']}, {m['cores']} cores, "
               f"{m['date']}")
    gnuplot(STYLE + f'''set output "{out}"
set title "{heading}"
set logscale x 10
set xrange [1:1000]  # room on the right for the key, where no curve goes
set xlabel "latency (ms, log scale)"
set ylabel "share of digests alerted within that time"
set yrange [0:102]
set format y "%.0f%%"
plot ''' + ', \\\n     '.join(plots) + '\n')


MATCH_SERIES = (('papers_per_s', 'matching'), ('papers_per_s_explain', 'matching with hits'))
MATCH_TARGET = 100000


def match(res, out, tmp):
    """Papers per second against the number of rules, beside the target at 10,000 rules."""
    rows = sorted(res['match'], key=lambda r: r['rules'])
    if not rows:
        return False
    plots = []
    for key, title in MATCH_SERIES:
        path = os.path.join(tmp, f'match-{key}.dat')
        write_points(path, [(r['rules'], r[key]) for r in rows])
        plots.append(f'"{path}" using 1:2 with linespoints lw 2 pt 7 title "{title}"')
    worst = sorted(res.get('match_worst', []), key=lambda r: r['rules'])
    if worst:
        path = os.path.join(tmp, 'match-worst.dat')
        write_points(path, [(r['rules'], r['papers_per_s']) for r in worst])
        plots.append(f'"{path}" using 1:2 with linespoints lw 2 dt 3 pt 6 '
                     'title "worst case: rules drawn from the papers matched"')
    plots.append(f'{MATCH_TARGET} with lines dt 2 lc rgb "#888888" title "target at 10,000 rules"')
    gnuplot(STYLE + f'''set output "{out}"
set title "Matcher throughput against the number of rules ({rows[0]['papers']:,} papers of real digests)"
set logscale xy 10
set xrange [{rows[0]['rules'] / 2}:{rows[-1]['rules'] * 2}]
set xlabel "rules"
set ylabel "papers per second, one core"
plot ''' + ', \\\n     '.join(plots) + '\n')
    return True


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else RESULTS
    with open(path) as f:
        res = json.load(f)
    outdir = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory() as tmp:
        if 'compare' in res:
            latency(res, os.path.join(outdir, 'latency.png'), tmp)
            print('wrote', os.path.join(outdir, 'latency.png'))
        if 'match' in res and match(res, os.path.join(outdir, 'match.png'), tmp):
            print('wrote', os.path.join(outdir, 'match.png'))


if __name__ == '__main__':
    main()
