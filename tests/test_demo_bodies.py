"""No advert or widget text in the bodies of the demo site's articles: neither as the
extractor returns them for every stored page, nor in the demo database built by `cuttings demo`.

The furniture strings are read from data/build_demo_site.py (what the generator puts around
and inside articles), not copied here, so the test follows the generator."""
from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import load_script

from crawler.extract import extract_article
from cuttings.config import DEMO_SOURCES, load_sources

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = REPO_ROOT / "data" / "demo_site"
MANIFEST = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))


def _generator():
    return load_script("build_demo_site", "data/build_demo_site.py")


def furniture_strings() -> list[str]:
    """Advert copy and widget/newsletter/related/share texts the generator emits."""
    generator = _generator()
    adverts = [html.unescape(text) for text in generator._ADVERTS]
    # render one real page and take the furniture texts from its markup, so a change of wording
    # in the generator is followed here
    from lxml import html as lxml_html

    page = next(a for a in MANIFEST["articles"])
    tree = lxml_html.fromstring((DEMO_SITE / page["path"].lstrip("/") / "index.html").read_bytes())
    widgets = [" ".join(e.text_content().split()) for e in tree.xpath(
        "//*[contains(@class, 'advert-label') or contains(@class, 'widget-title') or contains(@class, 'related-links')"
        "]/*[self::h2 or self::h3] | //*[contains(@class, 'advert-label')] | //*[contains(@class, 'widget-title')]")]
    assert adverts and widgets
    return adverts + [w for w in widgets if w] + ["Advertisement", "Related stories", "Subscribe from"]


FURNITURE = furniture_strings()


def test_the_generator_puts_adverts_inside_articles():
    """The check below can fail: the stored pages do carry in-article adverts."""
    pages = [DEMO_SITE / a["path"].lstrip("/") / "index.html" for a in MANIFEST["articles"]]
    with_advert = [p for p in pages if "advert-in-article" in p.read_text(encoding="utf-8")]
    assert len(with_advert) > len(pages) / 2


def test_no_advert_or_widget_text_in_extracted_bodies():
    """As the crawl extracts them: with each outlet's selectors from data/demo_sources.toml."""
    selectors = {source.id: source.selectors for source in load_sources(DEMO_SOURCES, base="http://127.0.0.1:1").sources}
    assert any(s and s.get("body") for s in selectors.values())  # a body selector is exercised too
    kept = {}
    for article in MANIFEST["articles"]:
        page = DEMO_SITE / article["path"].lstrip("/") / "index.html"
        result = extract_article(page.read_bytes(), article["canonical_url"],
                                 overrides=selectors[article["outlet"]] or None)
        assert result["is_article"], article["path"]
        hits = [text for text in FURNITURE if text in result["body"]]
        if hits:
            kept[article["path"]] = hits
        assert result["authors"] == [article["author"]], article["path"]
        assert result["title"] == article["title"], article["path"]
    assert kept == {}


@pytest.mark.slow
def test_no_advert_or_widget_text_in_demo_database(demo_db):
    db = sqlite3.connect(demo_db)
    bodies = [row[0] for row in db.execute("SELECT body FROM articles")]
    assert len(bodies) > 100
    kept = [(text, body[:80]) for body in bodies for text in FURNITURE if text in body]
    assert kept == []
    people = db.execute("SELECT count(DISTINCT article_id) FROM article_authors").fetchone()[0]
    assert people == len(bodies)
