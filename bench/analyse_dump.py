"""Every analysis the analyser gives on the corpus and the out-of-area pages, as JSON lines, to compare two trees.

A speed change must leave the output as it was: dump before and after and compare byte for byte
(``cmp``). One line per analysis, ``[tag, {"mentions": [...], "quotes": [...]}]`` with sorted keys:

* ``["pipe", id]``: each corpus article (``data/corpus``) through ``Analyser.pipe`` with its date;
* ``["nodate", id]``: each corpus article through ``Analyser.analyse`` without a date;
* ``["region", region, id]``: each corpus article with its date and each outlet region of
  ``data/sources.toml`` (the region the stage passes for a local outlet's article);
* ``["page", region, id]``: each out-of-area benchmark page (``bench/out_of_area.py``'s 413, when
  ``../shared/bench`` holds them) with no region and with each region, as the stage reads it
  (``fit_text(document_text(title, body))``); a page the analyser raised on is dumped as the error.

The analyser is ``cuttings.stages.load_analyser()`` (the stage's own). About a minute on one core::

    PYTHONPATH=. python bench/analyse_dump.py /tmp/before.jsonl
    (change the code)
    PYTHONPATH=. python bench/analyse_dump.py /tmp/after.jsonl && cmp /tmp/before.jsonl /tmp/after.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.out_of_area import SHARED, outlet_regions, stored_pages
from cuttings.stages import fit_text, load_analyser
from nlp.entities import document_text
from nlp.evaluate_entities import article_text, load_corpus


def dump(out, pages: bool = True) -> int:
    """Write every analysis to ``out`` (a text file); the number of lines written."""
    analyser = load_analyser()
    corpus = list(load_corpus())
    regions = outlet_regions()
    lines = 0

    def write(tag: list, result) -> None:
        nonlocal lines
        out.write(json.dumps([tag, result], sort_keys=True, ensure_ascii=False) + "\n")
        lines += 1

    texts = [(article_text(text), record.get("date")) for record, text in corpus]
    for (record, _text), result in zip(corpus, analyser.pipe(texts)):
        write(["pipe", record.get("id")], result)
    for record, text in corpus:
        write(["nodate", record.get("id")], analyser.analyse(article_text(text)))
        for region in regions:
            write(["region", region, record.get("id")], analyser.analyse(article_text(text), record.get("date"), region))
    if pages and (SHARED / "pages" / "truth.jsonl").exists():
        for page in stored_pages():
            text, _cut = fit_text(document_text(page["title"], page["body"]))
            for region in [None, *regions]:
                try:
                    result = analyser.analyse(text, page["published_at"], region)
                except Exception as error:   # dumped: a crash is output too
                    result = repr(error)
                write(["page", region, page["id"]], result)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example:\n  PYTHONPATH=. python bench/analyse_dump.py /tmp/before.jsonl")
    parser.add_argument("output", type=Path, help="the JSON-lines file to write")
    parser.add_argument("--no-pages", action="store_true", help="the corpus only, not the out-of-area pages")
    args = parser.parse_args(argv)
    with args.output.open("w", encoding="utf-8") as out:
        lines = dump(out, pages=not args.no_pages)
    print(f"{lines} analyses written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
