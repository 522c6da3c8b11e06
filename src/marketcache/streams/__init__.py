"""Hot markets kept fresh by the exchange's websocket streams (ccxt.pro).

`demand.py` counts reads per raw series and says which are hot and which went
quiet; `feeds.py` turns stream messages into the raw entries the REST refresh
would have stored; `worker.py` runs one market's stream with its fallback and
back-off; `manager.py` starts and stops workers for demand, under a lease per
stream across replicas; `stats.py` declares what `/cache/stats` and `/metrics` show.
"""

from marketcache.streams.manager import StreamManager

__all__ = ["StreamManager"]
