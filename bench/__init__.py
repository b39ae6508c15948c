"""`make bench`: load-test the real Dermifi server process and report throughput and latency.

Run ``python -m bench --help``; see bench/README.md.
"""
