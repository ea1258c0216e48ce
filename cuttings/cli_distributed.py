"""``cuttings worker``: a distributed crawl worker (registered by pipeline.py).

The writer side is ``cuttings crawl --redis URL``; see ``docs/operations.md``.
"""
from __future__ import annotations

import click

from cuttings.cli_common import fail

REDIS_HELP = "Redis server shared by the writer and the workers, e.g. redis://redis.example.org:6379/0."
PREFIX_HELP = "Prefix of the Redis keys of this crawl (one prefix per writer)."


def check_redis_url(ctx, param, value):
    if value is None:
        return value
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise click.BadParameter(f"not a Redis URL: {value!r} (e.g. redis://127.0.0.1:6379/0)")
    return value


@click.command()
@click.option("--redis", "redis_url", required=True, callback=check_redis_url, help=REDIS_HELP)
@click.option("--prefix", default="cuttings", show_default=True, help=PREFIX_HELP)
@click.option("--extract-workers", type=click.IntRange(0, 64), default=None,
              help="Extraction processes of this worker [default: CUTTINGS_EXTRACT_WORKERS, 2]; "
                   "0 extracts in the worker's own process, without [crawl] extract_timeout "
                   "(for profiling, not for the open web).")
@click.option("--wait", type=click.FloatRange(0), default=None,
              help="Give up after this many seconds without a crawl run to join [default: wait for one].")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="WARNING",
              show_default=True, help="Scrapy's log level on stderr (the journal, under systemd).")
def worker(redis_url, prefix, extract_workers, wait, log_level):
    """Crawl for a distributed run: take requests from Redis, fetch and extract, push results.

    Waits for a writer (`cuttings crawl --redis URL`) to start a run, works on it until the
    writer ends it, then exits (run it under a service manager that restarts it, see
    deploy/cuttings-worker.service: `cuttings docs cuttings-worker.service` prints where it is
    installed). Workers never open the database; only the writer does.

    Example:

        cuttings worker --redis redis://redis.example.org:6379/0
    """
    from cuttings.distributed import DistributedError, run_worker

    try:
        stats = run_worker(redis_url, prefix=prefix, extract_workers=extract_workers, log_level=log_level,
                           wait=wait)
    except DistributedError as exc:
        fail(str(exc))
    if stats is None:
        fail(f"no crawl run started on {redis_url} within {wait:g} seconds")
