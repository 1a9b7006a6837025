#!/usr/bin/env python3
"""last_secrets.py — run after every other test: searches all the output the suite produced
(every command's stdout and stderr, every daemon's log, `status` included) for the secrets the
tests configured — Slack and Discord tokens, the webhook secret, the SMTP password — and fails
if any appears. The tests declare their secrets with harness.register_secret()."""
import os

from harness import test, run, SUITE_LOG, Skip


@test
def no_secret_appears_in_any_log_line_or_status_output_of_the_suite():
    if not SUITE_LOG:
        raise Skip('run by tests/run.py, which collects the suite\'s output')
    with open(os.path.join(SUITE_LOG, 'secrets.txt'), encoding='utf-8') as f:
        secrets = sorted({line.strip() for line in f if line.strip()})
    assert len(secrets) >= 4, f'the suite should have configured secrets: {secrets}'
    searched = 0
    for name in ('commands.log', 'daemons.log'):
        path = os.path.join(SUITE_LOG, name)
        with open(path, 'rb') as f:
            output = f.read()
        searched += len(output)
        for s in secrets:
            at = output.find(s.encode())
            if at >= 0:
                around = output[max(0, at - 80):at].decode('utf-8', 'replace')
                raise AssertionError(f'a secret appears in {name} after: {around!r}')
    assert searched > 100000, f'only {searched} bytes of output were collected'
    print(f'# {len(secrets)} secrets searched for in {searched} bytes of output')


if __name__ == '__main__':
    run()
