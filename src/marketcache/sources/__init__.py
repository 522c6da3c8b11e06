"""Exchanges as data sources: the `Source` protocol and its ccxt implementation.

Nothing here imports ccxt at package import time: only `sources.ccxt` does, so the
rest of the package (and the pure helpers beside it) load without the library.
"""
