"""memory.py — what paperwatch costs in memory once it has started, for a configuration that
needs no network and for one with a webhook, beside the baselines of compare.py (tools.py) and
beside libcurl's floor: a program that does nothing but start libcurl (curl_floor.c).

Each runs alone and fresh, ROUNDS times, the configurations taking turns in every round; each is
measured AFTER_S seconds after it is ready, and the figures are the medians over the rounds:

  rss   VmRSS summed over the process tree: every page it has resident, a shared library's
        pages counted whole in every process that maps them
  pss   Pss from /proc/PID/smaps_rollup, summed: each page divided by the processes mapping it,
        the tool's share of the machine's memory (lower when other programs on the machine map
        the same libraries, so it moves from run to run)
  own   RssAnon summed: the pages no file backs (heap, stacks, the libraries' relocated data),
        which are the process's alone
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

import tools
import workload

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))

from receiver import Receiver  # noqa: E402

FLOOR = os.path.join(ROOT, 'build', 'rel', 'tests', 'bench', 'curl_floor')
AFTER_S = 1.0
FIGURES = ('rss_kib', 'pss_kib', 'own_kib')

# (name, label), in the order of the table.
LABELS = [('paperwatch-file', 'paperwatch, a file notifier'),
          ('paperwatch-webhook', 'paperwatch, a webhook'),
          ('shell', tools.Shell.label),
          ('python', tools.Python.label),
          ('curl-mapped', 'libcurl linked, not initialised'),
          ('curl-floor', "libcurl's floor: linked, curl_global_init")]


def rounds():
    quick = os.environ.get('BENCH_QUICK') == '1'
    return int(os.environ.get('BENCH_MEMORY_ROUNDS', 3 if quick else 5))


def measure(tool):
    """Starts a tool, waits AFTER_S seconds, reads its figures and stops it."""
    tool.start()
    try:
        time.sleep(AFTER_S)
        pids = tool.pids()
        return {'processes': len(pids), 'rss_kib': tools.rss_kib(pids),
                'pss_kib': tools.pss_kib(pids), 'own_kib': tools.anon_kib(pids)}
    finally:
        tool.stop()


class Run:
    def __init__(self, base, url):
        self.base, self.url = base, url
        self.keywords_file = os.path.join(base, 'keywords.txt')
        with open(self.keywords_file, 'w') as f:
            f.write(''.join(k + '\n' for k in workload.FORMS))

    def tool(self, name):
        args = (self.base, self.url, workload.KEYWORDS, workload.FORMS, self.keywords_file)
        if name == 'paperwatch-file':
            return tools.Paperwatch(*args, notifier='file')
        if name == 'paperwatch-webhook':
            return tools.Paperwatch(*args)
        if name == 'shell':
            return tools.Shell(*args)
        if name == 'python':
            return tools.Python(*args)
        return tools.CurlFloor(FLOOR, init=name == 'curl-floor')

    def one(self, name):
        t = self.tool(name)
        try:
            return measure(t)
        finally:
            if getattr(t, 'dir', None):
                shutil.rmtree(t.dir, ignore_errors=True)


def targets(rows):
    """paperwatch's memory targets, each with the figure it is judged on and whether it is met."""
    mib = 1024
    file_rss = rows['paperwatch-file']['rss_kib']
    above = rows['paperwatch-webhook']['rss_kib'] - rows['curl-floor']['rss_kib']
    return [{'what': 'RSS after start, a file notifier', 'target': '< 8 MiB',
             'value': f'{file_rss / mib:.1f} MiB', 'met': file_rss < 8 * mib},
            {'what': "RSS after start with a webhook, above libcurl's floor", 'target': '<= 2 MiB',
             'value': f'{above / mib:.1f} MiB', 'met': above <= 2 * mib}]


def run():
    """The paperwatch measured is the one the integration tests' harness runs: $PAPERWATCH,
    else ./paperwatch."""
    n = rounds()
    base = tempfile.mkdtemp(prefix='memory-', dir=os.path.join(ROOT, 'build'))
    rx = Receiver()
    try:
        r = Run(base, rx.url)
        runs = {name: [] for name, _ in LABELS}
        for i in range(n):
            print(f'  memory: round {i + 1} of {n}', file=sys.stderr, flush=True)
            for name, _ in LABELS:
                runs[name].append(r.one(name))
    finally:
        tools.stop_all()
        rx.stop()
        shutil.rmtree(base, ignore_errors=True)
    rows = {}
    for name, rs in runs.items():
        rows[name] = {k: round(statistics.median(x[k] for x in rs)) for k in FIGURES}
        rows[name].update(processes=rs[0]['processes'], runs=rs)
    return {'rounds': n, 'after_s': AFTER_S, 'labels': dict(LABELS), 'rows': rows,
            'targets': targets(rows)}
