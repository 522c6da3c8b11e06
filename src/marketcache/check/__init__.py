"""The deployment test suite: grades a running service from outside, over HTTP only.

`marketcache check --url URL` (and `python cache_test_suite.py`) run it; the rubric that
turns its results into a score and grades is described in `marketcache.check.rubric`.
"""
