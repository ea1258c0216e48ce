"""Crawl throughput: crawl + extract + store a generated site of N articles on 127.0.0.1.

Usage: ``python bench/crawl_throughput.py [--articles 2000] [--workers 2]``
"""
from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import multiprocessing
import resource
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _serve(directory: str, port_queue) -> None:
    """Serve the site from its own process, as a real site would be: the crawler's process
    must not share its CPU (and GIL) with the server's request threads."""
    from cuttings.demo import DemoServer, QuietHandler

    server = DemoServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=directory))
    port_queue.put(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--incremental", action="store_true",
                        help="then crawl the unchanged site again and report how many pages it fetched")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "bench"))
    from make_big_site import make_big_site
    from cuttings import store
    from cuttings.config import load_sources
    from cuttings.crawl import run_crawl

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        manifest = make_big_site(site, args.articles)
        context = multiprocessing.get_context("spawn")
        port_queue = context.Queue()
        server = context.Process(target=_serve, args=(str(site), port_queue), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{port_queue.get(timeout=30)}"
        config = load_sources(site / "sources.toml", base=base)
        config.crawl.max_pages_per_source = 100_000
        config.crawl.max_depth = 1000
        db = store.connect(Path(tmp) / "bench.db")
        started = time.perf_counter()
        cpu_started = resource.getrusage(resource.RUSAGE_SELF)
        summary = run_crawl(db, config.sources, config.crawl, polite=False, extract_workers=args.workers)
        elapsed = time.perf_counter() - started
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        crawler_cpu = (cpu.ru_utime - cpu_started.ru_utime) + (cpu.ru_stime - cpu_started.ru_stime)
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        print(f"site: {len(manifest['articles'])} article pages; stored {stored} articles "
              f"({summary.counts['duplicates']} copies) in {elapsed:.1f} s = {stored / elapsed:.1f} articles/s; "
              f"pages fetched {summary.counts['pages_fetched']}, errors {summary.counts['errors']}; "
              f"crawler process CPU {crawler_cpu:.1f} s ({1000 * crawler_cpu / max(stored, 1):.1f} ms/article, "
              f"extraction workers not included)")
        if args.incremental:
            # The nightly case: the same unchanged site crawled again (a new process: Twisted's
            # reactor runs once per process), with the default --since of `cuttings crawl`.
            sources = Path(tmp) / "sources.toml"
            sources.write_text((site / "sources.toml").read_text().replace("{base}", base))
            db.close()
            subprocess.run([sys.executable, str(REPO / "pipeline.py"), "--db", str(Path(tmp) / "bench.db"),
                            "crawl", "--sources", str(sources), "--no-politeness"], check=True,
                           capture_output=True)
            db = store.connect(Path(tmp) / "bench.db")
            first, second = db.execute("SELECT pages_fetched, articles_new FROM crawl_runs ORDER BY id").fetchall()
            print(f"incremental: second crawl of the unchanged site fetched {second[0]} article pages "
                  f"against {first[0]} ({100 * second[0] / max(first[0], 1):.1f}%); {second[1]} new articles")
        server.terminate()


if __name__ == "__main__":
    main()
