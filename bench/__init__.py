"""Benchmarks that print figures (cold start, AWS calls per request, throughput, cost model).

``python -m bench`` runs them all; ``python -m bench NAME [args]`` runs one.
"""
