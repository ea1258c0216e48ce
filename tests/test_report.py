"""The morning digest: contents from the sample database, escaping, recording, and a real Chromium render."""
from __future__ import annotations

import html.parser
import json
import shutil
import struct
import subprocess

import pytest
from markdown_it import MarkdownIt

from cuttings import report, store
from tests.report_fixtures import HOSTILE_TITLE, LAST_REPORT_UNTIL, MODEL_REPORTS, MODEL_VERSIONS, NOW, article_id, build_sample_db

CHROMIUM = shutil.which("chromium")
OUTLETS = ("worcester_news", "hereford_times", "shropshire_star")   # the sample's outlets


@pytest.fixture()
def db(tmp_path):
    database = build_sample_db(tmp_path / "sample.db")
    yield database
    database.close()


@pytest.fixture()
def digest(db):
    return report.build_digest(db, now=NOW)


def _group(digest, entity_id):
    return next(group for group in digest["groups"] if group["entity_id"] == entity_id)


def _story(group, db, key):
    wanted = article_id(db, key)
    return next(story for story in group["stories"] if story["article_id"] == wanted)


def test_window_starts_at_last_report_and_counts_new_originals(db, digest):
    assert digest["since"] == LAST_REPORT_UNTIL and digest["until"] == NOW
    expected = db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND first_seen_at > ? "
                          "AND first_seen_at <= ?", [LAST_REPORT_UNTIL, NOW]).fetchone()[0]
    assert digest["summary"]["stories"] == expected == 7
    listed = {story["article_id"] for group in digest["groups"] for story in group["stories"]}
    assert len(listed) == 7
    copies = {row[0] for row in db.execute("SELECT id FROM articles WHERE duplicate_of IS NOT NULL")}
    assert not listed & copies


def test_groups_follow_watchlist_with_other_news_last(db, digest):
    names = [group["entity_id"] for group in digest["groups"]]
    assert names == ["hwfrs", "hw_fire_authority", "sfrs", "shropshire_fire_authority", "wm_pcc",
                     "west_mercia_police", None]
    assert digest["groups"][-1]["name"] == report.OTHER_GROUP
    assert [s["headline"] for s in digest["groups"][-1]["stories"]] == ["Hereford library reopens after refurbishment"]
    assert digest["summary"]["by_entity"]["wm_pcc"] == 4
    # a story under each entity it mentions; later listings are marked as repeats
    defends = article_id(db, "defends")
    appearances = [(g["entity_id"], s["repeat"]) for g in digest["groups"] for s in g["stories"]
                   if s["article_id"] == defends]
    assert appearances == [("hwfrs", False), ("hw_fire_authority", True), ("wm_pcc", True)]


def test_story_details_labels_quotes_and_syndication(db, digest):
    defends_for_authority = _story(_group(digest, "hw_fire_authority"), db, "defends")
    assert defends_for_authority["key_quote"]["speaker"] == "Roger Phillips"
    defends_for_pcc = _story(_group(digest, "wm_pcc"), db, "defends")
    assert defends_for_pcc["key_quote"]["speaker"] == "Mr Campion"
    assert defends_for_pcc["also_ran_in"] == ["Worcester News"]
    assert defends_for_pcc["group_tone"]["label"] == "positive"
    warn = _story(_group(digest, "wm_pcc"), db, "warn")
    # the human label (against) replaced the uncertain prediction (neutral)
    assert warn["stance"] == {"label": "against", "uncertain": False, "human": True, "confidence": "checked"}
    assert warn["group_tone"] == {"label": "negative", "uncertain": True, "human": False, "confidence": "unsure"}
    assert [t["label"] for t in warn["topics"]] == ["governance", "workforce"]
    assert warn["also_ran_in"] == ["Hereford Times"]
    assert digest["summary"]["stance"] == {"favour": 1, "neutral": 1, "against": 1}


def test_edits_and_headline_changes_in_window(db, digest):
    edits = {edit["article_id"]: edit for edit in digest["edits"]}
    assert set(edits) == {article_id(db, "hq"), article_id(db, "defends")}
    hq = edits[article_id(db, "hq")]
    assert hq["headline_changed"] and hq["previous_headline"] == "Shared HQ plan for fire and police"
    assert not edits[article_id(db, "defends")]["headline_changed"]
    assert digest["summary"]["headline_changes"] == 1
    later = report.build_digest(db, since="2026-11-23T16:00:00Z", now=NOW)
    assert [edit["article_id"] for edit in later["edits"]] == [article_id(db, "defends")]


def test_spike_rule(db, digest):
    spiking = {spike["entity_id"] for spike in digest["spikes"]}
    assert spiking == {"wm_pcc", "hwfrs"}  # 4 and 3 stories against a near-empty baseline
    assert _group(digest, "sfrs")["spike"]["spike"] is False  # 2 stories: below the minimum of 3
    # a busy, variable baseline (2 or 5 wm_pcc stories a day, from three outlets: at most 2 from one, so all
    # count; Worcester News's one a day beside its own story of 20 November) lifts mean + 2 sd above today's 4
    busy_outlets = ("hereford_times", "shropshire_star", "worcester_news")
    per_day = {day: 2 if day % 2 else 5 for day in range(9, 23)}
    with db.atomic():
        for day, count in per_day.items():
            for n in range(count):
                cur = db.execute(
                    "INSERT INTO articles (url, canonical_url, source_id, title, published_at, first_seen_at, "
                    "last_seen_at, body, content_hash) VALUES (?, ?, ?, 'Busy', ?, ?, ?, '', ?)",
                    [f"https://x/{day}/{n}", f"https://x/{day}/{n}", busy_outlets[n % 3],
                     f"2026-11-{day:02d}T12:0{n}:00Z", f"2026-11-{day:02d}T13:00:00Z", NOW, f"h{day}{n}"])
                db.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, "
                           "analyser_version) VALUES (?, 'wm_pcc', 'PCC', 0, 3, 't')", [cur.lastrowid])
                _read_by(db, cur.lastrowid, "analyse")   # its mentions are its current text's
        cur = db.execute("INSERT INTO articles (url, canonical_url, title, published_at, first_seen_at, last_seen_at, "
                         "content_hash) VALUES ('https://x/bad', 'https://x/bad', 'Bad date', '2026-11-2x', ?, ?, 'b')",
                         [NOW, NOW])
        db.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, analyser_version) "
                   "VALUES (?, 'wm_pcc', 'PCC', 0, 3, 't')", [cur.lastrowid])
        _read_by(db, cur.lastrowid, "analyse")
    busy = report.build_digest(db, now=NOW)  # the malformed date is left out, not fatal
    info = _group(busy, "wm_pcc")["spike"]
    assert info["baseline_mean"] == pytest.approx((sum(per_day.values()) + 1) / 14, abs=0.01)
    assert info["today"] == 4 and info["threshold"] > 4
    assert info["spike"] is False


def test_charts_and_health(db, digest):
    charts = digest["charts"]
    assert len(charts["days"]) == 30 and charts["days"][-1] == "2026-11-24"
    expected = db.execute("SELECT sum(articles) FROM entity_daily WHERE entity_id = 'wm_pcc' AND day >= ?",
                          [charts["days"][0]]).fetchone()[0]
    assert sum(charts["coverage"]["wm_pcc"]) == expected
    assert charts["stance_totals"]["against"] == 2  # the oppose story and the human-labelled warn story
    assert digest["last_run"]["status"] == "partial"
    star = [w for w in digest["health"] if w["source_id"] == "shropshire_star"]
    assert star and "no articles" in star[0]["message"] and "1 http" in star[0]["message"]
    assert not [w for w in digest["health"] if w["source_id"] == "hereford_times"]


def test_a_crawl_that_found_only_stored_stories_is_healthy_until_a_source_stops_yielding(db):
    """An incremental crawl that stores nothing new is no warning; a source whose last
    STOPPED_AFTER_RUNS crawls stored nothing new, after one that did, is, and so is one no crawl
    ever stored a story from (as `cuttings doctor` says)."""
    health = {w["source_id"]: w["message"] for w in report._health(db)[1]}
    assert "no articles" in health["shropshire_star"]  # stored nothing, with errors: flagged
    # the fixture's crawl stored new Hereford Times stories; the next crawls find only stored ones
    for day in range(25, 25 + store.STOPPED_AFTER_RUNS):
        with store.clock(f"2026-11-{day}T02:00:00Z"):
            run = store.start_run(db, "crawl")
            store.finish_run(db, run, "ok", pages_fetched=12, articles_new=0, errors=0)
        store.save_source_runs(db, [{"crawl_run_id": run, "source_id": source_id, "found_by_links": 40,
                                     "pages_fetched": 4, "articles_stored": new, "articles_new": new}
                                    for source_id, new in (("hereford_times", 0), ("shropshire_star", 0),
                                                           ("worcester_news", int(day == 26)))])
        health = {w["source_id"]: w["message"] for w in report._health(db)[1]}
        assert "worcester_news" not in health
        assert health["shropshire_star"] == "no story stored yet"  # no run of it ever stored one
        if day < 24 + store.STOPPED_AFTER_RUNS:
            assert "hereford_times" not in health  # nothing new, nothing wrong: healthy
    assert health["hereford_times"] == f"no new stories in the last {store.STOPPED_AFTER_RUNS} crawls"


class _TagCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += attrs


def test_html_escapes_crawled_text_and_is_self_contained(db, digest):
    # a key quote's words and its credit (a crawled speaker, another body's name) are crawled text too (the
    # hostile story's own quote, linked to no body, is not shown under HWFRS: _key_quote)
    story = next(story for story in _group(digest, "hwfrs")["stories"] if not story["repeat"])
    story["key_quote"] = {"text": "<b>We are shocked</b> & saddened.", "speaker": "<i>Colleagues</i>",
                          "speaker_role": "<u>staff</u>", "entity_id": "wm_pcc", "body": "P&C <s>"}
    page = report.render_html(digest)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fire chief &#34;quits&#34;" in page
    assert "&lt;b&gt;We are shocked&lt;/b&gt; &amp; saddened." in page
    assert "— &lt;i&gt;Colleagues&lt;/i&gt;, &lt;u&gt;staff&lt;/u&gt;, P&amp;C &lt;s&gt;</cite>" in page
    parsed = _TagCollector()
    parsed.feed(page)
    assert not parsed.tags & {"script", "img", "b", "i", "u", "s", "iframe", "link"}
    assert {"svg", "rect", "style", "article"} <= parsed.tags
    assert not [value for name, value in parsed.attributes if name in ("src", "onerror", "onload")]
    assert "7 new stories, 2 edited" in page


def test_html_drops_non_http_links_and_tolerates_bad_dates(digest):
    story = digest["groups"][0]["stories"][0]
    story["url"], story["published"] = "javascript:alert(document.cookie)", "Nov 2026"
    page = report.render_html(digest)
    assert "javascript:" not in page and "Nov 2026" in page


def test_markdown_escapes_crawled_text(digest):
    text = report.render_markdown(digest)
    assert r"\<script\>alert(1)\</script\> Fire chief" in text
    rendered = MarkdownIt("commonmark").render(text)  # html=True: raw HTML would pass straight through
    assert "<script>" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "Stance on fire governance: favour 1, neutral 1, against 1" in text
    plain = report.render_markdown(digest, plain=True)
    assert HOSTILE_TITLE in plain and "https://www.herefordtimes.com/news/2026/hostile/" in plain
    # a story listed again under another body: its tone for that body, set off by a space
    for rendered in (text, plain):
        assert " Fire chiefs warn over commissioner's plans (tone: negative (unsure)): listed above under SFRS\n" in rendered
        assert "plans(tone" not in rendered


def test_write_report_records_and_next_digest_starts_there(db, tmp_path):
    paths = report.write_report(db, tmp_path / "out", formats=("html", "md", "text"), now=NOW)
    assert [p.suffix for p in paths] == [".html", ".md", ".txt"] and all(p.stat().st_size > 500 for p in paths)
    rows = list(db.query("SELECT since, until, format, stories FROM reports WHERE id > 1 ORDER BY id"))
    assert [r["format"] for r in rows] == ["html", "md", "text"]
    assert {(r["since"], r["until"], r["stories"]) for r in rows} == {(LAST_REPORT_UNTIL, NOW, 7)}
    following = report.build_digest(db, now="2026-11-25T07:00:00Z")
    assert following["since"] == NOW and following["summary"]["stories"] == 0
    assert "No new stories" in report.render_html(following)
    with pytest.raises(ValueError, match="pdf"):
        report.write_report(db, tmp_path / "out", formats=("pdf",))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_chromium_renders_digest(digest, tmp_path):
    page = tmp_path / "digest.html"
    page.write_text(report.render_html(digest), encoding="utf-8")
    png = tmp_path / "digest.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={png}", "--window-size=1200,2000", page.as_uri()],
                   check=True, capture_output=True, timeout=60)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1200, 2000)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kB


# --------------------------------------------------------------------------
# Needs attention first, charts, legend, confidence in words, not rated
# --------------------------------------------------------------------------

def test_attention_block_lists_negative_tone_stance_spikes_and_quotes(db, digest):
    items = digest["attention"]
    kinds = [item["kind"] for item in items]
    # most pressing kind first, each kind together
    order = ["negative_tone", "stance", "spike", "quote", "crawl", "source_failed"]
    assert [kind for kind in kinds if kind != "more"] == sorted((kind for kind in kinds if kind != "more"),
                                                                key=order.index)
    negative = {(item["entity_id"], item["article_id"], item["confidence"]) for item in items
                if item["kind"] == "negative_tone"}
    assert negative == {("hwfrs", article_id(db, "hostile"), "confident"), ("wm_pcc", article_id(db, "warn"), "unsure")}
    stance = {(item["article_id"], item["label"], item["confidence"]) for item in items if item["kind"] == "stance"}
    assert stance == {(article_id(db, "warn"), "against", "checked"), (article_id(db, "defends"), "favour", "confident")}
    assert {item["body"] for item in items if item["kind"] == "spike"} == {"HWFRS", "PCC"}
    # each body's principal people (most quoted named speakers), their latest new quote once
    quoted = [(item["body"], item["speaker"], item["article_id"]) for item in items if item["kind"] == "quote"]
    assert sorted(quoted) == sorted([("PCC", "Mr Campion", article_id(db, "warn")),
                                     ("H&W Fire Authority", "Roger Phillips", article_id(db, "defends"))])


def _read_by(db, story: int, *stages: str) -> None:
    """Stamp a story written here by hand (its mentions, predictions inserted as rows) as the stages
    that wrote them do (``processing``, for its current text): the digest shows only what a stage read
    of a story's current text."""
    content_hash = db.execute("SELECT content_hash FROM articles WHERE id = ?", [story]).fetchone()[0]
    for stage in stages or ("analyse", "classify"):
        store.mark_processed(db, story, stage, "t", content_hash)


def _new_story(db, key: str, title: str, minute: int, source: str | None = None) -> int:
    """A story first seen in the digest's window (an empty body); its id. ``source``: its outlet (default:
    the sample's outlets in turn, by ``minute``)."""
    return db.execute(
        "INSERT INTO articles (url, canonical_url, source_id, title, published_at, first_seen_at, "
        "last_seen_at, body, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)",
        [f"https://x/{key}", f"https://x/{key}", source or OUTLETS[minute % len(OUTLETS)], title,
         "2026-11-23T12:00:00Z", f"2026-11-23T13:{minute:02d}:00Z", NOW, key]).lastrowid


def test_attention_block_stays_short(db):
    """Many negative stories about one body: a few are listed (confident first), the rest in one line."""
    with db.atomic():
        for n in range(6):
            story = _new_story(db, f"n{n}", f"Bad news {n}", n)
            db.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, analyser_version) "
                       "VALUES (?, 'sfrs', 'SFRS', 0, 4, 't')", [story])
            db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                       "model_version, created_at) VALUES (?, 'tone', 'sfrs', 'negative', ?, ?, 'tone-2026.11.1', ?)",
                       [story, 0.5 if n < 3 else 0.9, int(n < 3), NOW])
            _read_by(db, story)
    items = report.build_digest(db, now=NOW)["attention"]
    sfrs = [item for item in items if item.get("entity_id") == "sfrs" and item["kind"] == "negative_tone"]
    assert len(sfrs) == report.ATTENTION_PER_GROUP and all(item["confidence"] == "confident" for item in sfrs)
    more = [item for item in items if item["kind"] == "more" and item.get("entity_id") == "sfrs"
            and "negative" in item["what"]]
    left = 6 - report.ATTENTION_PER_GROUP
    assert [item["more"] for item in more] == [left]
    assert f"... and {left} more negative stories about SFRS below" in report.render_markdown(
        report.build_digest(db, now=NOW), plain=True)
    # one story per outlet listed (the two newest confident ones, from two outlets); the line says where the
    # rest came from
    assert len({item["outlet"] for item in sfrs}) == len(sfrs)
    assert more[0]["by_outlet"] == [("Worcester News", 2), ("Hereford Times", 1), ("Shropshire Star", 1)]
    assert ("(2 from Worcester News, 1 from Hereford Times, 1 from Shropshire Star)"
            in report.attention_text(more[0]))


def test_attention_more_lines_read_as_english(db):
    """One story left out is "1 more story"; stance lines say "in favour of"."""
    stance_stories = [item for item in report.build_digest(db, now=NOW)["attention"] if item["kind"] == "stance"]
    existing = sum(1 for item in stance_stories if item["label"] == "favour")
    with db.atomic():
        for n in range(report.ATTENTION_PER_GROUP + 1 - existing):
            story = _new_story(db, f"f{n}", f"Case made {n}", n)
            db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                       "model_version, created_at) VALUES (?, 'stance_governance', '', 'favour', 0.9, 0, "
                       "'stance-2026.11.1', ?)", [story, NOW])
            _read_by(db, story)
    text = report.render_markdown(report.build_digest(db, now=NOW), plain=True)
    assert "... and 1 more story in favour of the governance change below" in text
    assert "favour the governance change" not in text.replace("in favour of the governance change", "")


def _positions(text: str, markers: list[str]) -> list[int]:
    return [text.index(marker) for marker in markers]


def test_every_format_puts_attention_first_then_summary_charts_legend_and_bodies(digest):
    html = report.render_html(digest)
    markdown = report.render_markdown(digest)
    plain = report.render_markdown(digest, plain=True)
    first_group = digest["groups"][0]["name"]
    for text, group_marker in ((html, "Hereford &amp; Worcester Fire and Rescue Service<span class=\"spike-tag\">"),
                               (markdown, "## " + report.escape_markdown(first_group)),
                               (plain, first_group + " (SPIKE)")):
        positions = _positions(text, ["Needs attention", "7 new stories", "30 days to", "Legend" if text is html
                                      else "Badges: topics", group_marker, "Crawl health"])
        assert positions == sorted(positions), positions
    # the attention block is the first section of the page body
    body = html.split("<body>", 1)[1]
    assert body.index('class="attention"') < body.index('class="summary"') < body.index('class="charts"')


def test_attention_block_escapes_crawled_text(digest):
    html = report.render_html(digest)
    attention = html.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fire chief &#34;quits&#34;" in attention
    assert "<script>" not in html
    markdown = report.render_markdown(digest)
    block = markdown.split("## Needs attention", 1)[1].split("## ", 1)[0]
    assert r"\<script\>alert(1)\</script\> Fire chief" in block
    assert "<script>" not in MarkdownIt("commonmark").render(markdown)


def test_confidence_in_words_and_not_rated(db, digest):
    html = report.render_html(digest)
    text = report.render_markdown(digest, plain=True)
    assert "tone: negative (unsure)" in html and "tone: negative (unsure)" in text
    assert "stance: against (checked)" in html and "stance: against (checked)" in text
    assert "?" not in report.label_text("tone", {"label": "negative", "confidence": "unsure"})
    charts = digest["charts"]
    assert charts["tone"]["hw_fire_authority"] is None and charts["tone"]["west_mercia_police"] is None
    assert charts["tone"]["wm_pcc"] == {
        label: db.execute(f"SELECT coalesce(sum(tone_{label}), 0) FROM entity_daily WHERE entity_id = 'wm_pcc' "
                          "AND day >= ?", [charts["days"][0]]).fetchone()[0] for label in report.TONES}
    assert "H&W Fire Authority: 1 story, share of voice 4%, tone not rated" in text
    assert html.count("not rated") >= 3
    # entity_daily says NULL (not rated), never 0, for a body no tone model covers
    rows = db.execute("SELECT tone_negative, tone_rated FROM entity_daily WHERE entity_id = 'hw_fire_authority'").fetchall()
    assert rows and all(row == (None, 0) for row in rows)
    assert abs(sum(charts["share"].values()) - 100) < 0.5


def test_confidence_derived_from_probability_when_no_flag():
    thresholds = {"tone": 0.6}
    assert report.confidence({"task": "tone", "probability": 0.55, "uncertain": None, "human": 0}, thresholds) == "unsure"
    assert report.confidence({"task": "tone", "probability": 0.8, "uncertain": None, "human": 0}, thresholds) == "confident"
    assert report.confidence({"task": "tone", "probability": 0.9, "uncertain": 1, "human": 0}, thresholds) == "unsure"
    assert report.confidence({"task": "tone", "probability": None, "uncertain": 0, "human": 1}, thresholds) == "checked"


def test_display_names_come_from_the_watchlist_not_the_code(db):
    assert not hasattr(report, "SHORT_NAMES")
    db.execute("UPDATE entities SET display_name = 'Commissioner' WHERE id = 'wm_pcc'")
    digest = report.build_digest(db, now=NOW)
    assert digest["summary"]["by_name"]["Commissioner"] == 4
    assert "Commissioner" in {item.get("body") for item in digest["attention"]}


def test_stories_ranked_by_attention_within_a_body(db, digest):
    pcc = [story["article_id"] for story in _group(digest, "wm_pcc")["stories"]]
    assert pcc.index(article_id(db, "warn")) == 0  # negative about the PCC, a stance, the PCC quoted


def test_trust_note_says_how_often_each_shown_label_was_right_on_news_its_model_never_saw(digest):
    trust = {entry["task"]: entry for entry in digest["trust"]}
    assert [entry["task"] for entry in digest["trust"]] == ["topics", "stance_governance", "tone"]
    for task, entry in trust.items():
        assert entry["model_version"] == MODEL_VERSIONS[task]
        # the held-out report where the card has one, else cross-validation
        basis = "held_out" if MODEL_REPORTS[task]["leave_one_slice_out"] else "cross_validation"
        assert entry["basis"] == basis
        report_labels = MODEL_REPORTS[task][{"held_out": "leave_one_slice_out"}.get(basis, basis)]["per_label"]
        shown = {label: scores["precision"] for label, scores in report_labels.items()
                 if scores["support"] and not (task == "stance_governance" and label == "none")}
        assert {label["label"]: label["precision"] for label in entry["labels"]} == shown
    assert "none" not in {label["label"] for label in trust["stance_governance"]["labels"]}
    # in the label scheme's order, not the card's
    assert [label["label"] for label in trust["stance_governance"]["labels"]] == ["favour", "against", "neutral"]
    assert [label["label"] for label in trust["tone"]["labels"]] == ["positive", "negative", "neutral"]
    assert "mixed" not in {label["label"] for label in trust["tone"]["labels"]}  # no support: not a figure
    line = report.trust_text(trust["stance_governance"])
    assert line.startswith("Stance, tested on labelled news its model was not trained on: ")
    assert line.endswith("of every 100 labels of each kind, this many were right: “favour” 72; “against” 80; "
                         "“neutral” 50.")
    assert "expect less on new coverage" in report.trust_text(trust["tone"])
    html = report.render_html(digest)
    markdown = report.render_markdown(digest)
    plain = report.render_markdown(digest, plain=True)
    first_group = digest["groups"][0]["name"]
    for text, legend, group_marker in ((html, "Legend", 'class="spike-tag"'),
                                       (markdown, "Badges: topics", "## " + report.escape_markdown(first_group)),
                                       (plain, "Badges: topics", first_group + " (SPIKE)")):
        positions = _positions(text, [legend, "How far to trust the labels", "“neutral” 50", group_marker])
        assert positions == sorted(positions), positions
    assert "“neutral” 50" in html.split('id="trust"', 1)[1].split("</div>", 1)[0]


def test_trust_note_follows_the_model_that_labelled_the_stories_and_omits_tasks_without_a_card(db):
    newer = "tone-2026.11.2"
    db.execute("INSERT INTO models (version, task, path, card_json, created_at) VALUES (?, 'tone', 'm', ?, ?)",
               [newer, '{"leave_one_slice_out": {"per_label": {"negative": {"precision": 0.695, "support": 86}}}}',
                "2026-11-20T00:00:00Z"])
    # one story of the window labelled by the newer model, the rest by the older
    story = report.build_digest(db, now=NOW)["groups"][0]["stories"][0]["article_id"]
    assert db.execute("UPDATE classifications SET model_version = ? WHERE task = 'tone' AND article_id = ?",
                      [newer, story]).rowcount >= 1
    db.execute("DELETE FROM models WHERE task = 'topics'")
    trust = {entry["task"]: entry for entry in report.build_digest(db, now=NOW)["trust"]}
    assert set(trust) == {"stance_governance", "tone"}  # topics' model has no recorded card
    assert trust["tone"]["model_version"] == newer and trust["tone"]["basis"] == "held_out"
    assert trust["tone"]["labels"] == [{"label": "negative", "precision": 0.695, "recall": None, "support": 86}]
    # a label the card has no precision for is left out; one never right says so, not "0 in 100"
    db.execute("UPDATE models SET card_json = ? WHERE version = ?", [json.dumps({"leave_one_slice_out": {"per_label": {
        "positive": {"support": 9}, "negative": {"precision": 0.0, "recall": 0.0, "support": 4},
        "neutral": {"precision": 0.004, "recall": 0.9, "support": 30}}}}), newer])
    trust = {entry["task"]: entry for entry in report.build_digest(db, now=NOW)["trust"]}
    assert [label["label"] for label in trust["tone"]["labels"]] == ["negative", "neutral"]
    assert report.trust_text(trust["tone"]).endswith("this many were right: “negative” never right; “neutral” under 1.")
    # nothing new in the window: no stories, no note
    empty = report.build_digest(db, since=NOW, until=NOW, now=NOW)
    assert empty["trust"] == [] and "How far to trust" not in report.render_markdown(empty)
    assert "How far to trust" not in report.render_html(empty)


def test_unsure_thresholds_come_from_the_users_label_scheme_not_the_packaged_one(tmp_path, monkeypatch):
    from cuttings import paths
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    assert "uncertain_below = 0.6" in packaged
    (tmp_path / "label_scheme.toml").write_text(packaged.replace("uncertain_below = 0.6", "uncertain_below = 0.8"),
                                                encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    thresholds = report._thresholds()
    assert thresholds["stance_governance"] == 0.8
    row = {"task": "stance_governance", "probability": 0.7, "uncertain": None, "human": 0}
    assert report.confidence(row, thresholds) == "unsure"


# --------------------------------------------------------------------------
# One outlet cannot make a spike or fill "needs attention" (red team, session 13)
# --------------------------------------------------------------------------

QUIET_NOW = "2026-12-01T07:00:00Z"   # a week after the sample's coverage: nothing in the last 24 hours


def _flood(db, entity_id: str, source: str, count: int, first_minute: int = 0) -> list[int]:
    """``count`` stories from ``source`` in the 24 hours before QUIET_NOW, each about ``entity_id`` with a
    confident negative tone towards it."""
    ids = []
    with db.atomic():
        for n in range(count):
            minute = first_minute + n
            story = db.execute(
                "INSERT INTO articles (url, canonical_url, source_id, title, published_at, first_seen_at, "
                "last_seen_at, body, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)",
                [f"https://{source}.example/{minute}", f"https://{source}.example/{minute}", source,
                 f"Commissioner under fire (update {minute})", f"2026-11-30T08:{minute:02d}:00Z",
                 f"2026-11-30T09:{minute:02d}:00Z", QUIET_NOW, f"{source}{minute}"]).lastrowid
            db.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, analyser_version) "
                       "VALUES (?, ?, 'x', 0, 1, 't')", [story, entity_id])
            db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                       "model_version, created_at) VALUES (?, 'tone', ?, 'negative', 0.9, 0, 'tone-2026.11.1', ?)",
                       [story, entity_id, QUIET_NOW])
            _read_by(db, story)
            ids.append(story)
    return ids


def test_one_outlet_alone_makes_no_spike_and_takes_one_attention_slot(db):
    from types import SimpleNamespace

    from cuttings import delivery
    store.sync_sources(db, [SimpleNamespace(id="hostile", name="Hostile Three", home="https://hostile.example/",
                                            region=None, verified=True, as_dict=lambda: {"id": "hostile"})])
    _flood(db, "sfrs", "hostile", 6)
    digest = report.build_digest(db, since="2026-11-30T00:00:00Z", now=QUIET_NOW)
    spike = _group(digest, "sfrs")["spike"]
    assert (spike["stories"], spike["outlets"], spike["today"], spike["spike"]) == (6, 1, 2, False)
    assert not [item for item in digest["attention"] if item["kind"] == "spike"]
    negative = [item for item in digest["attention"] if item["kind"] == "negative_tone"]
    assert [item["outlet"] for item in negative] == ["Hostile Three"]   # one slot, not every slot
    more = [item for item in digest["attention"] if item["kind"] == "more"]
    assert [(item["more"], item["by_outlet"]) for item in more] == [(5, [("Hostile Three", 5)])]
    text = report.render_markdown(digest, plain=True)
    assert "... and 5 more negative stories about SFRS below (all from Hostile Three)" in text
    assert "… and 5 more negative stories about SFRS below (all from Hostile Three)" in report.render_html(digest)
    payload = delivery.webhook_payload(digest)["text"]
    assert payload.count("(Hostile Three)") == 1 + 2   # its attention item, then at most 2 "Also new" headlines

    # A second outlet's story the same day: a spike of stories from two outlets, the flood counting 2
    _flood(db, "sfrs", "worcester_news", 1, first_minute=30)
    digest = report.build_digest(db, since="2026-11-30T00:00:00Z", now=QUIET_NOW)
    spike = _group(digest, "sfrs")["spike"]
    assert (spike["stories"], spike["outlets"], spike["today"], spike["spike"]) == (7, 2, 3, True)
    (item,) = [item for item in digest["attention"] if item["kind"] == "spike"]
    assert report.attention_text(item).startswith(
        "Coverage spike: SFRS: 7 stories from 2 outlets in the last 24 hours (usually ")
    assert report.attention_text(item).endswith("; 3 counted, at most 2 per outlet)")
    negative = [item for item in digest["attention"] if item["kind"] == "negative_tone"]
    assert sorted(item["outlet"] for item in negative) == ["Hostile Three", "Worcester News"]


# ----------------------------------------------------------------------------------------------
# failed sources need attention
# ----------------------------------------------------------------------------------------------

DEAD_SOURCES = ('[[source]]\nid = "dead"\nname = "Dead Local"\nhome = "http://127.0.0.1:9/"\nlocal = true\n\n'
                '[[source]]\nid = "ghost"\nname = "Ghost Gazette"\nhome = "http://nxdomain.invalid/"\n')


def test_sources_that_failed_last_night_lead_the_digest_and_the_chat_summary(tmp_path):
    """A real crawl of two dead sources (connection refused, no such host): each is a "needs attention"
    line with its cause in words, in every format and in the chat summary; the digest never says
    nothing needs attention."""
    from cuttings import delivery
    from tests.conftest import run_cli
    sources = tmp_path / "sources.toml"
    sources.write_text(DEAD_SOURCES)
    path = tmp_path / "dead.db"
    crawl = run_cli("--db", str(path), "crawl", "--sources", str(sources), "--no-politeness")
    db = store.connect(path)
    try:
        assert db.execute("SELECT count(*) FROM source_runs WHERE errors > 0").fetchone()[0] == 2, crawl.stderr
        digest = report.build_digest(db)
    finally:
        db.close()
    failed = {item["source_id"]: item for item in digest["attention"] if item["kind"] == "source_failed"}
    assert set(failed) == {"dead", "ghost"}
    lines = {source_id: report.attention_text(item) for source_id, item in failed.items()}
    assert lines["dead"].startswith("Source Dead Local failed: connection refused by 127.0.0.1:9")
    assert lines["ghost"].startswith("Source Ghost Gazette failed: DNS lookup failed for nxdomain.invalid")
    plain = report.render_markdown(digest, plain=True)
    block = plain.split("Needs attention", 1)[1].split("Crawl health", 1)[0]
    assert lines["dead"] in block and lines["ghost"] in block
    assert "Nothing needs attention" not in plain
    html = report.render_html(digest)
    attention = html.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert "Source Dead Local failed:" in attention and "Source Ghost Gazette failed:" in attention
    assert "Nothing needs attention" not in html
    assert "Nothing needs attention" not in report.render_markdown(digest)
    chat = delivery.webhook_payload(digest)["text"]
    assert "Needs attention:" in chat and "Source Dead Local failed: connection refused" in chat
    assert "Source Ghost Gazette failed: DNS lookup failed" in chat


def test_failed_sample_source_needs_attention_but_a_routine_warning_does_not(db):
    """The sample's Shropshire Star stored nothing and recorded errors: it needs attention. A source
    that crawled with a warning (slow) stays under Crawl health only."""
    runs = [row[0] for row in db.execute("SELECT id FROM crawl_runs ORDER BY id")]
    db.execute("UPDATE source_runs SET warning = 'slow: 9.5 s a page' WHERE source_id = 'hereford_times' "
               "AND crawl_run_id = ?", [runs[-1]])
    digest = report.build_digest(db, now=NOW)
    crawl_items = [item for item in digest["attention"] if item["kind"] in ("source_failed", "sources_failed")]
    assert [(item["kind"], item["outlet"]) for item in crawl_items] == [("source_failed", "Shropshire Star")]
    assert report.attention_text(crawl_items[0]).startswith("Source Shropshire Star failed: ")
    slow = [w for w in digest["health"] if w["source_id"] == "hereford_times"]
    assert slow and "slow" in slow[0]["message"] and not slow[0].get("failed")
    assert "slow" not in " ".join(report.attention_text(item) for item in digest["attention"])


def test_many_failed_sources_are_one_attention_line():
    health = [{"source_id": f"s{n}", "outlet": f"Outlet {n}", "level": "warning", "message": "no articles",
               "failed": True, "cause": "DNS lookup failed for s.example"} for n in range(report.FAILED_SOURCES_LISTED + 2)]
    items = report._attention([], [], {}, health, {}, {"attention": {}, "heading": "x"})
    assert [item["kind"] for item in items] == ["sources_failed"]
    text = report.attention_text(items[0])
    assert text.startswith(f"{report.FAILED_SOURCES_LISTED + 2} sources failed: Outlet 0, Outlet 1, ")
    assert "Outlet 4" in text


def test_nothing_needs_attention_does_not_claim_a_clean_crawl_when_there_were_warnings(db):
    quiet = report.build_digest(db, since="2026-11-30T00:00:00Z", now=QUIET_NOW)
    quiet["attention"] = [item for item in quiet["attention"] if item["kind"] not in ("source_failed", "crawl")]
    assert not quiet["attention"] and quiet["health"]
    plain = report.render_markdown(quiet, plain=True)
    sentence = next(line for line in plain.splitlines() if line.startswith("Nothing needs attention"))
    assert f"{len(quiet['health'])} crawl warning" in sentence and "without errors" not in sentence
    assert report.nothing_text(quiet) in report.render_html(quiet)
    quiet["health"] = []
    assert report.nothing_text(quiet).endswith("and every source was crawled without errors.")


# ----------------------------------------------------------------------------------------------
# the spike rule and stories that carry only a date
# ----------------------------------------------------------------------------------------------

EARLY_UNTIL = "2026-12-01T02:30:00Z"   # a 02:30 nightly digest, a week after the sample's coverage


def _story_about(db, entity_id: str, source: str, key: str, published: str, seen: str) -> int:
    story = db.execute(
        "INSERT INTO articles (url, canonical_url, source_id, title, published_at, first_seen_at, last_seen_at, "
        "body, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)",
        [f"https://x/{key}", f"https://x/{key}", source, f"Story {key}", published, seen, seen, key]).lastrowid
    db.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, analyser_version) "
               "VALUES (?, ?, 'x', 0, 1, 't')", [story, entity_id])
    _read_by(db, story, "analyse")
    return story


def test_spike_moment_of_date_only_and_timed_stories():
    moment = report.spike_moment
    # timed: its own time, whenever first seen
    assert moment("2026-11-30T20:15:00Z", "2026-12-01T02:05:00Z") == report._parse("2026-11-30T20:15:00Z")
    # date only, crawled the next night: the last second of its date (inside a 02:30 digest's 24 hours)
    assert moment("2026-11-30", "2026-12-01T02:05:00Z") == report._parse("2026-11-30T23:59:59Z")
    # date only, crawled on its date: when first seen
    assert moment("2026-12-01", "2026-12-01T02:05:00Z") == report._parse("2026-12-01T02:05:00Z")
    # a date after the crawl (a wrong date on the page): the start of its date, never before it
    assert moment("2026-12-03", "2026-12-01T02:05:00Z") == report._parse("2026-12-03T00:00:00Z")
    assert moment(None, "2026-12-01T02:05:00Z") == report._parse("2026-12-01T02:05:00Z")
    with pytest.raises(ValueError):
        moment("2026-11-3x", "2026-12-01T02:05:00Z")


def test_date_only_stories_count_towards_a_spike_at_a_0230_digest(db):
    """Three SFRS stories from two outlets in the day before a 02:30 digest, two of them dated only
    (published yesterday, crawled at 02:05): a spike. Read as midnight, they were 26.5 hours old and
    none counted. A date-only story of the day before yesterday counts in the baseline, not today."""
    with db.atomic():
        _story_about(db, "sfrs", "shropshire_star", "d1", "2026-11-30", "2026-12-01T02:05:00Z")
        _story_about(db, "sfrs", "hereford_times", "d2", "2026-11-30", "2026-12-01T02:06:00Z")
        _story_about(db, "sfrs", "shropshire_star", "t1", "2026-11-30T19:00:00Z", "2026-12-01T02:05:00Z")
        _story_about(db, "sfrs", "worcester_news", "old", "2026-11-29", "2026-12-01T02:07:00Z")
    digest = report.build_digest(db, since="2026-11-30T00:00:00Z", now=EARLY_UNTIL)
    spike = _group(digest, "sfrs")["spike"]
    assert (spike["stories"], spike["outlets"], spike["today"]) == (3, 2, 3)
    assert spike["spike"] is True
    counts = report._window_counts(db, report._parse(EARLY_UNTIL), report.BASELINE_DAYS + 1)["sfrs"]
    assert counts[-2] == {"worcester_news": 1}   # the day before: the baseline, counted the same way


def test_charts_end_on_the_digests_day_not_the_newest_story(db):
    """A digest a week after the newest story: the 30 days end on its own date (the quiet days empty),
    the caption says so and notes the gap."""
    digest = report.build_digest(db, since="2026-11-30T00:00:00Z", now=QUIET_NOW)
    charts = digest["charts"]
    assert charts["days"][-1] == "2026-12-01" and charts["days"][0] == "2026-11-02"
    assert charts["latest"] == "2026-11-24"
    assert charts["coverage"]["wm_pcc"][-7:] == [0] * 7   # 25 Nov - 1 Dec: nothing published
    assert sum(charts["coverage"]["wm_pcc"]) == db.execute(
        "SELECT sum(articles) FROM entity_daily WHERE entity_id = 'wm_pcc' AND day BETWEEN '2026-11-02' "
        "AND '2026-12-01'").fetchone()[0]
    plain = report.render_markdown(digest, plain=True)
    assert "30 days to Tue 1 Dec 2026 (the digest's day)" in plain
    assert "No stored story published since Tue 24 Nov 2026" in plain
    html = report.render_html(digest)
    assert "30 days to Tue 1 Dec 2026 (the digest&#39;s day)" in html and "published since Tue 24 Nov 2026" in html
    # the sample's own morning: the newest story is from the digest's day, no note
    same_day = report.build_digest(db, now=NOW)
    assert same_day["charts"]["days"][-1] == "2026-11-24" and not report.charts_gap_text(same_day["charts"])


def test_charts_of_an_archive_end_on_its_newest_story_and_say_so(db):
    """Nothing published in the 30 days to the digest's day (the demo's archive, a month without a crawl):
    the charts show the 30 days to the newest story, not 30 empty days, and the heading and note say so."""
    digest = report.build_digest(db, since="2026-11-30T00:00:00Z", now="2027-01-10T07:00:00Z")
    charts = digest["charts"]
    assert charts["ends_on"] == "newest" and charts["days"][-1] == charts["latest"] == "2026-11-24"
    assert sum(charts["coverage"]["wm_pcc"]) > 0
    plain = report.render_markdown(digest, plain=True)
    assert "30 days to Tue 24 Nov 2026 (the newest stored story's day)" in plain
    assert ("No stored story was published in the 30 days to the digest's day (Sun 10 Jan 2027): the charts "
            "show the 30 days to the newest one") in plain
    assert "the newest stored story&#39;s day" in report.render_html(digest)
    # 29 days after the newest story the window still ends on the digest's day (the gap note says why)
    near = report.build_digest(db, since="2026-11-30T00:00:00Z", now="2026-12-23T07:00:00Z")["charts"]
    assert near["ends_on"] == "digest" and near["days"][-1] == "2026-12-23"


def test_first_digest_lists_the_last_week_and_says_older_stories_are_stored(db, tmp_path):
    """No digest recorded yet: the first one covers everything first seen in the last FIRST_DIGEST_DAYS
    days (not only the last 24 hours, which left earlier crawls in no digest ever) and says how many
    older stories are in the database."""
    db.execute("DELETE FROM reports")
    digest = report.build_digest(db, now=NOW)
    assert digest["since"] == "2026-11-17T07:00:00Z"
    originals = "SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND first_seen_at {} ?"
    listed = {story["article_id"] for group in digest["groups"] for story in group["stories"]}
    assert len(listed) == digest["summary"]["stories"] == db.execute(
        originals.format(">") + " AND first_seen_at <= ?", ["2026-11-17T07:00:00Z", NOW]).fetchone()[0] == 9
    assert {article_id(db, "gap"), article_id(db, "consult")} <= listed   # seen 19 and 20 November
    older = db.execute(originals.format("<="), ["2026-11-17T07:00:00Z"]).fetchone()[0]
    assert digest["summary"]["older"] == older == 9
    line = (f"This is the first digest: it lists the last {report.FIRST_DIGEST_DAYS} days. 9 older stories, "
            "first seen before Tue 17 Nov 2026, 07:00 UTC, are in the database")
    assert line in report.render_markdown(digest, plain=True) and line in report.render_html(digest)
    # once recorded, the next digest starts where it ended and says nothing about older stories
    report.write_report(db, tmp_path / "out", now=NOW)
    later = report.build_digest(db, now="2026-11-25T07:00:00Z")
    assert later["since"] == NOW and later["summary"]["older"] == 0
    assert "first digest" not in report.render_markdown(later, plain=True)


def _revise(db, key: str, title: str, extra: str, when: str = "2026-11-24T03:00:00Z") -> int:
    """Store a material revision of a sample article as the crawler does (``store.add_revision``, what
    ``crawler.revisions.save_article`` writes for an ``updated`` page: same article, new text, a new
    ``article_versions`` row); nothing analyses or classifies it. (Not ``save_article`` itself: the sample's
    copies are linked by hand, and its regrouping would release them.)"""
    from crawler.dedupe import fingerprint, to_blob
    from crawler.revisions import diff_summary
    existing = store.find_article(db, db.execute("SELECT canonical_url FROM articles WHERE id = ?",
                                                 [article_id(db, key)]).fetchone()[0])
    body = existing["body"] + "\n\n" + extra
    summary, headline_changed, is_correction = diff_summary(existing["title"], existing["body"], title, body)
    with store.clock(when):
        store.add_revision(db, existing, {"url": existing["url"], "title": title, "body": body}, None,
                           fingerprint=to_blob(fingerprint(body)), summary=summary,
                           headline_changed=headline_changed, is_correction=is_correction)
    return existing["id"]


REVISED = "Campion defends takeover plan after heckling"


def test_a_revised_story_not_yet_analysed_is_listed_once_under_not_yet_analysed(db):
    """A story revised after it was analysed (its mentions, quotes and labels are its earlier text's)
    was listed under each body the earlier text mentioned and again under "Not yet analysed". It is
    one story: listed once, by its latest headline, under "Not yet analysed", counted there; none of
    its earlier text's bodies, quote, stance or tone is shown for it, in any format."""
    defends = _revise(db, "defends", REVISED, "The meeting was interrupted twice by protesters.")
    digest = report.build_digest(db, now=NOW)
    listings = [(group["name"], story["repeat"], story["headline"]) for group in digest["groups"]
                for story in group["stories"] if story["article_id"] == defends]
    assert listings == [(report.NOT_ANALYSED_GROUP, False, REVISED)]
    assert digest["summary"]["stories"] == 7 and digest["summary"]["not_analysed"] == 1
    assert digest["summary"]["by_entity"]["hwfrs"] == 2 and "hw_fire_authority" not in digest["summary"]["by_entity"]
    assert digest["summary"]["stance"]["favour"] == 0   # its earlier text's stance is not the story's now
    assert not [item for item in digest["attention"] if item.get("article_id") == defends]
    assert report.attention_text(digest["attention"][0]).startswith("1 story not yet analysed")
    story_lines = {}
    for name, text in (("md", report.render_markdown(digest)), ("text", report.render_markdown(digest, plain=True))):
        stories_part = text.split("Edited since the last digest", 1)[0]
        story_lines[name] = [line for line in stories_part.splitlines()
                             if REVISED in line or "Campion defends fire takeover plan at public meeting" in line]
    assert story_lines["md"] == [f"- **[{REVISED}](https://www.herefordtimes.com/news/2026/defends/)**  "]
    assert story_lines["text"] == [f"* {REVISED}"]
    page = report.render_html(digest)
    bodies = page.split("Edited since the last digest", 1)[0]
    assert bodies.count(f'id="story-{defends}"') == 1 and bodies.count(REVISED) == 1
    assert "Campion defends fire takeover plan at public meeting" not in bodies
    from cuttings import delivery
    chat = delivery.webhook_payload(digest, max_headlines=20, max_per_outlet=20)["text"]
    assert chat.count(REVISED) == 1 and "Roger Phillips" not in chat
    # the edit itself is listed once more, where edits are: that is the edits list, not a second story
    assert [edit["headline"] for edit in digest["edits"] if edit["article_id"] == defends][0] == REVISED
    # the analysts' view (and the export and canned queries on it): one row, the latest version
    assert db.execute("SELECT title, version FROM article_summary WHERE article_id = ?", [defends]).fetchall() == [
        (REVISED, 3)]


def test_a_story_with_no_labels_has_no_empty_separator(db):
    """A story with nothing to show beside its outlet and date (not yet analysed, so no bodies, stance
    or tone) ends its line there: no dangling " · " in Markdown, no empty "[]" in plain text."""
    _revise(db, "defends", REVISED, "The meeting was interrupted twice by protesters.")
    digest = report.build_digest(db, now=NOW)
    for text in (report.render_markdown(digest), report.render_markdown(digest, plain=True)):
        lines = text.splitlines()
        meta = lines[next(i for i, line in enumerate(lines) if REVISED in line) + 1]
        assert meta.startswith("  Hereford Times"), meta
        assert not meta.rstrip().endswith(("·", "[]")), meta


def test_a_revised_story_read_again_is_listed_under_its_bodies_with_its_new_labels(db):
    """Once the analyse stage reads the revision the story is back under its bodies (once per body,
    later ones repeats); until the classify stage reads it too, the earlier text's predictions are not
    shown for it (it is counted "not yet classified"), a person's label stays."""
    defends = _revise(db, "defends", REVISED, "The meeting was interrupted twice by protesters.")
    warn = _revise(db, "warn", "Fire chiefs warn again over commissioner's plans", "A second letter was sent.")
    for revised in (defends, warn):
        article = dict(next(db.query("SELECT id, content_hash FROM articles WHERE id = ?", [revised])))
        store.replace_analysis(db, article, "analyser-2026.12.1", [
            {"entity_id": "hwfrs", "surface": "HWFRS", "start_char": 0, "end_char": 5}], [])
    digest = report.build_digest(db, now=NOW)
    listings = [(group["entity_id"], story["repeat"]) for group in digest["groups"]
                for story in group["stories"] if story["article_id"] == defends]
    assert listings == [("hwfrs", False)]
    story = _story(_group(digest, "hwfrs"), db, "defends")
    assert story["headline"] == REVISED and story["stance"] is None and story["topics"] == []
    assert story["group_tone"] is None and story["key_quote"] is None
    warned = _story(_group(digest, "hwfrs"), db, "warn")
    assert warned["stance"]["label"] == "against" and warned["stance"]["human"]   # the person's label stays
    assert warned["topics"] == []
    assert digest["summary"]["not_analysed"] == 0 and digest["summary"]["not_classified"] == 2
    assert report.NOT_ANALYSED_GROUP not in [group["name"] for group in digest["groups"]]


def test_a_revised_story_not_yet_analysed_counts_in_no_spike_or_chart(db):
    """The spikes and the charts count stories as the sections list them: a story revised since it was read
    (its mentions and predictions are its earlier text's) counts for no body, stance or tone until the stages
    read it again. "Coverage spike: HWFRS: 3 stories" sat above an HWFRS section listing 2."""
    before = report.build_digest(db, now=NOW)
    assert (_group(before, "hwfrs")["spike"]["stories"], len(_group(before, "hwfrs")["stories"])) == (3, 3)
    charts = before["charts"]
    day = charts["days"].index("2026-11-23")   # the "defends" story's day: HWFRS and its fire authority
    defends = _revise(db, "defends", REVISED, "The meeting was interrupted twice by protesters.")
    digest = report.build_digest(db, now=NOW)
    spike = _group(digest, "hwfrs")["spike"]
    assert spike["stories"] == len(_group(digest, "hwfrs")["stories"]) == digest["summary"]["by_entity"]["hwfrs"] == 2
    assert spike["spike"] is False and "HWFRS" not in {item.get("body") for item in digest["attention"]
                                                      if item["kind"] == "spike"}
    for text in (report.render_markdown(digest, plain=True), report.render_html(digest)):
        assert "Coverage spike: HWFRS" not in text and "HWFRS (SPIKE)" not in text
    after = digest["charts"]
    assert after["coverage"]["hwfrs"][day] == charts["coverage"]["hwfrs"][day] - 1
    assert after["totals"]["hw_fire_authority"] == charts["totals"]["hw_fire_authority"] - 1 == 0
    assert after["tone"]["hwfrs"]["neutral"] == charts["tone"]["hwfrs"]["neutral"] - 1   # its earlier text's tone
    assert after["tone"]["wm_pcc"]["positive"] == charts["tone"]["wm_pcc"]["positive"] - 1
    assert after["stance_totals"]["favour"] == charts["stance_totals"]["favour"] - 1 == 0
    # read again by the analyse stage (HWFRS only now): counted for HWFRS again; its tone and stance wait for
    # the classify stage
    article = dict(next(db.query("SELECT id, content_hash FROM articles WHERE id = ?", [defends])))
    store.replace_analysis(db, article, "analyser-2026.12.1", [
        {"entity_id": "hwfrs", "surface": "HWFRS", "start_char": 0, "end_char": 5}], [])
    read = report.build_digest(db, now=NOW)
    assert (_group(read, "hwfrs")["spike"]["stories"], _group(read, "hwfrs")["spike"]["spike"]) == (3, True)
    assert read["charts"]["coverage"]["hwfrs"][day] == charts["coverage"]["hwfrs"][day]
    assert read["charts"]["totals"]["hw_fire_authority"] == 0
    assert read["charts"]["tone"]["hwfrs"] == after["tone"]["hwfrs"]
    assert read["charts"]["stance_totals"] == after["stance_totals"]


def _quoted_story(db, key: str, title: str, minute: int, quotes: list[dict], mentions: tuple[str, ...] = ()) -> int:
    """A story in the digest's window that mentions ``mentions`` (none: no watched body), analysed with these
    quotes (the analyse stage's writer: ``store.replace_analysis``)."""
    story = _new_story(db, key, title, minute)
    article = dict(next(db.query("SELECT id, content_hash FROM articles WHERE id = ?", [story])))
    store.replace_analysis(db, article, "analyser-2026.12.1", [
        {"entity_id": entity_id, "surface": entity_id, "start_char": 0, "end_char": 5} for entity_id in mentions], [
        {"text": "We are proud of every volunteer.", "start_char": 10 + n, "end_char": 40 + n, **quote}
        for n, quote in enumerate(quotes)])
    return story


def test_a_story_whose_only_link_is_a_quote_for_a_body_is_filed_and_counted_under_the_body(db):
    """A watchlist person's name makes no mention ("Chief Constable Richard Cooper" is stored as a quote
    stated for the force): the story was in "Needs attention" as a new quote from the force's speaker, yet
    filed and counted under "Other local news". A quote linked to a body files the story under it as a mention
    would (stated, or known_speaker: the body other articles gave the speaker, which "Needs attention" credits
    alike), in the sections, the summary, the spikes and the charts; a quote linked to no body does not."""
    before = report.build_digest(db, now=NOW)
    stated = _quoted_story(db, "cooper", "Chief constable praises volunteers", 40, [
        {"speaker": "Richard Cooper", "speaker_id": "richard cooper", "speaker_role": "Chief Constable",
         "entity_id": "west_mercia_police", "entity_method": "stated"}])
    known = _quoted_story(db, "known", "Volunteers honoured at town hall", 41, [
        {"speaker": "Richard Cooper", "speaker_id": "richard cooper", "entity_id": "west_mercia_police",
         "entity_method": "known_speaker"}])
    nobody = _quoted_story(db, "nobody", "Volunteers wanted for the carnival", 42, [
        {"speaker": "Ann Lee", "speaker_id": "ann lee", "speaker_role": "organiser"}])
    digest = report.build_digest(db, now=NOW)
    police = _group(digest, "west_mercia_police")
    listed = [story["article_id"] for story in police["stories"]]
    assert listed[:2] == [known, stated]   # the body's own quotes rank them first, newest first
    assert police["stories"][1]["key_quote"]["speaker"] == "Richard Cooper"
    other = [story["article_id"] for story in _group(digest, None)["stories"]]
    assert nobody in other and not {stated, known} & set(other)
    summary, was = digest["summary"], before["summary"]
    assert summary["by_entity"]["west_mercia_police"] == was["by_entity"]["west_mercia_police"] + 2 == len(listed)
    assert summary["other"] == was["other"] + 1 and summary["stories"] == was["stories"] + 3
    # "Needs attention" names the newest quote, and the section it points to lists the story
    (quote,) = [item for item in digest["attention"] if item["kind"] == "quote"
                and item["entity_id"] == "west_mercia_police"]
    assert report.attention_text(quote).startswith("New quote from Richard Cooper (West Mercia Police)")
    assert quote["article_id"] in listed
    # the spike's count and the charts count them for the body too (published 23 November, in the last 24 hours)
    assert police["spike"]["stories"] == _group(before, "west_mercia_police")["spike"]["stories"] + 2
    day = digest["charts"]["days"].index("2026-11-23")
    assert (digest["charts"]["coverage"]["west_mercia_police"][day]
            == before["charts"]["coverage"]["west_mercia_police"][day] + 2)
    assert digest["charts"]["totals"]["west_mercia_police"] == before["charts"]["totals"]["west_mercia_police"] + 2
    plain = report.render_markdown(digest, plain=True)
    heading = police["name"] + (" (SPIKE)" if police["spike"]["spike"] else "")
    section = plain.split(f"\n{heading}\n", 1)[1].split(f"\n{report.OTHER_GROUP}\n", 1)[0]
    assert "* Chief constable praises volunteers" in section and "* Volunteers honoured at town hall" in section
    others = plain.split(f"\n{report.OTHER_GROUP}\n", 1)[1]
    assert "Chief constable praises volunteers" not in others and "* Volunteers wanted for the carnival" in others


def test_a_bodys_section_shows_its_own_quote_or_names_whose_it_shows(db):
    """Under a body's heading the key quote was any quote: an out-of-area sergeant's (linked to no body) under
    the fire service, the PCC's "the commissioner" under the fire service as if the service's. A comms officer
    reads the line under a story in the service's section as the service's word: it is the body's own quote;
    else another watched body's, its speaker and body named ("the commissioner, PCC"); else none (a quote
    linked to no body is nobody's word for the section). Under "Other local news" the first quote stays."""
    sergeant = {"speaker": "Sergeant Amy Cole", "speaker_id": "amy cole", "speaker_role": "Sergeant"}
    commissioner = {"speaker": "the commissioner", "entity_id": "wm_pcc", "entity_method": "inferred"}
    chief = {"speaker": "Jon Pryce", "speaker_id": "jon pryce", "speaker_role": "chief fire officer",
             "entity_id": "hwfrs", "entity_method": "stated"}
    both = _quoted_story(db, "both", "Fire crews and police at farm blaze", 43, [sergeant, commissioner],
                         mentions=("hwfrs",))
    own = _quoted_story(db, "own", "Chief fire officer thanks crews", 44, [sergeant, commissioner, chief],
                        mentions=("hwfrs",))
    lone = _quoted_story(db, "lone", "Sergeant warns of scam calls", 45, [sergeant], mentions=("hwfrs",))
    other = _quoted_story(db, "other", "Scam calls warning", 46, [sergeant])
    digest = report.build_digest(db, now=NOW)

    def key_quote(entity_id, story):
        (entry,) = [entry for entry in _group(digest, entity_id)["stories"] if entry["article_id"] == story]
        quote = entry["key_quote"]
        return quote and (quote["speaker"], quote["body"], report.quote_credit(quote))

    assert key_quote("hwfrs", own) == ("Jon Pryce", None, "Jon Pryce")
    assert key_quote("hwfrs", both) == ("the commissioner", "PCC", "the commissioner, PCC")
    assert key_quote("wm_pcc", both) == ("the commissioner", None, "the commissioner")   # its own, under its own
    assert key_quote("hwfrs", lone) is None
    assert key_quote(None, other) == ("Sergeant Amy Cole", None, "Sergeant Amy Cole")
    plain = report.render_markdown(digest, plain=True)
    markdown = report.render_markdown(digest)
    page = report.render_html(digest)
    hwfrs = _group(digest, "hwfrs")
    heading = hwfrs["name"] + (" (SPIKE)" if hwfrs["spike"]["spike"] else "")
    section = plain.split(f"\n{heading}\n", 1)[1].split("\n\n", 2)[1]
    lines = section.splitlines()
    for headline, credit in (("Chief fire officer thanks crews", "Jon Pryce"),
                             ("Fire crews and police at farm blaze", "the commissioner, PCC")):
        at = lines.index(f"* {headline}")
        assert lines[at + 3] == f"  “We are proud of every volunteer.” ({credit})"
        assert f"({credit})" in markdown
    at = lines.index("* Sergeant warns of scam calls")
    assert "Sergeant Amy Cole" not in "\n".join(lines[at:at + 4])
    assert "— the commissioner, PCC</cite>" in page and "— Jon Pryce, chief fire officer</cite>" in page
    assert "— Sergeant Amy Cole, Sergeant</cite>" in page   # under Other local news only
    assert page.count("— Sergeant Amy Cole") == 1


def test_a_long_quote_is_cut_alike_in_every_format(digest):
    """A chief's 1,000-character statement is one line of the morning read in HTML, Markdown, plain text and
    the webhook alike (the HTML cut it, the text and Markdown printed it whole), cut at a word."""
    statement = " ".join(f"Sentence {n} of the statement goes on about the service." for n in range(40))
    quoted = next(item for item in digest["attention"] if item["kind"] == "quote")
    quoted["text"] = statement
    story = next(story for group in digest["groups"] for story in group["stories"] if story.get("key_quote"))
    story["key_quote"]["text"] = statement
    short, longer = report.quote_excerpt(statement, "attention"), report.quote_excerpt(statement, "key")
    assert short.endswith("...") and len(short) <= report.QUOTE_CHARS["attention"] + 5
    assert longer.endswith("...") and statement.startswith(longer[:-3]) and statement[len(longer) - 3] == " "
    assert report.quote_excerpt("Short and whole.", "key") == "Short and whole."
    for text in (report.render_markdown(digest, plain=True), report.render_markdown(digest),
                 report.render_html(digest), report.attention_text(quoted)):
        assert statement not in text and "Sentence 39" not in text
        assert "Sentence 0 of the statement" in text
    plain = report.render_markdown(digest, plain=True)
    assert f"“{short}”" in plain and f"“{longer}”" in plain


def test_a_story_listed_again_says_under_which_body_it_is_listed_in_full(db, digest):
    """"listed above" alone sent a plain-text reader (the e-mail's text part, 405 such lines in the demo's
    first digest) hunting through every section above; it names the section, and the HTML links to the story."""
    warn = article_id(db, "warn")
    listings = [(group["short_name"], story["repeat"], story.get("listed_under")) for group in digest["groups"]
                for story in group["stories"] if story["article_id"] == warn]
    assert listings[0] == ("SFRS", False, None)
    assert listings[1:] and all(repeat and under == "SFRS" for _name, repeat, under in listings[1:])
    plain, markdown, html = (report.render_markdown(digest, plain=True), report.render_markdown(digest),
                             report.render_html(digest))
    for text in (plain, markdown):
        assert "Fire chiefs warn over commissioner's plans (tone: negative (unsure)): listed above under SFRS" in text
        assert ": listed above\n" not in text
    assert f'listed above under <a href="#story-{warn}">SFRS</a>' in html and f'id="story-{warn}"' in html


def test_a_storys_key_quote_is_its_most_informative_and_needs_attention_shows_the_same(db):
    """The key quote under a body was the body's first quote, often a fragment of the reporter's sentence ("not
    looking good", from "a spokesperson"), while "Needs attention" showed the principal's first quote of the same
    story ("Financially, things look grim,"): two different quotes for one story and body. Both now take the most
    informative: a statement in its own right over a fragment, a principal's (the people "Needs attention" reports)
    over another's, the longer up to the excerpt shown, a named speaker over none, the first of equals."""
    pryce = {"speaker": "Jon Pryce", "speaker_id": "jon pryce", "entity_id": "hwfrs", "entity_method": "stated"}
    statement = "Within the coming year or two, there may have to be changes to some frontline services."
    service = ("The service has set out its budget for the next three years, and it will consult residents, "
               "staff and the fire authority on every change it proposes before anything is decided.")
    story = _quoted_story(db, "grim", "Fire service warns of cuts", 47, [
        {"speaker": "a spokesperson", "entity_id": "hwfrs", "text": "not looking good"},
        {**pryce, "text": "Financially, things look grim,"},
        {"speaker": "the service", "entity_id": "hwfrs", "text": service},
        {**pryce, "text": statement},
        {**pryce, "text": "issues of low priority"}], mentions=("hwfrs",))
    carnival = _quoted_story(db, "carnival", "Carnival on whatever the weather", 48, [
        {"speaker": "Ann Lee", "speaker_id": "ann lee", "text": "brilliant"},
        {"speaker": "Ann Lee", "speaker_id": "ann lee", "text": "The carnival will go ahead on Saturday."}])
    digest = report.build_digest(db, now=NOW)
    (entry,) = [entry for entry in _group(digest, "hwfrs")["stories"] if entry["article_id"] == story]
    assert (entry["key_quote"]["text"], entry["key_quote"]["speaker"]) == (statement, "Jon Pryce")
    (item,) = [item for item in digest["attention"] if item["kind"] == "quote" and item["article_id"] == story]
    assert (item["speaker"], item["text"]) == ("Jon Pryce", statement)
    (other,) = [entry for entry in _group(digest, None)["stories"] if entry["article_id"] == carnival]
    assert other["key_quote"]["text"] == "The carnival will go ahead on Saturday."
    # every format shows the one quote, under Needs attention and under the story
    plain = report.render_markdown(digest, plain=True)
    assert f"“{statement}” (Jon Pryce)" in plain and statement in report.attention_text(item)
    assert "not looking good" not in plain and "look grim" not in plain
    # without a principal's: the statement over the fragment, the longer up to the excerpt, named over none,
    # the first of equals (two quotes longer than the excerpt read alike)
    named, unnamed = {"speaker": "Ann Lee", "text": "It rained."}, {"speaker": "a spokesperson", "text": "It snowed."}
    assert report.best_quote([unnamed, named]) is named and report.best_quote([]) is None
    longest = [{"speaker": None, "text": "Long " * 80}, {"speaker": None, "text": "Longer " * 80}]
    assert report.best_quote(longest) is longest[0]
