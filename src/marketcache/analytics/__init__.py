"""Pure market analytics: numpy candles and trades in, JSON-ready plain dicts out."""

from marketcache.analytics.analysis import comprehensive_analysis
from marketcache.analytics.cvd import cvd_from_candles, cvd_from_trades
from marketcache.analytics.volume import volume_spike

__all__ = ["comprehensive_analysis", "cvd_from_candles", "cvd_from_trades", "volume_spike"]
