"""Tests for the offline demo site (data/build_demo_site.py, data/demo_site/) and bench/make_big_site.py."""
from __future__ import annotations

import collections
import json
import re
import tomllib
import urllib.robotparser
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest

from tests.conftest import load_script

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "data" / "demo_site"
CORPUS_DIR = REPO_ROOT / "data" / "corpus"
SOURCES_FILE = REPO_ROOT / "data" / "demo_sources.toml"
BASE = "http://127.0.0.1:8765"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}


demo = load_script("build_demo_site", "data/build_demo_site.py")
big = load_script("make_big_site", "bench/make_big_site.py")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def page_file(site: Path, path: str) -> Path:
    """The file a static server returns for a server path."""
    return site / (path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/"))


def parse_html(site: Path, path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(page_file(site, path).read_bytes())


def json_ld_types(doc: lxml.html.HtmlElement) -> list[dict]:
    return [json.loads(script.text) for script in doc.xpath('//script[@type="application/ld+json"]')]


def meta_property(doc: lxml.html.HtmlElement, name: str) -> str | None:
    values = doc.xpath(f'//meta[@property="{name}"]/@content')
    return values[0] if values else None


def discovered_paths(site: Path, manifest_data: dict) -> dict[str, set[str]]:
    """Server paths listed by each discovery layer (feed, sitemap, section), parsed as a crawler would."""
    layers: dict[str, set[str]] = {"feed": set(), "sitemap": set(), "section": set()}
    for outlet in manifest_data["outlets"]:
        feed_url = BASE + outlet["feed"]
        feed = feedparser.parse(page_file(site, outlet["feed"]).read_bytes(),
                                response_headers={"content-location": feed_url, "content-type": "application/xml"})
        assert not feed.bozo, feed.bozo_exception
        layers["feed"].update(urlsplit(entry.link).path for entry in feed.entries)

        pending = [outlet["sitemap"]]
        while pending:
            sitemap_path = pending.pop()
            root = lxml.etree.fromstring(page_file(site, sitemap_path).read_bytes())
            locs = [urlsplit(urljoin(BASE + sitemap_path, loc)).path for loc in root.xpath("//sm:loc/text()", namespaces=SITEMAP_NS)]
            if root.tag == f"{{{SITEMAP_NS['sm']}}}sitemapindex":
                pending.extend(locs)
            else:
                layers["sitemap"].update(locs)

        for section_path in outlet["sections"]:
            doc = parse_html(site, section_path)
            layers["section"].update(urlsplit(urljoin(BASE + section_path, href)).path for href in doc.xpath("//a/@href"))
    return layers


def test_regeneration_is_byte_identical_to_committed_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    sources = tmp_path / "demo_sources.toml"
    demo.main(["--out", str(out), "--corpus", str(CORPUS_DIR), "--sources", str(sources)])
    committed = sorted(p.relative_to(SITE_DIR).as_posix() for p in SITE_DIR.rglob("*") if p.is_file())
    generated = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert generated == committed
    different = [name for name in committed if (out / name).read_bytes() != (SITE_DIR / name).read_bytes()]
    assert different == []
    assert sources.read_bytes() == SOURCES_FILE.read_bytes()


def test_generator_refuses_to_wipe_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit):
        demo.build_demo_site(CORPUS_DIR, tmp_path, None)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_manifest_paths_exist(manifest: dict) -> None:
    paths = [a["path"] for a in manifest["articles"]] + manifest["non_article_paths"] + manifest["disallowed_pages"]
    for outlet in manifest["outlets"]:
        paths += [outlet["home"], outlet["feed"], *outlet["sitemap_files"], *outlet["sections"]]
    missing = [path for path in paths if not page_file(SITE_DIR, path).is_file()]
    assert missing == []
    assert len({a["path"] for a in manifest["articles"]}) == len(manifest["articles"])
    assert len({a["canonical_url"] for a in manifest["articles"]}) == len(manifest["articles"])
    assert set(manifest["non_article_paths"]).isdisjoint(a["path"] for a in manifest["articles"])


def test_every_corpus_article_published_once_as_original(manifest: dict) -> None:
    corpus_ids = [json.loads(line)["id"] for line in (CORPUS_DIR / "labels.jsonl").read_text().splitlines() if line.strip()]
    originals = collections.Counter(a["corpus_id"] for a in manifest["articles"] if a["syndicated_from"] is None)
    assert sorted(originals) == sorted(corpus_ids)
    assert set(originals.values()) == {1}
    assert len({a["outlet"] for a in manifest["articles"]}) >= 3


def test_corpus_dates_and_titles_carried_over(manifest: dict) -> None:
    labels = {row["id"]: row for row in map(json.loads, (CORPUS_DIR / "labels.jsonl").read_text().splitlines())}
    latest = max(row["date"] for row in labels.values() if row["date"])
    for article in manifest["articles"]:
        label = labels[article["corpus_id"]]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", article["published_at"])
        if article["syndicated_from"] is None:
            headline = (CORPUS_DIR / "articles" / f"{article['corpus_id']}.txt").read_text().split("\n", 1)[0].strip()
            assert article["title"] == headline
            if label["date"]:
                assert article["published_at"][:10] == label["date"]
            else:
                assert "2005-01-01" <= article["published_at"][:10] <= latest
        assert article["modified_at"] >= article["published_at"]


def test_undated_articles_get_dates_from_url_evidence(manifest: dict) -> None:
    labels = [json.loads(line) for line in (CORPUS_DIR / "labels.jsonl").read_text().splitlines()]
    published = {a["corpus_id"]: a["published_at"][:10] for a in manifest["articles"] if a["syndicated_from"] is None}
    undated = [row for row in labels if row["date"] is None]
    url_months = [(row, m) for row in undated if (m := re.search(r"/(20\d\d)/(\d\d)/", row["url"]))]
    assert url_months
    for row, match in url_months:
        assert published[row["id"]][:7] == f"{match.group(1)}-{match.group(2)}"
    newsquest = sorted((int(m.group(1)), published[row["id"]]) for row in undated
                       if (m := re.search(r"/news/(?:[a-z_]+/)*(\d{7,8})\.", row["url"])))
    assert len(newsquest) > 10
    assert [day for _, day in newsquest] == sorted(day for _, day in newsquest)  # article numbers grow with time


def test_syndicated_copies_point_at_existing_originals(manifest: dict) -> None:
    by_canonical = {a["canonical_url"]: a for a in manifest["articles"]}
    copies = [a for a in manifest["articles"] if a["syndicated_from"]]
    assert 6 <= len(copies) <= 10
    for copy in copies:
        original = by_canonical[copy["syndicated_from"]]
        assert original["syndicated_from"] is None
        assert original["corpus_id"] == copy["corpus_id"]
        assert original["outlet"] != copy["outlet"]
        assert copy["canonical_url"] != original["canonical_url"]
        assert copy["title"] != original["title"] and copy["title"].lower() == original["title"].lower()
        copy_text = parse_html(SITE_DIR, copy["path"]).text_content()
        original_doc = parse_html(SITE_DIR, original["path"])
        outlet_name = next(o["name"] for o in manifest["outlets"] if o["slug"] == original["outlet"])
        assert f"This story first appeared in the {outlet_name}" in copy_text
        original_paragraphs = original_doc.xpath(
            "//div[contains(@class,'story-body') or contains(@class,'entry-content') or contains(@class,'article-text')]/p")
        assert len(original_paragraphs) >= 3
        for paragraph in original_paragraphs:
            assert paragraph.text_content() in copy_text


def test_article_pages_have_absolute_canonical_and_og_url(manifest: dict) -> None:
    for article in manifest["articles"]:
        doc = parse_html(SITE_DIR, article["path"])
        canonical = doc.xpath('//link[@rel="canonical"]/@href')
        assert canonical == [article["canonical_url"]]
        assert meta_property(doc, "og:url") == article["canonical_url"]
        match = re.fullmatch(r"https://www\.[a-z]+\.example/news/(\d{4})/(\d\d)/(\d\d)/[a-z0-9-]+/", article["canonical_url"])
        assert match, article["canonical_url"]
        assert "-".join(match.groups()) == article["published_at"][:10]
        assert doc.xpath("string(//h1)").strip() == article["title"]


def test_every_article_reachable_from_feed_sitemap_or_section(manifest: dict) -> None:
    layers = discovered_paths(SITE_DIR, manifest)
    article_paths = {a["path"] for a in manifest["articles"]}
    assert article_paths <= layers["feed"] | layers["sitemap"] | layers["section"]
    assert layers["feed"] <= article_paths
    assert len(layers["feed"]) < len(article_paths) / 3  # feeds list only recent articles
    only_sitemap = article_paths - layers["feed"] - layers["section"]
    only_section = article_paths - layers["feed"] - layers["sitemap"]
    assert only_sitemap and only_section  # each layer is needed for some articles
    assert set(manifest["disallowed_pages"]).isdisjoint(layers["sitemap"] | layers["feed"])


def test_link_graph_reaches_all_pages_including_non_articles(manifest: dict) -> None:
    """Following <a href> from the outlet home pages finds every article, non-article and the private page."""
    seen = set()
    pending = [outlet["home"] for outlet in manifest["outlets"]]
    while pending:
        path = pending.pop()
        if path in seen or not path.endswith("/") or not page_file(SITE_DIR, path).is_file():
            continue
        seen.add(path)
        for href in parse_html(SITE_DIR, path).xpath("//a/@href"):
            target = urlsplit(urljoin(BASE + path, href))
            if target.netloc == urlsplit(BASE).netloc:
                pending.append(target.path)
    assert {a["path"] for a in manifest["articles"]} <= seen
    assert set(manifest["non_article_paths"]) - {"/"} <= seen
    assert set(manifest["disallowed_pages"]) <= seen


def test_robots_txt_sitemaps_and_disallow(manifest: dict) -> None:
    text = (SITE_DIR / "robots.txt").read_text()
    sitemap_lines = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Sitemap:")]
    assert sitemap_lines == [outlet["sitemap"] for outlet in manifest["outlets"]]
    assert [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Disallow:")] == manifest["disallowed_paths"]
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    for private in manifest["disallowed_pages"]:
        assert not robots.can_fetch("cuttings-bot", BASE + private)
    assert all(robots.can_fetch("cuttings-bot", BASE + a["path"]) for a in manifest["articles"])


def test_sitemap_kinds(manifest: dict) -> None:
    formats = {outlet["sitemap_format"]: outlet for outlet in manifest["outlets"]}
    assert set(formats) == {"news", "index", "plain"}
    published = {a["path"]: a["published_at"] for a in manifest["articles"]}
    news_root = lxml.etree.fromstring(page_file(SITE_DIR, formats["news"]["sitemap"]).read_bytes())
    urls = news_root.xpath("//sm:url", namespaces=SITEMAP_NS)
    assert urls
    for url in urls:
        loc = url.xpath("sm:loc/text()", namespaces=SITEMAP_NS)[0]
        assert url.xpath("news:news/news:publication_date/text()", namespaces=SITEMAP_NS) == [published[loc]]
        assert url.xpath("news:news/news:title/text()", namespaces=SITEMAP_NS)
    index_root = lxml.etree.fromstring(page_file(SITE_DIR, formats["index"]["sitemap"]).read_bytes())
    assert index_root.tag.endswith("sitemapindex")
    monthly = index_root.xpath("//sm:loc/text()", namespaces=SITEMAP_NS)
    assert len(monthly) > 1 and all(re.search(r"/sitemaps/\d{4}-\d\d\.xml$", loc) for loc in monthly)


def test_feed_kinds_and_home_page_alternate_links(manifest: dict) -> None:
    assert {outlet["feed_format"] for outlet in manifest["outlets"]} == {"rss", "atom"}
    for outlet in manifest["outlets"]:
        feed = feedparser.parse(page_file(SITE_DIR, outlet["feed"]).read_bytes())
        assert feed.version == ("atom10" if outlet["feed_format"] == "atom" else "rss20")
        assert all(entry.get("published_parsed") for entry in feed.entries)
        assert 0 < len(feed.entries) < outlet["article_count"]
        home = parse_html(SITE_DIR, outlet["home"])
        alternates = home.xpath('//link[@rel="alternate"][contains(@type, "xml")]/@href')
        assert alternates == [outlet["feed"]]


def test_date_markup_differs_between_outlets(manifest: dict) -> None:
    markup = {outlet["slug"]: outlet["date_markup"] for outlet in manifest["outlets"]}
    assert set(markup.values()) == {"json-ld", "opengraph", "visible"}
    for article in manifest["articles"]:
        doc = parse_html(SITE_DIR, article["path"])
        news_articles = [d for d in json_ld_types(doc) if d.get("@type") == "NewsArticle"]
        kind = markup[article["outlet"]]
        published = datetime.fromisoformat(article["published_at"].replace("Z", "+00:00"))
        if kind == "json-ld":
            assert len(news_articles) == 1
            data = news_articles[0]
            assert data["headline"] == article["title"]
            assert data["datePublished"] == article["published_at"]
            assert data["dateModified"] == article["modified_at"]
            assert data["author"][0]["name"] == article["author"]
            assert data["isAccessibleForFree"] is True
            assert meta_property(doc, "article:published_time") is None
        elif kind == "opengraph":
            assert news_articles == []
            assert datetime.fromisoformat(meta_property(doc, "article:published_time")) == published
        else:
            assert news_articles == []
            assert meta_property(doc, "article:published_time") is None
            assert not doc.xpath("//time/@datetime")
            visible = doc.xpath("string(//p[@class='dateline']/time)")
            assert visible == f"{published:%A} {published.day} {published:%B %Y}"


def test_non_article_pages_look_like_listings(manifest: dict) -> None:
    kinds = collections.Counter(page["kind"] for page in manifest["non_article_pages"])
    assert {"tag", "author", "live-blog-index", "contact", "section", "home"} <= set(kinds)
    for page in manifest["non_article_pages"]:
        if page["kind"] == "portal":
            continue
        doc = parse_html(SITE_DIR, page["path"])
        assert meta_property(doc, "og:type") == "website"
        types = {d.get("@type") for d in json_ld_types(doc)}
        assert "NewsArticle" not in types
        paragraphs = " ".join(p.text_content() for p in doc.xpath("//main//p | //div[@class='col-main']//p"))
        assert len(paragraphs) < 400, page
    echo_listing = parse_html(SITE_DIR, "/severn-valley-echo/tag/fire-service/")
    assert "CollectionPage" in {d.get("@type") for d in json_ld_types(echo_listing)}


def test_demo_sources_toml_matches_site(manifest: dict) -> None:
    sources = tomllib.loads(SOURCES_FILE.read_text())["source"]
    assert [s["id"] for s in sources] == [outlet["slug"] for outlet in manifest["outlets"]]
    non_article_paths = set(manifest["non_article_paths"])
    for source in sources:
        assert source["verified"] is True
        for url in [source["home"], *source["feeds"], *source["sitemaps"], *source["sections"]]:
            assert url.startswith("{base}/")
            assert page_file(SITE_DIR, url.removeprefix("{base}")).is_file()
        articles = [a["path"] for a in manifest["articles"] if a["outlet"] == source["id"]]
        for path in articles:
            assert any(re.search(pattern, path) for pattern in source["allow"]), path
            assert not any(re.search(pattern, path) for pattern in source["deny"]), path
        for path in non_article_paths:
            if path.startswith(f"/{source['id']}/") and any(k in path for k in ("/tag/", "/author/", "/contact/")):
                assert any(re.search(pattern, path) for pattern in source["deny"]), path
    selectors = [s["selectors"] for s in sources if "selectors" in s]
    assert selectors and all(value.startswith(("css:", "xpath:")) for s in selectors for value in s.values())


def test_site_is_modest_in_size() -> None:
    assert sum(p.stat().st_size for p in SITE_DIR.rglob("*") if p.is_file()) < 4_000_000


def test_synthetic_story_bodies_are_distinct() -> None:
    stories = big.synthetic_stories(CORPUS_DIR, 450)
    assert len({s.corpus_id for s in stories}) == 450
    assert len({s.paragraphs for s in stories}) == 450
    corpus_paragraphs = {p for s in demo.stories_from_corpus(CORPUS_DIR) for p in s.paragraphs}
    assert all(set(s.paragraphs) <= corpus_paragraphs for s in stories)


def test_make_big_site_small(tmp_path: Path) -> None:
    out = tmp_path / "big"
    big.main(["--out", str(out), "--articles", "50"])
    data = json.loads((out / "manifest.json").read_text())
    originals = [a for a in data["articles"] if a["syndicated_from"] is None]
    assert len(originals) == 50
    assert len({a["canonical_url"] for a in data["articles"]}) == len(data["articles"])
    layers = discovered_paths(out, data)
    assert {a["path"] for a in data["articles"]} <= layers["feed"] | layers["sitemap"] | layers["section"]
    sources = tomllib.loads((out / "sources.toml").read_text())["source"]
    assert len(sources) == 3
    assert all(page_file(out, s["home"].removeprefix("{base}")).is_file() for s in sources)
    for article in data["articles"][:20]:
        doc = parse_html(out, article["path"])
        assert doc.xpath('//link[@rel="canonical"]/@href') == [article["canonical_url"]]
