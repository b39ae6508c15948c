"""`make bench`: load the real Dermifi server and bare FastAPI baselines with wrk, and judge
issue 11's targets as ratios of baselines measured in the same run.

Run ``python -m bench --help``; see bench/README.md.
"""
