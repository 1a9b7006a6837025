#!/usr/bin/env python3
"""stress_crash.py — the crash-consistency test at length: 50 kills, for `make stress`."""
import os
import runpy

os.environ.setdefault('PW_CRASH_KILLS', '50')
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_crash.py'),
               run_name='__main__')
