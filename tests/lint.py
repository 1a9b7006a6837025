#!/usr/bin/env python3
"""lint.py — static analysis of paperwatch's C sources, for `make test`, reported in TAP.

    lint.py compdb OUT -- COMPILER ARGS... -- FILE...   writes a compile_commands.json: each file
                                                        with the flags the Makefile builds it with
    lint.py clang-tidy COMPDB FILE...                   clang-tidy (checks in .clang-tidy) over the
                                                        files, in parallel; one test
    lint.py cppcheck COMPDB FILE...                     cppcheck over the files, with the compile
                                                        database's defines and project includes;
                                                        one test

A finding fails the test and is printed whole. Suppressions live where the tool reads them: the
checks turned off in .clang-tidy, with reasons; cppcheck's in tests/cppcheck.supp, with reasons.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPPCHECK_SUPP = os.path.join(ROOT, 'tests', 'cppcheck.supp')
# cppcheck reads the libraries' APIs from its own descriptions instead of their headers.
CPPCHECK_LIBRARIES = 'posix,gnu,libcurl,sqlite3,openssl'


def report(name, findings):
    """Prints the one TAP test; returns the exit status."""
    print('1..1')
    if not findings:
        print(f'ok 1 - {name} finds nothing')
        return 0
    print(f'not ok 1 - {name} finds something')
    for line in findings:
        print('# ' + line)
    return 1


def compdb(argv):
    out, rest = argv[0], argv[2:]
    sep = rest.index('--')
    command, files = rest[:sep], rest[sep + 1:]
    entries = [{'directory': ROOT, 'file': f, 'arguments': command + ['-c', f, '-o', '/dev/null']}
               for f in files]
    with open(out, 'w') as f:
        json.dump(entries, f, indent=1)
    return 0


def tidy_one(build_dir, path):
    r = subprocess.run(['clang-tidy', '-p', build_dir, '--quiet', path], cwd=ROOT,
                       capture_output=True, text=True)
    # Without findings clang-tidy still says how many warnings it hid in system headers.
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0 and not lines:
        lines = [f'{path}: clang-tidy exited with {r.returncode}'] + r.stderr.splitlines()
    return lines


def clang_tidy(argv):
    build_dir = os.path.dirname(os.path.abspath(argv[0]))
    findings = []
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for lines in pool.map(lambda p: tidy_one(build_dir, p), argv[1:]):
            findings += lines
    return report('clang-tidy', findings)


def predefined(compiler, sources):
    """The compiler's own macros that the sources test (__SSE2__ ...), as -D options, so that
    cppcheck reads the code the compiler builds."""
    r = subprocess.run([compiler, '-dM', '-E', '-x', 'c', '/dev/null'], capture_output=True,
                       text=True)
    defined = dict(re.findall(r'^#define (\w+) ?(.*)$', r.stdout, re.M))
    tested = set()
    for path in sources:
        with open(os.path.join(ROOT, path), encoding='utf-8') as f:
            for line in f:
                if re.match(r'\s*#\s*(if|ifdef|ifndef|elif)\b', line):
                    tested.update(re.findall(r'\b(__\w+__)\b', line))
    return [f'-D{m}={defined[m]}' if defined[m] else f'-D{m}' for m in sorted(tested)
            if m in defined]


def cppcheck(argv):
    with open(argv[0]) as f:
        entries = json.load(f)
    files = argv[1:]
    args = entries[0]['arguments']
    # Defines and the project's own include folders; system headers are cppcheck's libraries.
    flags = [a for a in args if a.startswith('-D') or (a.startswith('-I') and
                                                       not os.path.isabs(a[2:]))]
    headers = [os.path.join(d, h) for d in ('daemon', 'config', 'notify', 'tests/unit')
               for h in os.listdir(os.path.join(ROOT, d)) if h.endswith('.h')]
    flags += predefined(args[0], files + headers)
    cmd = ['cppcheck', '--std=c11', f'--library={CPPCHECK_LIBRARIES}',
           '--enable=warning,style,performance,portability,unusedFunction',
           '--inline-suppr', f'--suppressions-list={CPPCHECK_SUPP}', '--error-exitcode=1',
           '--quiet', '--template={file}:{line}: {severity}: {message} [{id}]'] + flags + files
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    findings = [l for l in r.stderr.splitlines() if l.strip()]
    if r.returncode != 0 and not findings:
        findings = [f'cppcheck exited with {r.returncode}'] + r.stdout.splitlines()
    return report('cppcheck', findings)


def main():
    tools = {'compdb': compdb, 'clang-tidy': clang_tidy, 'cppcheck': cppcheck}
    if len(sys.argv) < 3 or sys.argv[1] not in tools:
        print(__doc__, file=sys.stderr)
        return 2
    return tools[sys.argv[1]](sys.argv[2:])


if __name__ == '__main__':
    sys.exit(main())
