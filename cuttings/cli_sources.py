"""``cuttings sources``: commands about the configured news sources (registered by pipeline.py)."""
from __future__ import annotations

from pathlib import Path

import click

from cuttings.cli_common import fail


@click.group()
def sources():
    """Inspect the configured news sources.

    Example:

        cuttings sources check my-paper   # an id from your sources.toml
    """


@sources.command()
@click.argument("source_ids", nargs=-1)
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sources file [default: sources.toml in the home folder, else the packaged one].")
@click.option("--base", default=None, help="Replace {base} in the sources file (e.g. the demo site's URL).")
def check(source_ids, sources_path, base):
    """Fetch each source's robots.txt, feeds, sitemaps and home/section pages (following their
    pagination as the crawl does: rel=next and page N, [crawl] max_depth levels) and report the
    article URLs discovery finds, by layer. No article page is fetched.

    A source FAILS (one "ID: FAILED: ..." line saying what failed) when it gives no article URL,
    when every feed and sitemap it has failed or gave no article URL, or when a feed or sitemap
    configured for it in sources.toml cannot be fetched.

    Exit status: 0 every source passed; 1 a source failed (or a bad sources file or unknown ID).

    Example:

        cuttings sources check my-paper other-paper   # ids from your sources.toml
    """
    from cuttings.config import ConfigError, load_sources
    from cuttings.sources_check import check_source, format_check

    try:
        config = load_sources(sources_path, base=base)
        selected = config.select(source_ids)
    except ConfigError as exc:
        fail(str(exc))
    failed = []
    for source in selected:
        report = check_source(source, config.crawl)
        click.echo(format_check(report))
        if report.failed:
            failed.append(source.id)
    if failed:
        fail(f"{len(failed)} of {len(selected)} sources failed the check: {', '.join(failed)}")
