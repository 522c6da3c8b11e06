"""`marketcache bench`: load generator, A/B comparison of cached and uncached, report and plot."""
