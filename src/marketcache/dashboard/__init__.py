"""The live dashboard: a page served by the service itself, with every file it needs."""
