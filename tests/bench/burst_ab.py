#!/usr/bin/env python3
"""burst_ab.py — two builds of paperwatch through the same burst, in turns, in one run: how much
CPU a digest costs each, how long the burst takes, and (once each, under strace) the system calls
a digest makes. For a change to the daemon's path, measured before and after on a noisy machine:

    python3 tests/bench/burst_ab.py OLD_BINARY NEW_BINARY [DIGESTS] [ROUNDS]

Each round renames DIGESTS (default 1,000) Title/PDF/Summary digests of 20 papers into the
watched folder of a fresh daemon with one webhook notifier (tests/integration/receiver.py) and
one rule every paper matches; the CPU is the daemon's utime + stime from its start to a second
after the last request arrived, the wall time from the first rename to the last request.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))
import harness  # noqa: E402
from receiver import Receiver  # noqa: E402

PAPERS = 20
COUNTED = ('fdatasync', 'pwrite64', 'fcntl', 'timerfd_settime', 'epoll_wait', 'read', 'sendto')


def digest(i):
    return ''.join(f'Title: Paper {i} number {j} about agents\n'
                   f'PDF: https://arxiv.org/pdf/2502.{i * PAPERS + j:05d}\n'
                   f'Summary: A summary of paper {j} on agents and tool use.\n---\n'
                   for j in range(PAPERS))


def cpu_s(pid):
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def burst(binary, n, strace=False):
    d = tempfile.mkdtemp(prefix='pw-ab-')
    inbox, staging = os.path.join(d, 'inbox'), os.path.join(d, 'staging')
    os.mkdir(inbox)
    os.mkdir(staging)
    for i in range(n):
        with open(os.path.join(staging, f'd{i}.txt'), 'w') as f:
            f.write(digest(i))
    try:
        with Receiver() as r:
            conf = harness.write_config(os.path.join(d, 'pw.conf'),
                                        [{'name': 'hook', 'type': 'webhook', 'url': r.url}],
                                        [{'name': 'agents', 'query': 'agents'}],
                                        state=os.path.join(d, 'state.db'),
                                        watch={'dir': inbox})
            harness.BINARY = binary
            daemon = harness.Daemon(conf, d, verbose=False).start()
            tracer = None
            if strace:
                tracer = subprocess.Popen(['strace', '-c', '-f', '-p', str(daemon.proc.pid),
                                           '-o', os.path.join(d, 'strace.txt')],
                                          stderr=subprocess.DEVNULL)
                time.sleep(0.5)
            c0, t0 = cpu_s(daemon.proc.pid), time.monotonic()
            for i in range(n):
                os.rename(os.path.join(staging, f'd{i}.txt'), os.path.join(inbox, f'd{i}.txt'))
            while len(r.requests) < n:
                time.sleep(0.005)
            wall = time.monotonic() - t0
            time.sleep(1.2)
            out = {'cpu_ms_per_digest': round((cpu_s(daemon.proc.pid) - c0) * 1000 / n, 3),
                   'wall_s': round(wall, 3)}
            if tracer is not None:
                tracer.send_signal(2)
                tracer.wait()
                for line in open(os.path.join(d, 'strace.txt')):
                    parts = line.split()
                    if len(parts) >= 5 and parts[-1] in COUNTED:
                        out[parts[-1] + '_per_digest'] = round(int(parts[3]) / n, 2)
            daemon.stop()
            return out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    old, new = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    for name, binary in (('old', old), ('new', new)):
        print(name, 'under strace', burst(binary, n, strace=True), flush=True)
    for _ in range(rounds):
        for name, binary in (('old', old), ('new', new)):
            print(name, burst(binary, n), flush=True)


if __name__ == '__main__':
    main()
