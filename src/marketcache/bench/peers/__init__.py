"""`marketcache bench --peers`: our cache hit against nginx, fastapi-cache2 and a raw ceiling."""
