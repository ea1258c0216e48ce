"""Distributed crawl and parallel stages: throughput and CPU per article.

Usage::

    python bench/distributed.py [--articles 2000] [--workers 1,2,4] [--stages]

Generates the synthetic site (``bench/make_big_site.py``), serves it from its own process on
127.0.0.1, starts a private ``redis-server`` on a free port, and for each worker count runs
the writer (``run_distributed_crawl``, in this process) with that many local workers
(``cuttings worker``, one process each, extraction in the worker process:
``--extract-workers 0``, so every worker is one process and its CPU is counted). Reports
wall time, articles per second, and CPU per article split into the writer's and the
workers'. With ``--stages``: ``analyse`` and ``classify`` of the stored articles with 1 and 2
processes (models trained on the seed corpus first, ``--folds 2`` to save time: the
cross-validation only fills the model cards), wall and CPU time.

On a shared machine (load above the core count) wall time measures the machine's load as
much as the code: the CPU figures are the ones to project from. A site served on 127.0.0.1
has no network latency and no politeness delay, so this measures the CPU cost of crawling.
"""
from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def _serve(directory: str, port_queue) -> None:
    from cuttings.demo import DemoServer, QuietHandler

    server = DemoServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=directory))
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def start_redis(tmp: Path):
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (Debian: apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    return process, f"redis://127.0.0.1:{port}/0"


def crawl(db_path: Path, config, redis_url: str, workers: int) -> dict:
    from cuttings import store
    from cuttings.distributed import run_distributed_crawl

    db = store.connect(db_path)
    self_before, children_before = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    summary = run_distributed_crawl(db, config.sources, config.crawl, redis_url, polite=False, workers=workers,
                                    extract_workers=0)
    elapsed = time.perf_counter() - started
    writer_cpu = _cpu(resource.RUSAGE_SELF) - self_before
    workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - children_before
    stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    db.close()
    return {"workers": workers, "stored": stored, "status": summary.status, "elapsed": elapsed,
            "writer_cpu": writer_cpu, "workers_cpu": workers_cpu, "pages": summary.counts["pages_fetched"]}


def stage_run(db_path: Path, stage: str, workers: int, models: Path) -> dict:
    """One stage in a fresh process (``cuttings analyse|classify --workers N``), timed from here."""
    env = {**os.environ, "CUTTINGS_MODELS": str(models), "PYTHONPATH": str(REPO),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    before = _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(REPO / "pipeline.py"), "--db", str(db_path), stage,
                             "--workers", str(workers)], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        sys.exit(result.stderr[-2000:])
    return {"stage": stage, "workers": workers, "elapsed": elapsed, "cpu": _cpu(resource.RUSAGE_CHILDREN) - before,
            "output": result.stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare, e.g. 1,2,4")
    parser.add_argument("--stages", action="store_true", help="also time analyse/classify with 1 and 2 processes")
    args = parser.parse_args()
    from make_big_site import make_big_site

    from cuttings.config import load_sources

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        manifest = make_big_site(tmp / "site", args.articles)
        context = multiprocessing.get_context("spawn")
        port_queue = context.Queue()
        server = context.Process(target=_serve, args=(str(tmp / "site"), port_queue), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{port_queue.get(timeout=60)}"
        redis_process, redis_url = start_redis(tmp)
        config = load_sources(tmp / "site" / "sources.toml", base=base)
        config.crawl.max_pages_per_source = 100_000
        config.crawl.max_depth = 1000
        results = []
        try:
            for workers in [int(w) for w in args.workers.split(",")]:
                result = crawl(tmp / f"crawl-{workers}.db", config, redis_url, workers)
                results.append(result)
                cpu = result["writer_cpu"] + result["workers_cpu"]
                print(f"{workers} worker(s): stored {result['stored']} of {len(manifest['articles'])} articles "
                      f"({result['status']}) in {result['elapsed']:.1f} s = {result['stored'] / result['elapsed']:.1f} "
                      f"articles/s; CPU {1000 * cpu / result['stored']:.1f} ms/article "
                      f"(writer {1000 * result['writer_cpu'] / result['stored']:.1f}, "
                      f"workers {1000 * result['workers_cpu'] / result['stored']:.1f}); "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
            if args.stages:
                models = tmp / "models"
                trained = subprocess.run([sys.executable, str(REPO / "pipeline.py"), "train", "--folds", "2",
                                          "--models", str(models)], env={**os.environ, "PYTHONPATH": str(REPO),
                                                             "CUTTINGS_DB": str(tmp / "none.db")},
                                         capture_output=True, text=True)
                if trained.returncode:
                    sys.exit(trained.stderr[-2000:])
                source_db = tmp / f"crawl-{results[0]['workers']}.db"
                for workers in (1, 2):
                    db_path = tmp / f"stages-{workers}.db"
                    shutil.copy(source_db, db_path)
                    for stage in ("analyse", "classify"):
                        run = stage_run(db_path, stage, workers, models)
                        print(f"{stage} with {workers} process(es): {run['elapsed']:.1f} s wall, CPU "
                              f"{run['cpu']:.1f} s ({run['output']}); load average {os.getloadavg()[0]:.1f}",
                              flush=True)
        finally:
            redis_process.terminate()
            redis_process.wait()
            server.terminate()


if __name__ == "__main__":
    main()
