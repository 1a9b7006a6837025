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
