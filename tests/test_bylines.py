"""Byline and headline extraction in the Fundus style: small hand-made pages in
tests/pages/bylines/NAME.html with the expected fields in NAME.json."""
import json
from pathlib import Path

import pytest

from crawler.bylines import split_people, strip_site_name
from crawler.extract import extract_article

PAGES = Path(__file__).parent / "pages" / "bylines"
NAMES = sorted(p.stem for p in PAGES.glob("*.html"))


def test_fixture_pages_present():
    assert len(NAMES) >= 5 and all((PAGES / f"{n}.json").exists() for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_stored_page(name):
    case = json.loads((PAGES / f"{name}.json").read_text(encoding="utf8"))
    result = extract_article((PAGES / f"{name}.html").read_text(encoding="utf8"), case["url"])
    for field, value in case["expected"].items():
        assert result[field] == value, f"{name}: {field}"


@pytest.mark.parametrize("value, people", [
    ("By Jane Doe and John Smith", ["Jane Doe", "John Smith"]),
    ("Jane Doe, John Smith & Ann Lee", ["Jane Doe", "John Smith", "Ann Lee"]),
    ("Written by Jane Doe | jane@example.com", ["Jane Doe"]),
    ("Jane Doe for The Courier", ["Jane Doe"]),
    ("Jane Doe, Chief Reporter", ["Jane Doe"]),
    ("Associated Press in Valencia", ["Associated Press"]),
    ("Staff", []), ("Reporter", []), ("Staff Reporter", []), ("Courier Staff", []),
    ("@janedoe", []), ("https://www.facebook.com/janedoe", []), ("jane.doe@example.com", []),
    ("by the river bank", []),
    # a weekday after the name; placeholders; photo credits; sentences
    ("Jeff Foust Monday", ["Jeff Foust"]), ("Jane Doe on Wednesday, 4 May", ["Jane Doe"]),
    ("Wednesday", []), ("No Author", []), ("Published by", []), ("Posted by Admin", []),
    ("Photograph by Tom Hale, Borders Picture Agency", []), ("Jane Doe | Photos: Tom Hale", ["Jane Doe"]),
    ("The county and district councils", []),
    # a title, credentials or an organisation after a person
    ("Analysis by Jane Doe, Courier Editor-at-large", ["Jane Doe"]), ("Opinion by Jane Doe", ["Jane Doe"]),
    ("JANE DOE, AP Sports Writer", ["JANE DOE"]), ("Jane Doe, MS, RDN", ["Jane Doe"]),
    ("Jane Doe, NJ Advance Media", ["Jane Doe"]), ("Jane Doe and John Smith, USA TODAY", ["Jane Doe", "John Smith"]),
    ("Jane Doe Associated Press", ["Jane Doe"]), ("Jane Doe, Political Editor", ["Jane Doe"]),
    ("Ludwig van Beethoven", ["Ludwig van Beethoven"]), ("Ann McGrath and Joe DeArdo", ["Ann McGrath", "Joe DeArdo"]),
    # a name ending a sentence before an organisation; initials and short titles are not sentence ends
    ("Jane Doe. Borders Network", ["Jane Doe"]), ("J. R. Stone", ["J. R. Stone"]),
    ("Prof. Jane Doe", ["Prof. Jane Doe"]), ("Rev. Jesse Jackson", ["Rev. Jesse Jackson"]),
    # two names glued by a template
    ("Robert Brum and Isabel KeaneJournal New", ["Robert Brum", "Isabel Keane"]),
    # a job title in lower case after a name is no sentence (British local bylines)
    ("By Tom Jones, chief reporter", ["Tom Jones"]), ("By Jane Smith, local democracy reporter", ["Jane Smith"]),
    ("By Bill Tanner, political editor", ["Bill Tanner"]), ("Jane Smith, health correspondent", ["Jane Smith"]),
    ("By Mark Andrews, features writer", ["Mark Andrews"]), ("Jane Doe, the chief reporter", ["Jane Doe"]),
    ("The victim, a local writer", []),
    # a weekday that is a surname or part of one; "on" before it still makes it a date
    ("By Sally Sunday", ["Sally Sunday"]), ("By Simon Tuesday-Jones", ["Simon Tuesday-Jones"]),
    ("Louis Jacobson on Monday", ["Louis Jacobson"]),
    # an organisation's word as a surname after a given name in a list of people; organisations after a name
    ("By Ben Price and John Group", ["Ben Price", "John Group"]), ("Jane Doe and The Associated Press", ["Jane Doe"]),
    ("Jane Doe, Irish Times", ["Jane Doe"]), ("Jane Doe and Sunday Times", ["Jane Doe"]),
    ("By Jane Smith, Local Democracy Reporting Service", ["Jane Smith"]), ("By Jane Smith, LDRS", ["Jane Smith"]),
    ("Jane Doe, CNN", ["Jane Doe"]),
    # a newspaper listed with "and" after a person is no person, even when its first word is a given name
    # ("Jordan" is one): its last word is a newspaper's (crawler.bylines._OUTLET_WORDS). The choice: a given
    # name keeps such a word as a surname only when people bear it as one (Post, Press, Herald, Standard: at
    # least 1 in 100,000 in the US census), so "Tom Post" is a person and "John Times", "Emily Star" are not
    # (Times and Star are surnames of under 1 in 100,000: far likelier a newspaper's name in a byline)
    ("By Jane Smith and Jordan Times", ["Jane Smith"]), ("By Jane Smith & Jordan Times", ["Jane Smith"]),
    ("By Ben Price and John Times", ["Ben Price"]), ("Jane Smith and Emily Star", ["Jane Smith"]),
    ("Jane Smith and Malvern Gazette", ["Jane Smith"]), ("Jane Smith and Ludlow Advertiser", ["Jane Smith"]),
    ("Jane Smith and Shropshire Star", ["Jane Smith"]), ("Jane Doe, Washington Post", ["Jane Doe"]),
    ("Jane Doe Washington Post", ["Jane Doe"]),
    ("By Jane Smith and Tom Post", ["Jane Smith", "Tom Post"]), ("Jane Smith and Ann Press", ["Jane Smith", "Ann Press"]),
    ("By Tom Post", ["Tom Post"]), ("Emily Star and Jane Smith", ["Emily Star", "Jane Smith"]),
    # the UK's title endings (Guardian, Live, Sentinel, Messenger, Citizen, Leader, Record) after a person
    ("Jane Smith, Warrington Guardian", ["Jane Smith"]), ("Jane Smith and Warrington Guardian", ["Jane Smith"]),
    ("By Jane Smith, Bristol Live", ["Jane Smith"]), ("Jane Smith and Stoke Sentinel", ["Jane Smith"]),
    ("Jane Smith, Kent Messenger", ["Jane Smith"]), ("Jane Smith and Gloucester Citizen", ["Jane Smith"]),
    ("Jane Smith, Wrexham Leader", ["Jane Smith"]), ("Jane Smith and Daily Record", ["Jane Smith"]),
    # Kent is a given name, but a county before a newspaper's word; Messenger and Leader are surnames too
    ("Jane Smith and Kent Messenger", ["Jane Smith"]), ("Jane Smith and Chester Post", ["Jane Smith"]),
    ("Jane Smith and Tom Messenger", ["Jane Smith", "Tom Messenger"]),
    ("Jane Smith and Ann Leader", ["Jane Smith", "Ann Leader"]), ("By Tom Messenger", ["Tom Messenger"]),
])
def test_split_people(value, people):
    assert split_people(value, {"courier"}) == people


@pytest.mark.parametrize("title, expected", [
    ("Council votes on budget | Marches Courier", "Council votes on budget"),
    ("Marches Courier - Council votes on budget", "Council votes on budget"),
    ("Council votes on budget | News | Marches Courier", "Council votes on budget"),
    ("Council votes: budget passes", "Council votes: budget passes"),
    ("Marches Courier", "Marches Courier"),
])
def test_site_name_removed(title, expected):
    assert strip_site_name(title, {"marches", "courier", "marchescourier"}) == expected


def _page_with_links(paragraphs: list[str], links: int) -> str:
    items = "".join(f'<p class="teaser"><a href="/news/story-{i}/">Council story number {i} about the budget</a></p>'
                    for i in range(links))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html><head><title>Budget passes</title><meta property="og:type" content="website"></head>'
            f'<body><h1>Budget passes after long meeting</h1>{body}<div class="more">{items}</div></body></html>')


def test_link_density_alone_never_rejects_article_prose():
    prose = ["Herefordshire Council approved its budget on Thursday night after a four-hour meeting in which "
             f"opposition councillors twice tried to delay the vote, citing concerns about the consultation on youth services and libraries, number {i}."
             for i in range(4)]
    article = extract_article(_page_with_links(prose, 45), "https://x.example/news/budget-passes/")
    assert article["is_article"], article["reject_reason"]
    listing = extract_article(_page_with_links(["Latest news from the council."], 45), "https://x.example/news/")
    assert not listing["is_article"]


def _headline_page(head: str, body: str) -> str:
    paragraphs = "".join(f"<p>Paragraph {i} of the story about the new bridge opening in town.</p>" for i in range(6))
    return f"<html><head>{head}</head><body>{body}<article>{paragraphs}</article></body></html>"


def test_h1_in_teaser_styled_header_is_the_headline_when_it_agrees_with_the_title():
    page = _headline_page("<title>New bridge opens to traffic | Marches Courier</title>",
                          '<div class="single-head-teaser"><h1>New bridge opens to traffic</h1></div>')
    result = extract_article(page, "https://www.marchescourier.co.uk/news/bridge/")
    assert (result["title"], result["title_source"]) == ("New bridge opens to traffic", "h1")


def test_shown_h1_beats_a_stale_title_tag_but_not_a_section_label():
    body = ("<h1>Business Monday</h1><h1>New bridge opens to traffic after two years of work</h1>"
            '<aside class="related"><h1>Another story entirely about something else</h1></aside>')
    page = _headline_page("<title>Council approves bridge plan — Marches Courier</title>", body)
    result = extract_article(page, "https://www.marchescourier.co.uk/news/bridge/")
    assert result["title"] == "New bridge opens to traffic after two years of work"
    # with an editorial title in the metadata, an h1 that disagrees with it is not taken
    page = _headline_page('<meta property="og:title" content="Council approves bridge plan">'
                          "<title>Council approves bridge plan</title>", body)
    result = extract_article(page, "https://www.marchescourier.co.uk/news/bridge/")
    assert (result["title"], result["title_source"]) == ("Council approves bridge plan", "meta")
