"""Benchmarks (issue #12): ``make bench`` / ``python -m bench all|sync|pages|load``.

Each benchmark measures what a user feels (a sync's wall time beside the floor of the same
requests, a page's server time beside a trivial page, a loaded server's latency) and exits
non-zero when a target of issue #6 (sync) or issue #8 (pages) is missed, so it can gate.
"""
