"""Benchmarks of backendai_async against a hand-written aiohttp client (``python -m bench``).

Nothing here is imported by the SDK or its tests. The package import is deliberately empty:
the baseline's worker processes must not load ``backendai_async`` (its import would count
against the baseline's memory).
"""
