#!/usr/bin/env python3
"""stress_load.py — the load test at full size: 10,000 digests of 100 papers, for `make stress`."""
import os
import runpy

os.environ.setdefault('PW_LOAD_FILES', '10000')
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_load.py'),
               run_name='__main__')
