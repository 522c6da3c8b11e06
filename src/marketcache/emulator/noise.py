"""Deterministic randomness addressed by (seed, tag, index): the same address, the same number.

Every synthetic value is a pure function of its address, so a candle or a trade never
depends on which window of history a request happened to ask for.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)


def seed_of(*parts: str) -> int:
    """A 64-bit seed from strings (e.g. symbol and interval), stable across processes."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _splitmix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # array arithmetic on uint64 wraps silently (only scalar arithmetic warns)
    z = np.atleast_1d(x) + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    out: npt.NDArray[np.uint64] = z ^ (z >> _S31)
    return out


def uniform(seed: int, tag: int, index: npt.ArrayLike) -> FloatArray:
    """Uniform numbers in [0, 1), one per index, addressed by (seed, tag, index)."""
    idx = np.asarray(index, dtype=np.int64)
    key = np.uint64(seed_mix(seed, tag))
    # one splitmix round of (index xor a hashed key): streams of different keys are
    # permutations of one another, never aligned at the same index
    h = _splitmix(np.atleast_1d(idx).astype(np.uint64) ^ key)
    out: FloatArray = (h >> _S11).astype(np.float64) * _TO_UNIT
    return out.reshape(idx.shape)


def normal(seed: int, tag: int, index: npt.ArrayLike) -> FloatArray:
    """Standard normal numbers addressed like `uniform` (Box-Muller on two streams)."""
    u1 = uniform(seed, tag * 2 + 1, index)
    u2 = uniform(seed, tag * 2 + 2, index)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


@lru_cache(maxsize=65536)
def seed_mix(seed: int, tag: int) -> int:
    """Combine a seed and a small tag into a new 64-bit key."""
    x = np.array([(seed ^ (tag * 0x632BE59BD9B4E019)) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
    return int(_splitmix(x)[0])


# Octaves of value noise: grid spacing 1 s * 4**k. Amplitude grows like sqrt(spacing)
# (Brownian scaling) up to a cap, so prices wander like a random walk over days but
# stay within a plausible band over years.
_OCTAVE_MS = [1000 * 4**k for k in range(14)]
_CAP_MS = 1000 * 4**11
_AMPLITUDES = np.sqrt(np.minimum(_OCTAVE_MS, _CAP_MS) / 1000.0)


def raw_path(seed: int, times_ms: IntArray) -> FloatArray:
    """Unscaled fractal noise at the given times: continuous, piecewise linear, mean zero."""
    t = np.asarray(times_ms, dtype=np.int64).ravel()
    total = np.zeros(t.shape, dtype=np.float64)
    ordered = len(t) > 1 and bool(np.all(t[1:] >= t[:-1]))
    for k, (spacing, amplitude) in enumerate(zip(_OCTAVE_MS, _AMPLITUDES, strict=True)):
        cell = t // spacing
        frac = (t - cell * spacing) / spacing
        first = int(cell[0]) if len(cell) else 0
        if ordered and int(cell[-1]) - first + 2 <= 2 * len(t):
            # sorted times sharing cells: draw each grid point once
            corners = uniform(seed, 1000 + k, np.arange(first, cell[-1] + 2, dtype=np.int64))
            left, right = corners[cell - first], corners[cell - first + 1]
            total += amplitude * (left + (right - left) * frac - 0.5)
            continue
        both = uniform(seed, 1000 + k, np.concatenate((cell, cell + 1)))
        left, right = both[: len(cell)], both[len(cell) :]
        total += amplitude * (left + (right - left) * frac - 0.5)
    return total


def _unit_scale() -> float:
    """Std of a 30-minute increment of `raw_path`, measured once (deterministic)."""
    starts = np.arange(4000, dtype=np.int64) * 7_777_777 + 1_500_000_000_000
    steps = raw_path(12345, starts + 1_800_000) - raw_path(12345, starts)
    return float(np.std(steps))


RAW_30M_STD = _unit_scale()
