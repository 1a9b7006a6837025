#!/usr/bin/env python3
"""valgrind.py — paperwatch under valgrind, for `make valgrind`: the command that wraps a program,
and the check of what valgrind saw.

    valgrind.py check LOGDIR   one TAP test: no error and no definite or indirect leak in any of
                               the XML reports valgrind left in LOGDIR (one per process)

tests/run.py --suite valgrind runs the unit tests under command() (an error is their exit status)
and the integration tests with PAPERWATCH_WRAPPER set to command(LOGDIR), since their exit
statuses are the tests' business; this check then reads the reports. Suppressions, each with its
reason, are in tests/valgrind.supp.
"""
import glob
import html
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPRESSIONS = os.path.join(ROOT, 'tests', 'valgrind.supp')
ERROR_EXIT = 99


def command(logdir=None):
    """valgrind's command line: reports to stderr and an exit status of ERROR_EXIT, or, given
    logdir, an XML report per process there and nothing on the program's own stderr."""
    cmd = ['valgrind', '--leak-check=full', '--show-leak-kinds=definite,indirect',
           '--errors-for-leak-kinds=definite,indirect', '--num-callers=30',
           f'--suppressions={SUPPRESSIONS}', '--gen-suppressions=all']
    if logdir is None:
        return cmd + [f'--error-exitcode={ERROR_EXIT}']
    return cmd + ['--xml=yes', f'--xml-file={logdir}/vg.%p.xml',
                  f'--log-file={logdir}/vg.%p.log']


def tag(block, name):
    m = re.search(rf'<{name}>(.*?)</{name}>', block, re.S)
    return html.unescape(m.group(1).strip()) if m else ''


def describe(block):
    """An error as lines a person can read: what, then where (a few frames)."""
    what = tag(block, 'what') or tag(tag(block, 'xwhat'), 'text') or tag(block, 'kind')
    lines = [f'{tag(block, "kind")}: {what}']
    for frame in re.findall(r'<frame>(.*?)</frame>', block, re.S)[:8]:
        where = tag(frame, 'fn') or tag(frame, 'obj')
        if tag(frame, 'file'):
            where += f' ({tag(frame, "file")}:{tag(frame, "line")})'
        lines.append('    at ' + where)
    return lines


def check(logdir):
    reports = sorted(glob.glob(os.path.join(logdir, 'vg.*.xml')))
    findings, cut_short = [], 0
    for path in reports:
        with open(path, encoding='utf-8', errors='replace') as f:
            xml = f.read()
        # A process the test killed never reached its leak check; its errors still count.
        if '</valgrindoutput>' not in xml:
            cut_short += 1
        errors = re.findall(r'<error>(.*?)</error>', xml, re.S)
        if errors:
            argv = ' '.join(html.unescape(a) for a in re.findall(r'<arg>(.*?)</arg>', xml))
            findings.append(f'{os.path.basename(path)}: {len(errors)} error(s) in: {argv}')
            for e in errors:
                findings += ['  ' + l for l in describe(e)]
    print('1..1')
    summary = f'{len(reports)} runs of paperwatch, {cut_short} of them killed before exit'
    if not reports:
        print('not ok 1 - valgrind left no reports: did the tests run paperwatch under it?')
        return 1
    if findings:
        print(f'not ok 1 - valgrind found errors or leaks ({summary})')
        for line in findings:
            print('# ' + line)
        return 1
    print(f'ok 1 - valgrind finds no error and no leak ({summary})')
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] != 'check':
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(check(sys.argv[2]))
