"""Load test of the intake bot: many simulated customers at once (docs/load.md).

``python -m scripts.load`` (or ``python scripts/bench.py --part load``) starts
one server, then the cluster, then a bare ``rasa init`` bot, drives each with
the same bounded number of concurrent conversations and reports throughput,
latency percentiles, errors, lost or duplicated messages and records, and the
memory of every process.

Modules: ``customers`` (who says what, pure), ``stats`` (percentiles,
consistency, summary, pure), ``driver`` (the asyncio/aiohttp clients),
``procs`` (processes and their memory from /proc), ``targets`` (starting and
stopping what is measured), ``cli`` (the command line).
"""
