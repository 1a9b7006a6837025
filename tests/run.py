#!/usr/bin/env python3
"""tests/run.py — runs every test program of `make test` and prints one summary line.

Unit tests (cmocka, built with ASan and UBSan), integration tests (tests/integration/test_*.py,
driving the real binary), short fuzzing passes and the static analysers (tests/lint.py) all report
in TAP. `--suite valgrind` runs the unit and integration tests under valgrind instead (see
tests/valgrind.py), and `--suite stress` the fuzz targets for long and stress_*.py. A program that
exits non-zero without reporting a failed test, or that times out, counts as one failed test.
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

import valgrind

TAP = re.compile(r'^(not ok|ok)\b\s*\d*\s*(?:-\s*)?(.*)$')
SKIP = re.compile(r'#\s*SKIP\b\s*(.*)$', re.I)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_program(name, argv, timeout, env=None):
    """Runs one TAP program; returns (passed, failed, output shown on failure)."""
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=env, timeout=timeout)
        out, code = proc.stdout.decode('utf-8', 'replace'), proc.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'').decode('utf-8', 'replace') + f'\n# timed out after {timeout} s\n'
        code = None
    passed = failed = 0
    failures, skips = [], []
    for line in out.splitlines():
        m = TAP.match(line)
        if not m:
            continue
        skip = SKIP.search(m.group(2))
        if m.group(1) == 'ok' and skip:
            skips.append(m.group(2))
        elif m.group(1) == 'ok':
            passed += 1
        else:
            failed += 1
            failures.append(m.group(2))
    if code != 0 and failed == 0:
        failed = 1
        failures.append(f'{name} exited with status {code}')
    took = time.monotonic() - start
    status = 'ok  ' if failed == 0 else 'FAIL'
    print(f'{status} {name}: {passed} passed, {failed} failed ({took:.1f} s)', flush=True)
    for s in skips:
        print(f'     skipped: {s}')
    SKIPPED.extend(skips)
    if failed:
        for f in failures:
            print(f'     failed: {f}')
        print('     --- output ---')
        print('\n'.join('     ' + l for l in out.splitlines()[-200:]))
    return passed, failed


# Tests that could not run on this machine, each with its reason.
SKIPPED = []


def fuzz_argv(binary, workdir, seconds):
    """A bounded libFuzzer pass over the checked-in corpus, new inputs kept out of the tree."""
    name = os.path.basename(binary)[len('fuzz_'):]
    corpus = os.path.join(ROOT, 'tests', 'fuzz', 'corpus', name)
    work = os.path.join(workdir, name)
    os.makedirs(work, exist_ok=True)
    return [binary, f'-max_total_time={seconds}', '-print_final_stats=0',
            f'-artifact_prefix={work}/', work, corpus]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--suite', choices=['test', 'valgrind', 'stress'], default='test',
                    help='test: everything of `make test`; valgrind: the unit and integration '
                    'tests under valgrind; stress: the fuzz targets and stress_*.py, for long')
    ap.add_argument('--unit', nargs='*', default=[])
    ap.add_argument('--fuzz', nargs='*', default=[])
    ap.add_argument('--compdb', help='compile_commands.json for the static analysers')
    ap.add_argument('--tidy', nargs='*', default=[], help='C files for clang-tidy')
    ap.add_argument('--cppcheck', nargs='*', default=[], help='C files for cppcheck')
    ap.add_argument('--only', help='run only programs whose name contains this')
    args = ap.parse_args()

    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT='TAP', FIXTURES=os.path.join(ROOT, 'tests', 'fixtures'),
               PW_SUITE_LOG=tempfile.mkdtemp(prefix='pw-suite-'))
    env.setdefault('PAPERWATCH', os.path.join(ROOT, 'paperwatch'))
    # Leaks of the libraries the fuzz targets drive are theirs, listed with reasons.
    lsan = 'suppressions=' + os.path.join(ROOT, 'tests', 'fuzz', 'lsan.supp')
    env['LSAN_OPTIONS'] = ':'.join(filter(None, [env.get('LSAN_OPTIONS'), lsan]))
    programs = []
    unit_prefix, unit_timeout, it_timeout = [], 300, 900
    if args.suite == 'valgrind':
        # The unit tests fail by valgrind's exit status; the daemon's runs are read afterwards.
        logs = tempfile.mkdtemp(prefix='pw-valgrind-')
        os.chmod(logs, 0o1777)  # some tests run paperwatch as nobody; its report goes here too
        unit_prefix, unit_timeout, it_timeout = valgrind.command(), 1800, 3600
        env['PAPERWATCH_WRAPPER'] = shlex.join(valgrind.command(logs))
        env.setdefault('PAPERWATCH_TIME_SCALE', '10')
    pgserver = os.path.join(ROOT, 'tests', 'integration', 'pgserver.py')
    for b in args.unit:
        programs.append((os.path.relpath(b, ROOT), unit_prefix + [b], unit_timeout))
        # The state's tests again, on a PostgreSQL server of their own.
        if os.path.basename(b) == 'test_state':
            programs.append((os.path.relpath(b, ROOT) + ' (postgresql)',
                             [sys.executable, pgserver, '--run'] + unit_prefix + [b],
                             unit_timeout))
    pattern = 'stress_*.py' if args.suite == 'stress' else 'test_*.py'
    for t in sorted(glob.glob(os.path.join(ROOT, 'tests', 'integration', pattern))):
        programs.append((os.path.relpath(t, ROOT), [sys.executable, t], it_timeout))
    # Checks over what the whole suite produced come after every test (last_secrets.py).
    for t in sorted(glob.glob(os.path.join(ROOT, 'tests', 'integration', 'last_*.py'))):
        programs.append((os.path.relpath(t, ROOT), [sys.executable, t], it_timeout))
    if args.suite == 'valgrind':
        programs.append(('valgrind', [sys.executable, os.path.join(ROOT, 'tests', 'valgrind.py'),
                                      'check', logs], 120))
    seconds = int(os.environ.get('FUZZ_SECONDS', '10'))
    work = tempfile.mkdtemp(prefix='pw-fuzz-')
    for b in args.fuzz:
        programs.append((os.path.relpath(b, ROOT), fuzz_argv(b, work, seconds), seconds * 3 + 60))

    if args.suite == 'test':
        programs += checks(args)

    total_pass = total_fail = 0
    for name, argv, timeout in programs:
        # The valgrind check reads what the programs before it left: it always runs.
        if args.only and args.only not in name and name != 'valgrind':
            continue
        if 'fuzz_' in name:
            # libFuzzer speaks no TAP: a clean exit is one passing test.
            argv = [sys.executable, '-c', FUZZ_WRAPPER] + argv
        p, f = run_program(name, argv, timeout, env)
        total_pass += p
        total_fail += f
    if SKIPPED:
        print(f'{len(SKIPPED)} skipped, each with its reason above (neither passed nor failed)')
    print(f'{total_pass} passed, {total_fail} failed')
    return 1 if total_fail else 0


def checks(args):
    """The checks of the sources themselves: formatting and static analysis."""
    programs = []
    # The sources as `make format` leaves them: a diff here is a failed test.
    sources = subprocess.run(['git', 'ls-files', '*.c', '*.h'], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    if sources:
        programs.append(('clang-format', [sys.executable, '-c', FORMAT_CHECK] + sources, 120))
    # Static analysis: one test per analyser, every finding printed when it fails.
    lint = os.path.join(ROOT, 'tests', 'lint.py')
    if args.compdb and args.tidy:
        programs.append(('clang-tidy', [sys.executable, lint, 'clang-tidy', args.compdb]
                         + args.tidy, 900))
    if args.compdb and args.cppcheck:
        programs.append(('cppcheck', [sys.executable, lint, 'cppcheck', args.compdb]
                         + args.cppcheck, 300))
    return programs


FUZZ_WRAPPER = r'''
import subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = r.stdout.decode("utf-8", "replace")
if r.returncode == 0:
    runs = [l for l in out.splitlines() if "Done" in l]
    print("1..1\nok 1 - no crash, leak or undefined behaviour: " + (runs[-1] if runs else ""))
else:
    print("1..1\nnot ok 1 - fuzzer found a failing input")
    print("\n".join("# " + l for l in out.splitlines()[-60:]))
    sys.exit(1)
'''

FORMAT_CHECK = r'''
import subprocess, sys
r = subprocess.run(["clang-format", "--dry-run", "--Werror"] + sys.argv[1:], capture_output=True,
                   text=True)
print("1..1")
if r.returncode == 0:
    print("ok 1 - sources are formatted as make format leaves them")
else:
    print("not ok 1 - sources differ from make format; run it")
    print("\n".join("# " + l for l in r.stderr.splitlines()[:40]))
    sys.exit(1)
'''

if __name__ == '__main__':
    sys.exit(main())
