"""Out-of-area pages: watched-body mentions the analyser finds where there are none to find.

Runs the ``analyse`` stage's own path (``cuttings.stages.load_analyser().analyse(fit_text(
document_text(title, body)), published_at, source_region)``) over the 413 stored benchmark pages
(``../shared/bench/pages``, 232 real news pages, and ``../shared/bench/extraction``, the Zyte
benchmark's 181), each extracted with ``crawler.extract.extract_article``, once with no outlet
region and once with each region of ``data/sources.toml`` (the region the stage passes for a
local outlet's article). No page is about Herefordshire, Worcestershire or Shropshire: **every
mention of a watched body on them, and every quote linked to a watched body, is a false one**
(as the read-only audit of 2026-12-06 judged, reading each). The script has no labels; it counts:
pages with any, mentions (by body and method), quotes linked to a watched body, and pages whose
analysis raised (counted, not hidden). ``--show`` prints each mention with its sentence.

``--corpus`` also runs the labelled corpus (``data/corpus``) with each article's outlet region
(its site's region in ``data/sources.toml``; other sites get none), as the stage would analyse
those articles, and prints article-level precision/recall per body: the check that true local
references ("the fire service" in a Worcester News story) still resolve.

    PYTHONPATH=. python bench/out_of_area.py [--show] [--corpus]

The pages are a benchmark: they are read from ``../shared/bench`` and never copied into the
project.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from crawler.extract import decode_html, extract_article
from cuttings.config import load_sources
from cuttings.stages import fit_text, load_analyser
from nlp.entities import document_text
from nlp.evaluate_entities import article_text, load_corpus

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "bench"


def stored_pages(shared: Path = SHARED) -> list[dict]:
    """``{"id", "title", "body", "published_at"}`` for every stored benchmark page."""
    raw_pages = []
    for line in (shared / "pages" / "truth.jsonl").read_text(encoding="utf8").splitlines():
        if line.strip():
            row = json.loads(line)
            raw_pages.append((f"pages/{row['id']}", shared / "pages" / row["html"], row.get("url")))
    zyte = json.loads((shared / "extraction" / "ground-truth.json").read_text(encoding="utf8"))
    for page_id, item in zyte.items():
        raw_pages.append((f"extraction/{page_id}", shared / "extraction" / "html" / f"{page_id}.html.gz",
                          item.get("url")))
    pages = []
    for page_id, path, url in raw_pages:
        article = extract_article(decode_html(gzip.decompress(path.read_bytes())), url)
        pages.append({"id": page_id, "title": article["title"], "body": article["body"],
                      "published_at": article["published_at"]})
    return pages


def outlet_regions() -> list[str]:
    """The distinct regions of the shipped sources, in file order."""
    return list(dict.fromkeys(source.region for source in load_sources(REPO / "data" / "sources.toml").sources
                              if source.region))


def out_of_area(pages: list[dict], analyser, regions: list[str | None], show: bool) -> None:
    print(f"{len(pages)} pages, none about a watched body's area: every count below is false")
    print(f"{'outlet region':<32} {'pages':>5} {'mentions':>8} {'quotes':>6} {'errors':>6}  mentions by body/method")
    for region in regions:
        pages_hit = mentions = quotes = errors = 0
        kinds: Counter = Counter()
        for page in pages:
            text, _cut = fit_text(document_text(page["title"], page["body"]))
            try:
                result = analyser.analyse(text, page["published_at"], region)
            except Exception as error:   # counted: one page's crash must not hide the others
                errors += 1
                if show:
                    print(f"  ERROR {page['id']}: {error!r}")
                continue
            linked = [quote for quote in result["quotes"] if quote.get("entity_id")]
            if result["mentions"] or linked:
                pages_hit += 1
            mentions += len(result["mentions"])
            quotes += len(linked)
            for mention in result["mentions"]:
                kinds[f"{mention['entity_id']}/{mention['method']}"] += 1
                if show:
                    print(f"  {region} {page['id']}: {mention['entity_id']} {mention['method']} "
                          f"{mention['surface']!r} | {mention['sentence'][:160]!r}")
            if show:
                for quote in linked:
                    print(f"  {region} {page['id']}: quote -> {quote['entity_id']} ({quote.get('speaker')!r})")
        breakdown = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "-"
        print(f"{region or '(none)':<32} {pages_hit:>5} {mentions:>8} {quotes:>6} {errors:>6}  {breakdown}")


def corpus_with_outlet_regions(analyser) -> None:
    regions = {}
    for source in load_sources(REPO / "data" / "sources.toml").sources:
        for url in [source.home, *source.hosts]:
            host = urlparse(url if "//" in url else f"//{url}").netloc.lower().removeprefix("www.")
            if host and source.region:
                regions[host] = source.region
    corpus = [(record, text) for record, text in load_corpus(REPO / "data" / "corpus")
              if record.get("entities") is not None]
    counts = {entity_id: Counter() for entity_id in analyser.watchlist.ids}
    with_region = 0
    for record, text in corpus:
        region = regions.get((record.get("site") or "").lower().removeprefix("www."))
        with_region += region is not None
        result = analyser.analyse(article_text(text), record.get("date"), region)
        predicted = {mention["entity_id"] for mention in result["mentions"]}
        for entity_id, count in counts.items():
            gold = entity_id in record["entities"]
            count["tp" if gold and entity_id in predicted else "fp" if entity_id in predicted
                  else "fn" if gold else "tn"] += 1
    print(f"\ncorpus, {len(corpus)} articles, {with_region} with their outlet's region: precision/recall (support)")
    for entity_id, count in counts.items():
        precision = count["tp"] / ((count["tp"] + count["fp"]) or 1)
        recall = count["tp"] / ((count["tp"] + count["fn"]) or 1)
        print(f"  {entity_id:<28} {precision:.3f} / {recall:.3f} ({count['tp'] + count['fn']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print every mention and linked quote")
    parser.add_argument("--corpus", action="store_true",
                        help="also score the labelled corpus analysed with each article's outlet region")
    args = parser.parse_args(argv)
    if not (SHARED / "pages" / "truth.jsonl").exists():
        print(f"no benchmark pages at {SHARED}", file=sys.stderr)
        return 2
    analyser = load_analyser()
    out_of_area(stored_pages(), analyser, [None, *outlet_regions()], args.show)
    if args.corpus:
        corpus_with_outlet_regions(analyser)
    return 0


if __name__ == "__main__":
    sys.exit(main())
