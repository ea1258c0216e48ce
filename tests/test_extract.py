"""Tests for crawler.extract on stored pages (tests/pages/NAME.html.gz + NAME.json), offline."""
import gzip
import json
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from crawler.extract import RESULT_KEYS, decode_html, extract_article, extract_file

PAGES = Path(__file__).parent / "pages"
PAGE_NAMES = sorted(p.name[: -len(".html.gz")] for p in PAGES.glob("*.html.gz"))


def load_case(name):
    case = json.loads((PAGES / f"{name}.json").read_text(encoding="utf8"))
    raw = gzip.decompress((PAGES / f"{name}.html.gz").read_bytes())
    return raw, case["url"], case["expected"]


def test_all_pages_present():
    assert {"jsonld_newsarticle", "opengraph_time", "url_date", "windows1252", "paywalled",
            "tag_index", "section_index", "script_title"} <= set(PAGE_NAMES)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_stored_page(name):
    raw, url, expected = load_case(name)
    result = extract_article(raw, url)
    assert set(result) == set(RESULT_KEYS)
    assert isinstance(result["is_article"], bool) and isinstance(result["paywalled"], bool)
    for field, value in expected.items():
        if field == "body_contains":
            for sentence in value:
                assert sentence in result["body"], f"{name}: missing {sentence!r}"
        elif field == "body_excludes":
            for boilerplate in value:
                assert boilerplate not in result["body"], f"{name}: boilerplate {boilerplate!r} kept"
        else:
            assert result[field] == value, f"{name}: {field}"
    if result["is_article"]:
        assert result["reject_reason"] is None
        paragraphs = result["body"].split("\n\n")
        assert len(paragraphs) >= 2 and all(p.strip() == p and p for p in paragraphs)
    else:
        assert result["reject_reason"]


def test_body_starts_with_text_not_headline():
    raw, url, _ = load_case("jsonld_newsarticle")
    body = extract_article(raw, url)["body"]
    assert body.startswith("Firefighters from three stations")
    assert body.count("\n\n") == 5  # six paragraphs, blank-line separated


def test_str_and_bytes_inputs_agree():
    raw, url, _ = load_case("windows1252")
    from_bytes = extract_article(raw, url)
    from_text = extract_article(decode_html(raw), url)
    assert from_bytes == from_text
    assert "£1.2m" in from_bytes["title"]


def test_extract_file_reads_gzip(tmp_path):
    text = extract_file(PAGES / "windows1252.html.gz")
    assert "St Owen’s Street" in text and "“long overdue”" in text
    plain = tmp_path / "page.html"
    plain.write_bytes(gzip.decompress((PAGES / "jsonld_newsarticle.html.gz").read_bytes()))
    assert "Crews tackle barn fire" in extract_file(plain)


def test_decode_html_header_charset_wins():
    raw = '<html><head><meta charset="utf-8"></head><body><p>Café £5 “quoted”</p></body></html>'.encode("cp1252")
    assert "Café £5 “quoted”" in decode_html(raw, "text/html; charset=windows-1252")
    # without the header the (wrong) meta declaration is followed, and bad bytes do not raise
    assert "\ufffd" in decode_html(raw)


def test_decode_html_bom_and_guess():
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>") == "<p>café</p>"
    assert decode_html("<p>naïve café crème brûlée</p>".encode("utf-8")) == "<p>naïve café crème brûlée</p>"
    assert decode_html(b"\xff\xfe\x00garbage\x81\x8d", "text/html; charset=nonsense") is not None


def test_hints_used_only_when_page_has_none():
    raw, url, _ = load_case("script_title")
    hinted = extract_article(raw, url, hints={"published_at": "2024-04-02T08:00:00+01:00", "date_source": "sitemap"})
    assert (hinted["published_at"], hinted["date_source"]) == ("2024-04-02T07:00:00Z", "sitemap")
    raw, url, _ = load_case("jsonld_newsarticle")
    page_wins = extract_article(raw, url, hints={"published_at": "2020-01-01", "date_source": "feed", "title": "X"})
    assert (page_wins["published_at"], page_wins["date_source"]) == ("2024-03-05T09:15:00Z", "json-ld")
    assert page_wins["title"] == "Crews tackle barn fire near Ledbury overnight"


def test_overrides_win_when_they_match():
    raw, url, _ = load_case("opengraph_time")
    result = extract_article(raw, url, overrides={
        "title": "css:article h1",
        "author": "xpath://span[@class='author']/text()",
        "published_at": "css:div.meta time",
        "body": "css:article",
    })
    assert result["title"] == "Police appeal after Shrewsbury town centre assault"
    assert result["author"] == "Tom Green"
    assert (result["published_at"], result["date_source"]) == ("2024-06-10T17:30:00Z", "override")
    assert result["body"].startswith("West Mercia Police has appealed")
    unmatched = extract_article(raw, url, overrides={"title": "css:.no-such-thing", "body": "xpath:[[broken"})
    assert unmatched["title"] == "Police appeal after Shrewsbury town centre assault"
    assert "Pride Hill" in unmatched["body"]


def test_short_and_empty_pages_rejected():
    short = "<html><head><title>Note</title></head><body><article><p>Road closed today.</p></article></body></html>"
    assert extract_article(short)["reject_reason"] in {"too short", "no body"}
    empty = extract_article(b"")
    assert empty["is_article"] is False and empty["reject_reason"] == "no body" and empty["body"] == ""


def test_runs_in_process_pool():
    raw, url, _ = load_case("paywalled")
    pickle.dumps(extract_article)
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(extract_article, raw, url).result()
    assert result["paywalled"] is True and result["author"] == "Priya Patel"


@pytest.mark.parametrize("value, expected", [
    ("2019-11-19T13:03:00.000Z", "2019-11-19T13:03:00Z"),
    ("2024-06-10T18:30:00+01:00", "2024-06-10T17:30:00Z"),
    ("Nov 19, 2019 8:03am EST", "2019-11-19T13:03:00Z"),
    ("Tuesday 19 November 2019 14:05 GMT", "2019-11-19T14:05:00Z"),
    ("2024-03-05", "2024-03-05"),
    ("05/03/2024", "2024-03-05"),
    ("20191119", "2019-11-19"),
    ("2024-02-30", None),
    ("1850-01-01", None),
    ("not a date", None),
])
def test_date_normalisation(value, expected):
    from crawler.extract import _normalise_date
    assert _normalise_date(value) == expected


def test_dates_in_the_future_or_before_1990_are_not_believed():
    import datetime as dt

    from crawler.extract import _normalise_date, _url_date
    now = dt.datetime.now(dt.timezone.utc)
    tomorrow, in_three_days = (now + dt.timedelta(days=1)).date(), (now + dt.timedelta(days=3)).date()
    assert _normalise_date(tomorrow.isoformat()) == tomorrow.isoformat()   # a zone ahead of UTC
    assert _normalise_date(f"{in_three_days.isoformat()}T08:00:00Z") is None
    assert _normalise_date(in_three_days.isoformat()) is None
    assert _normalise_date("2099-12-31T08:00:00Z") is None and _normalise_date("9999-12-31T23:00:00-05:00") is None
    assert _normalise_date("1970-01-01T00:00:00Z") is None
    assert _url_date("https://example.org/news/1970/01/01/story/") is None
    assert _url_date("https://example.org/news/1989/12/31/story/") is None
    assert _url_date(f"https://example.org/news/{in_three_days:%Y/%m/%d}/story/") is None
    assert _url_date("https://example.org/news/2024/05/01/story/") == "2024-05-01"


@pytest.mark.parametrize("url, expected", [
    ("https://example.org/world/news/bridge-reopens-after-repairs-20200113", "2020-01-13"),
    ("https://example.org/world/bridge-reopens-20200113.html", "2020-01-13"),
    ("https://example.org/world/bridge-reopens-20200113/", "2020-01-13"),
    ("https://example.org/world/bridge-reopens-20200113/comments", None),   # not the page's own slug
    ("https://example.org/world/bridge-reopens-20201399", None),   # no such day: an id
    ("https://example.org/world/bridge-reopens-12345678", None),
])
def test_a_day_ending_the_slug_is_the_url_date(url, expected):
    from crawler.extract import _url_date
    assert _url_date(url) == expected


@pytest.mark.parametrize("path, expected", [
    # a day in a day's context: ending a slug of words, or opening a segment a slug or segment follows
    ("/news/local/fire-at-farm-20231115", "2023-11-15"), ("/news/fire_at_farm-20231115", "2023-11-15"),
    ("/20231115-fire-at-farm", "2023-11-15"), ("/news/20231115/fire-at-farm", "2023-11-15"),
    ("/news/19920413/fire-at-farm", "1992-04-13"), ("/news/fire-at-farm-19931115", "1993-11-15"),
    # longer runs of digits, and eight that do not start with 19 or 20, are ids
    ("/news/12345678", None), ("/news/fire-at-farm-20231115123", None), ("/article/1220230412", None),
    # eight digits after other digits: an id, not a day
    ("/article/98765-20230412", None), ("/news/story-2-20231115", None), ("/article/98765/20230412", None),
    # eight digits alone (or before digits only): an id that may parse; a day only when plausible, from
    # 1995 to the day the page is read
    ("/story/20210413", "2021-04-13"), ("/story/20210413/", "2021-04-13"), ("/story/20210413-123456", "2021-04-13"),
    ("/story/19920413", None), ("/story/19941231-123456", None), ("/story/19950101", "1995-01-01"),
    ("/story/20991231", None), ("/story/20210231", None),
])
def test_eight_digits_are_a_day_only_in_a_days_context(path, expected):
    from crawler.extract import _url_date
    assert _url_date("https://www.marchescourier.example" + path) == expected


def test_an_article_id_that_parses_as_a_day_gives_no_url_date():
    """The whole extractor: a page with no dated markup at an id URL (/story/20991231, /article/98765-20230412)
    takes no date from its URL; at a slug ending in its day it does."""
    import datetime as dt
    prose = "".join(f"<p>Firefighters said the blaze near the farm had been contained after {i} hours of work.</p>"
                    for i in range(8))
    page = ("<html><head><title>Blaze at farm contained</title></head><body>"
            f"<article><h1>Blaze at farm contained</h1>{prose}</article></body></html>")
    next_year = dt.date.today().year + 1
    for path in (f"/story/{next_year}0105", "/article/98765-20230412", "/article/98765/20230412"):
        result = extract_article(page, "https://www.marchescourier.example" + path)
        assert result["date_source"] != "url" and result["published_at"] != "2023-04-12", path
    result = extract_article(page, "https://www.marchescourier.example/news/blaze-at-farm-contained-20230412")
    assert (result["published_at"], result["date_source"]) == ("2023-04-12", "url")


def test_the_canonical_urls_slug_date_beats_a_masthead_date():
    # a syndicated story: the site's header shows today's date, the canonical URL (the
    # original's) ends in the story's day, and the page has no dated metadata
    prose = "".join(f"<p>Firefighters said the blaze near the town had been contained after {i} days of work.</p>"
                    for i in range(8))
    page = ('<html><head><title>Blaze brought under control</title>'
            '<link rel="canonical" href="https://original.example/world/blaze-brought-under-control-20200113">'
            '</head><body><div class="masthead"><span class="date">Tue, 14 Jan 2020</span></div>'
            f'<article><h1>Blaze brought under control</h1>{prose}</article></body></html>')
    result = extract_article(page, "https://syndicator.example/news/263700449/blaze-brought-under-control")
    assert (result["published_at"], result["date_source"]) == ("2020-01-13", "url")


def test_a_future_date_falls_back_to_the_next_date_source():
    prose = " ".join(["West Mercia Police said the review would report by the end of January."] * 8)

    def page(ld_date, meta_date=None, time_date=None):
        meta = f'<meta property="article:published_time" content="{meta_date}">' if meta_date else ""
        when = f'<time datetime="{time_date}">then</time>' if time_date else ""
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Review ordered",
                         "datePublished": ld_date})
        return (f'<html><head><script type="application/ld+json">{ld}</script>{meta}</head><body><article>'
                f"<h1>Review ordered</h1>{when}<p>{prose}</p></article></body></html>")

    found = extract_article(page("2099-12-31T08:00:00Z", meta_date="2026-11-20T09:00:00Z"),
                            "https://example.org/news/review-ordered")
    assert (found["published_at"], found["date_source"]) == ("2026-11-20T09:00:00Z", "meta")
    found = extract_article(page("2099-12-31T08:00:00Z"), "https://example.org/news/2026/11/19/review-ordered/")
    assert (found["published_at"], found["date_source"]) == ("2026-11-19", "url")
    epoch = extract_article(page("1970-01-01", time_date="2026-11-18T10:00:00Z"),
                            "https://example.org/news/1970/01/01/review-ordered/")
    assert (epoch["published_at"], epoch["date_source"]) == ("2026-11-18T10:00:00Z", "text")
    unknown = extract_article(page("2099-12-31"), "https://example.org/news/review-ordered")
    assert (unknown["published_at"], unknown["date_source"]) == (None, None)   # first seen stands in for it
    hinted = extract_article(page("2099-12-31"), "https://example.org/news/review-ordered",
                             hints={"published_at": "2026-11-17T10:00:00Z", "date_source": "feed"})
    assert (hinted["published_at"], hinted["date_source"]) == ("2026-11-17T10:00:00Z", "feed")


def test_byline_and_furniture_lines_removed_but_prose_kept():
    prose = " ".join(["The parish council met on Tuesday to discuss the flooding on the lane."] * 4)
    page = f"""<html><head><title>Lane flooding discussed</title></head><body><article>
    <h1>Lane flooding discussed</h1>
    <p>By Jane Smith, Local Democracy Reporting Service</p>
    <p>{prose}</p>
    <p>By Monday, the road was open</p>
    <p>{prose.replace("Tuesday", "Wednesday")}</p>
    <p>Read more: Council tax to rise by five per cent</p>
    <p>Follow us on Facebook and Twitter</p>
    </article></body></html>"""
    body = extract_article(page, "https://example.org/news/lane-flooding")["body"]
    assert body.split("\n\n")[0].startswith("The parish council met on Tuesday")
    assert "By Monday, the road was open" in body
    for furniture in ("Jane Smith", "Read more", "Follow us", "Lane flooding discussed"):
        assert furniture not in body


def test_site_name_suffix_removed_from_title():
    page = ('<html><head><meta property="og:site_name" content="Worcester Echo">'
            '<meta property="og:title" content="Cathedral tower repairs finished | Worcester Echo"></head>'
            '<body><p>Scaffolding is coming down.</p></body></html>')
    assert extract_article(page)["title"] == "Cathedral tower repairs finished"


@pytest.mark.parametrize("url, reason", [
    ("https://www.marchescourier.example/author/jane-smith/", "tag/author page"),
    ("https://www.marchescourier.example/topic/flooding/page/2/", "tag/author page"),
    ("https://www.marchescourier.example/news/live/", "live blog index"),
    ("https://www.marchescourier.example/news/2024/01/17/tag-rugby-festival-in-hereford/", None),
])
def test_url_patterns_reject_index_pages_only(url, reason):
    raw, _, _ = load_case("url_date")  # a real article body without article markup
    result = extract_article(raw, url)
    assert result["reject_reason"] == reason
    assert result["is_article"] is (reason is None)


def test_description_set_as_subhead_is_dropped_but_a_lede_paragraph_kept():
    description = "Councillors agree a new plan for the town centre after months of debate over parking."
    prose = "".join(f"<p>Paragraph {i} explains what the plan means for shops, buses and residents in detail.</p>"
                    for i in range(5))
    head = f'<title>Town centre plan agreed</title><meta name="description" content="{description}">'
    subhead = extract_article(f"<html><head>{head}</head><body><article><h1>Town centre plan agreed</h1>"
                              f"<h2 class='sub-head'>{description}</h2>{prose}</article></body></html>")
    assert description not in subhead["body"] and subhead["body"].startswith("Paragraph 0")
    lede = extract_article(f"<html><head>{head}</head><body><article><h1>Town centre plan agreed</h1>"
                           f"<p>{description}</p>{prose}</article></body></html>")
    assert lede["body"].startswith(description)


@pytest.mark.parametrize("og_description, expected", [
    ("&lt;p&gt;The council&amp;#x27;s cabinet met.&lt;/p&gt;", "The council's cabinet met."),
    ("&amp;lt;p&amp;gt;Escaped twice&amp;lt;/p&amp;gt;", "Escaped twice"),
    ("Ticket holders saw &lt;The Palace: Tale of Jang Noksu&gt;", "Ticket holders saw <The Palace: Tale of Jang Noksu>"),
    ("Fish &amp; chips", "Fish & chips"),
])
def test_description_is_plain_text(og_description, expected):
    page = (f'<html><head><meta property="og:description" content="{og_description}"></head>'
            "<body><p>Paragraph of the story about the new bridge opening in town.</p></body></html>")
    assert extract_article(page, "https://www.marchescourier.example/news/bridge/")["description"] == expected
