"""marketcache: crypto market data over HTTP, with a cache built in."""

__version__ = "2.0.0"
