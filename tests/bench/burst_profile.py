#!/usr/bin/env python3
"""burst_profile.py — one build of paperwatch through compare.py's burst, alone, for a profiler:
hf-daily digests of 20 papers, each sharing two with the one before, the eight keyword rules and
a webhook (tests/integration/receiver.py). The daemon runs under $PAPERWATCH_WRAPPER when it is
set, so that, for instance,

    PAPERWATCH_WRAPPER='valgrind --tool=callgrind --callgrind-out-file=burst.%p' \\
        python3 tests/bench/burst_profile.py ./paperwatch 300

counts the instructions of the daemon's whole life through a burst of 300 digests (startup
included: compare those of two builds, not of two sizes). Prints the CPU a digest took, the
wall time, and the alerts missed and repeated, which must be none:

    python3 tests/bench/burst_profile.py BINARY [DIGESTS] [ROUNDS]
"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.environ['PAPERWATCH'] = binary  # read by the harness when it is imported
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
    import compare
    import tools
    import workload

    base = tempfile.mkdtemp(prefix='burst-', dir=os.path.join(ROOT, 'build'))
    bench = compare.Bench(binary, base)
    try:
        cfg = bench.cfg
        digests = bench.wl.digests(n, cfg['burst_papers'], shared=cfg['burst_shared'],
                                   prefix='b')
        expected = workload.Expected(digests)
        for _ in range(rounds):
            out = bench.load(tools.Paperwatch, digests, expected)
            print({k: out[k] for k in ('cpu_ms_per_digest', 'wall_s', 'missed', 'repeated')},
                  flush=True)
    finally:
        tools.stop_all()
        bench.rx.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    main()
