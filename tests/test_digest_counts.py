"""Counts in the digest's prose (HTML, Markdown, text, e-mail, webhook) and in `sources check`'s words go through
the one rule, ``cuttings.wording.counted`` (or its ``noun`` where words stand between the count and its noun):
"1 story", "1 day", "1 entry", never "1 stories". JSON and CSV outputs keep their figures as they were."""
import re
from pathlib import Path
from types import SimpleNamespace

from cuttings import report, sources_check
from cuttings.sources_check import SourceCheck

ROOT = Path(__file__).resolve().parent.parent


def test_a_sitemap_read_in_part_with_one_entry_says_one_entry():
    one = SimpleNamespace(bytes_cut=True, entries_cut=False, entries_seen=1)
    assert sources_check.sitemap_cut_words(one, 1000) == "over max_page_bytes unzipped, read up to there; 1 entry read"
    many = SimpleNamespace(bytes_cut=False, entries_cut=True, entries_seen=5000)
    assert sources_check.sitemap_cut_words(many, 1000) == "5000 entries, the newest 1000 counted (max_sitemap_entries)"


def test_one_url_on_another_host_is_one_url():
    check = SourceCheck(source_id="x", robots_url="https://x.example/robots.txt", offsite={"y.example": 1})
    assert sources_check._no_article_urls(check, "x.example").startswith(
        "its feeds and sitemaps list 1 URL on other hosts (y.example) than its home's (x.example)")


def test_one_article_url_from_page_links_is_one_article_url():
    check = SourceCheck(source_id="x", robots_url="https://x.example/robots.txt", sitemaps={"https://x.example/s.xml": 0},
                        article_urls=1, by_layer={"feed": 0, "sitemap": 0, "links": 1})
    source = SimpleNamespace(feeds=[], sitemaps=["https://x.example/s.xml"], home="https://x.example/")
    assert sources_check._failures(check, source, {}, []) == [
        "every feed and sitemap failed or gave no article URL (they list no URL matching allow/deny); only links on "
        "its pages remain (1 article URL)"]


def test_charts_of_one_day_say_one_day():
    charts = {"days": ["2026-12-07"], "ends_on": "digest", "digest_day": "2026-12-07", "latest": None}
    assert report.charts_title(charts).startswith("1 day to ")
    assert report.charts_gap_text({**charts, "ends_on": "newest"}).startswith(
        "No stored story was published in the 1 day to the digest's day")


def test_counts_of_one_read_in_the_singular_across_the_digest_texts():
    assert report.spike_text({"stories": 1, "today": 1, "outlets": 1, "baseline_mean": 0.2, "per_outlet": 2}) == (
        "1 story from 1 outlet in the last 24 hours (usually 0.2 a day)")
    assert report.pipeline_text({"not_analysed": 1, "not_classified": 1, "failed": [
        {"stage": "analyse", "run_id": 5, "status": "failed"}]}) == (
        "1 story not yet analysed and 1 more story not yet classified: the analyse stage failed in run 5; "
        "see `cuttings doctor`")
    assert report.nothing_text({"health": [{"level": "warning"}]}).endswith("; 1 crawl warning under Crawl health.")
    assert report.older_text({"summary": {"older": 1}, "since": "2026-12-01T00:00:00Z"}).startswith(
        "This is the first digest: it lists the last 7 days. 1 older story, first seen before")
    assert report.group_more_text({"more": 1, "entity_id": "hwfrs", "short_name": "HWFRS"}, {}).startswith(
        "... and 1 more story about HWFRS: ")


# The plural rules the digest and `sources check` wrote by hand before (each correct or not): gone, so that
# a count is said one way. Other modules keep theirs for now (they were right; see the commit).
_BY_HAND = re.compile(r"""\{['"](s|es|ies)['"] if |story_noun""")


def test_the_digest_and_sources_check_say_counts_through_wording_counted():
    for path in ("cuttings/report.py", "cuttings/delivery.py", "cuttings/sources_check.py", "cuttings/nightly.py",
                 "cuttings/templates/digest.html.j2"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert not _BY_HAND.findall(text), path
    template = (ROOT / "cuttings/templates/digest.html.j2").read_text(encoding="utf-8")
    assert 'baseline_days | counted("day")' in template
