#!/usr/bin/env python3
"""plot.py — PNG plots of a benchmark run with gnuplot (Debian's gnuplot-nox), next to the JSON
they come from:

    results/latency.png   the latency distribution of each tool, as the share of digests alerted
                          within a given time (a cumulative distribution, log time axis)
    results/match.png     the matcher's throughput against the number of rules, when the run has
                          a `match` section whose rows give `rules` and a throughput (a key
                          ending in `_per_s`, or `mb_s`)

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


def throughput_keys(rows):
    """The throughput figures the matcher's rows carry: `..._per_s`, and `mb_s`."""
    return sorted({k for r in rows for k in r if k.endswith('_per_s') or k == 'mb_s'})


def match(res, out, tmp):
    """Throughput against rule count: the first figure on the left axis, any other on the
    right, as their units differ."""
    rows = [r for r in res['match'] if 'rules' in r]
    keys = throughput_keys(rows)
    if not rows or not keys:
        return False
    plots = []
    for i, key in enumerate(keys[:2]):
        path = os.path.join(tmp, f'match-{key}.dat')
        write_points(path, sorted((r['rules'], r[key]) for r in rows if key in r))
        axes = 'axes x1y2' if i else 'axes x1y1'
        plots.append(f'"{path}" using 1:2 {axes} with linespoints lw 2 pt 7 '
                     f'title "{key.replace("_per_s", " per second").replace("mb_s", "MB/s")}"')
    right = ('set y2tics\nset logscale y2 10\n'
             f'set y2label "{keys[1]}"\n') if len(keys) > 1 else ''
    gnuplot(STYLE + f'''set output "{out}"
set title "Matcher throughput against the number of rules"
set logscale xy 10
set xlabel "rules"
set ylabel "{keys[0]}"
{right}plot ''' + ', \\\n     '.join(plots) + '\n')
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
