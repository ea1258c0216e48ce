"""The analyse stage's writes alone (``store.replace_analysis``): first, again, and after a revision.

The stage bench (``analyse_throughput.py --stage``) writes into an empty store only, and its time is
mostly the analyser's; this one times the store's part of the stage, on the three writes a night makes:

* ``first``: each article's analysis written into an empty store;
* ``again``: the same analyses written again at a new analyser version (an upgrade that changed nothing);
* ``moved``: every mention and quote 100 characters later (a paragraph added above each article).

Each phase goes in the stage's batches (``stages.BATCH_SIZE`` articles, one transaction each), timed
(wall and CPU) around ``replace_analysis`` only. The analyses are the corpus articles' (``data/corpus``,
repeated to ``--articles``), made once per process by the analyser, untimed. After each phase it prints a
digest of the rows without their ids (two trees that write the same rows print the same digests) and
how many quote ids the phase kept.

``--revisions`` counts instead what the identity rule (``store.same_quotes``) keeps when each corpus
article is revised and analysed again: a paragraph added after the headline, one added after the first
body paragraph, the last body paragraph cut; the quotes kept, new and gone, and the kept quotes whose
speaker or body changed::

    PYTHONPATH=. python bench/analyse_store.py --revisions

``--compare REV`` runs this script for git revision REV's store (``git archive``) and for this
checkout, alternated ``--repeat`` times::

    nice -n 10 python bench/analyse_store.py --compare 1186c0f --repeat 5
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("first", "again", "moved")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000, help="articles to write (the corpus repeated)")
    parser.add_argument("--compare", metavar="REV", help="also measure git revision REV's store, alternated")
    parser.add_argument("--repeat", type=int, default=3, help="with --compare: alternated runs of each")
    parser.add_argument("--revisions", action="store_true", help="count the quotes each revision keeps")
    return parser.parse_args(argv)


def _digest(db) -> str:
    digest = hashlib.sha256()
    for table, columns in (("mentions", "article_id, entity_id, surface, start_char, end_char, sentence, paragraph, "
                                        "method, analyser_version"),
                           ("quotes", "article_id, speaker, speaker_id, speaker_role, entity_id, entity_method, "
                                      "text, start_char, end_char, analyser_version"),
                           ("named_entities", "article_id, label, text, start_char, end_char, analyser_version")):
        for row in db.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}"):
            digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def measure(articles: int) -> None:
    from crawler.revisions import save_article
    from cuttings import store
    from cuttings.stages import BATCH_SIZE
    from nlp.entities import Analyser
    from nlp.evaluate_entities import article_text, load_corpus

    corpus = list(load_corpus())
    analyser = Analyser()
    analyses = [(result["mentions"], result["quotes"]) for result in
                analyser.pipe([(article_text(text), record.get("date")) for record, text in corpus])]
    with tempfile.TemporaryDirectory() as tmp:
        db = store.connect(Path(tmp) / "bench.db")
        store.sync_entities(db, analyser.watchlist)
        with db.atomic():
            for number, (record, text) in zip(range(articles), itertools.cycle(corpus)):
                title, _, body = text.partition("\n")
                save_article(db, {"url": f"https://bench.example/{number}",
                                  "canonical_url": f"https://bench.example/{number}", "title": f"{number} {title}",
                                  "body": body.strip(), "published_at": record.get("date")}, None)
        rows = list(db.execute("SELECT id, content_hash FROM articles ORDER BY id"))
        work = [({"id": article_id, "content_hash": content_hash}, analysis)
                for (article_id, content_hash), analysis in zip(rows, itertools.cycle(analyses))]

        def moved(items: list[dict]) -> list[dict]:
            return [{**item, "start_char": item["start_char"] + 100, "end_char": item["end_char"] + 100}
                    for item in items]

        figures = []
        for phase, version in zip(PHASES, ("v1", "v2", "v3")):
            ids_before = {(a, t): i for i, a, t in db.execute("SELECT id, article_id, text FROM quotes")}
            items = [(article, moved(m), moved(q)) if phase == "moved" else (article, m, q)
                     for article, (m, q) in work]
            started, cpu_started = time.perf_counter(), time.process_time()
            for batch in range(0, len(items), BATCH_SIZE):
                with db.atomic():
                    for article, mentions, quotes in items[batch:batch + BATCH_SIZE]:
                        store.replace_analysis(db, article, version, mentions, quotes)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            ids_after = {(a, t): i for i, a, t in db.execute("SELECT id, article_id, text FROM quotes")}
            kept = sum(1 for key, quote_id in ids_after.items() if ids_before.get(key) == quote_id)
            figures.append(f"{phase} {elapsed:.3f}s (CPU {cpu:.3f}s) rows {_digest(db)} ids kept {kept}/{len(ids_after)}")
        quotes = db.execute("SELECT count(*) FROM quotes").fetchone()[0]
        mentions = db.execute("SELECT count(*) FROM mentions").fetchone()[0]
    print(f"{len(work)} articles, {mentions} mentions, {quotes} quotes: " + "; ".join(figures))


ADDED = "The meeting was held at the council offices on Tuesday evening and lasted about two hours."


def revisions() -> None:
    from cuttings.store import same_quotes
    from nlp.entities import Analyser, document_text
    from nlp.evaluate_entities import load_corpus

    def revised(kind: str, paragraphs: list[str]) -> list[str] | None:
        if kind == "added above":
            return [ADDED, *paragraphs]
        if kind == "added below the first":
            return [*paragraphs[:1], ADDED, *paragraphs[1:]]
        return paragraphs[:-1] if len(paragraphs) > 1 else None   # "last cut"

    analyser = Analyser()
    corpus = list(load_corpus())
    counts: dict[str, dict[str, int]] = {}
    for record, text in corpus:
        headline, _, body = text.partition("\n")
        paragraphs = [p.strip() for p in body.strip().split("\n\n") if p.strip()]
        before = analyser.analyse(document_text(headline.strip(), "\n\n".join(paragraphs)), record.get("date"))["quotes"]
        for kind in ("added above", "added below the first", "last cut"):
            changed = revised(kind, paragraphs)
            if changed is None:
                continue
            after = analyser.analyse(document_text(headline.strip(), "\n\n".join(changed)), record.get("date"))["quotes"]
            found = same_quotes([(q["start_char"], q["end_char"], q["text"]) for q in before],
                                [(q["start_char"], q["end_char"], q["text"]) for q in after])
            count = counts.setdefault(kind, dict.fromkeys(("articles", "quotes before", "kept", "kept in place",
                                                           "kept moved", "new", "gone", "same words new",
                                                           "kept, speaker or body changed"), 0))
            count["articles"] += 1
            count["quotes before"] += len(before)
            kept = [(old, new) for new, old in enumerate(found) if old is not None]
            count["kept"] += len(kept)
            count["kept in place"] += sum(1 for old, new in kept if before[old]["start_char"] == after[new]["start_char"])
            count["kept moved"] += sum(1 for old, new in kept if before[old]["start_char"] != after[new]["start_char"])
            count["new"] += found.count(None)
            count["gone"] += len(before) - len(kept)
            # a quote of the same words that the rule did not keep (words quoted twice)
            kept_old = {old for old, _new in kept}
            count["same words new"] += sum(1 for new, old in enumerate(found) if old is None and any(
                q["text"] == after[new]["text"] for index, q in enumerate(before) if index not in kept_old))
            count["kept, speaker or body changed"] += sum(
                1 for old, new in kept if (before[old]["speaker"], before[old]["entity_id"])
                != (after[new]["speaker"], after[new]["entity_id"]))
    for kind, count in counts.items():
        print(f"{kind}: " + ", ".join(f"{name} {value}" for name, value in count.items()))


def compare(revision: str, repeat: int, articles: int) -> None:
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / revision
        old_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", revision], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        (old_tree / "cuttings_data").symlink_to(old_tree / "data")
        figures: dict[str, dict[str, list[float]]] = {revision: {}, "this checkout": {}}
        for run in range(1, repeat + 1):
            for name, tree in ((revision, old_tree), ("this checkout", root)):
                # this script drives each tree's store (PYTHONPATH), on the same corpus and analyser code
                output = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--articles", str(articles)],
                                        cwd=tree, check=True, capture_output=True, text=True,
                                        env={**os.environ, "PYTHONPATH": str(tree)}).stdout.strip()
                for phase in PHASES:
                    found = re.search(rf"{phase} [\d.]+s \(CPU ([\d.]+)s\)", output)
                    figures[name].setdefault(phase, []).append(float(found.group(1)) if found else float("nan"))
                print(f"run {run} {name:>13}: {output} (load average {os.getloadavg()[0]:.1f})", flush=True)
        for name, phases in figures.items():
            print(f"{name:>13}: median CPU " + ", ".join(
                f"{phase} {statistics.median(values):.3f}s ({', '.join(f'{v:.3f}' for v in values)})"
                for phase, values in phases.items()))


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.compare:
        compare(ARGS.compare, ARGS.repeat, ARGS.articles)
    elif ARGS.revisions:
        revisions()
    else:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        measure(ARGS.articles)
