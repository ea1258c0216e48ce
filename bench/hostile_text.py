"""Hostile text: the patterns a crawled page's text goes through, before and after they were
made linear (red-team findings of 2026-12-06), side by side in one run.

* redaction's URL-password pattern (``cuttings.redaction._URL_USERINFO``) on a letter run, as
  a 100 KB headline is in a log record or an error message;
* the extractor's contact pattern (``crawler.extract._CONTACT``) on one long token, as a
  20,000-character "word" in a paragraph;
* ``--compare``: ``extract_article`` on every stored benchmark page (``../shared/bench/pages``
  and ``../shared/bench/extraction``) with the old contact pattern and with the current one:
  the outputs (every field) must be identical, and the longest title, byline and description are
  reported (the caps must not cut a real page's).

    PYTHONPATH=. python bench/hostile_text.py [--compare]

The old patterns are timed only up to sizes that end in seconds (they are quadratic: the
figure quadruples when the size doubles); the current ones up to 1 MB. CPU seconds of this
process, one run each.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from pathlib import Path

from crawler import extract
from cuttings import redaction

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "bench"

OLD_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]+)@", re.I)
OLD_CONTACT = re.compile(r"\S+@\S+\.\w+|^(?:https?://)?(?:www\.)?twitter\.com/\w+$|^@\w+$")


def cpu(function, text: str) -> float:
    start = time.process_time()
    function(text)
    return time.process_time() - start


def timings() -> None:
    print("pattern                          input                 CPU s")
    for size in (10_000, 20_000, 40_000):
        print(f"redaction URL password, old      {size:>9,} letters    {cpu(OLD_URL_USERINFO.search, 'a' * size):8.3f}")
    for size in (100_000, 1_000_000):
        print(f"redaction URL password, current  {size:>9,} letters    "
              f"{cpu(redaction._URL_USERINFO.search, 'a' * size):8.3f}")
        print(f"redact() in full, current        {size:>9,} letters    "
              f"{cpu(lambda t: redaction.redact(t, []), 'a' * size):8.3f}")
    for size in (10_000, 20_000, 40_000):
        print(f"extract contact, old             {size:>9,}-char token {cpu(OLD_CONTACT.search, 'x' * size):8.3f}")
    for size in (100_000, 1_000_000):
        print(f"extract contact, current         {size:>9,}-char token "
              f"{cpu(extract._CONTACT.search, 'x' * size):8.3f}")


def stored_pages() -> list[tuple[str, str, str | None]]:
    pages = []
    truth = SHARED / "pages" / "truth.jsonl"
    for line in truth.read_text(encoding="utf8").splitlines():
        if line.strip():
            row = json.loads(line)
            raw = gzip.decompress((SHARED / "pages" / row["html"]).read_bytes())
            pages.append((f"pages/{row['id']}", extract.decode_html(raw), row.get("url")))
    zyte = json.loads((SHARED / "extraction" / "ground-truth.json").read_text(encoding="utf8"))
    for page_id, item in zyte.items():
        raw = gzip.decompress((SHARED / "extraction" / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((f"extraction/{page_id}", extract.decode_html(raw), item.get("url")))
    return pages


def compare() -> int:
    pages = stored_pages()
    current = {page_id: extract.extract_article(text, url) for page_id, text, url in pages}
    kept = extract._CONTACT
    extract._CONTACT = OLD_CONTACT
    try:
        old = {page_id: extract.extract_article(text, url) for page_id, text, url in pages}
    finally:
        extract._CONTACT = kept
    differ = [page_id for page_id in current if current[page_id] != old[page_id]]
    longest_title = max(len(fields.get("title") or "") for fields in current.values())
    longest_author = max(len(fields.get("author") or "") for fields in current.values())
    longest_description = max(len(fields.get("description") or "") for fields in current.values())
    print(f"{len(pages)} stored pages: {len(differ)} with any field different between the old and the current "
          f"contact pattern {differ[:10]}")
    print(f"longest title {longest_title} characters, longest byline {longest_author} characters, "
          f"longest description {longest_description} characters")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", action="store_true", help="compare extraction outputs on the stored pages")
    args = parser.parse_args()
    timings()
    return compare() if args.compare else 0


if __name__ == "__main__":
    raise SystemExit(main())
