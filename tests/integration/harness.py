"""harness.py — the integration tests' small framework: `@test` functions, TAP output, and helpers
that run the real paperwatch binary.
"""
import os
import subprocess
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get('PAPERWATCH', os.path.join(ROOT, 'paperwatch'))
FIXTURES = os.environ.get('FIXTURES', os.path.join(ROOT, 'tests', 'fixtures'))
DIGESTS = os.path.join(FIXTURES, 'digests')

_tests = []


def test(fn):
    """Registers a test; its name says the behaviour it pins."""
    _tests.append(fn)
    return fn


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


def digests():
    """The five sample digests, in name order."""
    return sorted(os.path.join(DIGESTS, f) for f in os.listdir(DIGESTS) if f.endswith('.txt'))


def pw(*args, input=None, timeout=60, env=None, cwd=None):
    """Runs paperwatch with args; returns the CompletedProcess with text stdout and stderr."""
    return subprocess.run([BINARY, *args], input=input, capture_output=True, timeout=timeout,
                          env=env, cwd=cwd)


def text(b):
    return b.decode('utf-8')


def tmpdir():
    return tempfile.mkdtemp(prefix='pw-it-')


def conf_value(v):
    """A Python value in libconfig syntax."""
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if isinstance(v, list):
        return '[' + ', '.join(conf_value(x) for x in v) + ']'
    if isinstance(v, dict):
        return '{ ' + ' '.join(f'{k} = {conf_value(x)};' for k, x in v.items()) + ' }'
    raise TypeError(v)


def write_config(path, notifiers=(), rules=(), **groups):
    """Writes a configuration file: notifiers and rules as lists of dicts, anything else
    (state, watch, delivery) as a top-level setting. Returns the path."""
    lines = [f'{k} = {conf_value(v)};' for k, v in groups.items()]
    lines.append('notifiers = (' + ',\n  '.join(conf_value(n) for n in notifiers) + ');')
    lines.append('rules = (' + ',\n  '.join(conf_value(r) for r in rules) + ');')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def run():
    """Runs every registered test in order and prints TAP."""
    print(f'1..{len(_tests)}', flush=True)
    failed = 0
    for i, fn in enumerate(_tests, 1):
        try:
            fn()
            print(f'ok {i} - {fn.__name__}', flush=True)
        except Exception:
            failed += 1
            print(f'not ok {i} - {fn.__name__}', flush=True)
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
    sys.exit(1 if failed else 0)
