"""`python -m marketcache`: the same as the `marketcache` command."""

from marketcache.cli import main

raise SystemExit(main())
