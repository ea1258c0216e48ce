"""An analyst's first afternoon with the output (session 17): what the views, the canned queries and the
exports said wrong, each checked on a real SQLite file built by the store's writers (the sample database)."""
from __future__ import annotations

from collections import Counter
import json
import sqlite3

import pytest

from cuttings import store
from cuttings.store.labels import add_correction
from tests.report_fixtures import article_id, build_sample_db


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    return path


def _conn(path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def _correct_a_quote_speaker(path) -> int:
    """A person corrects the speaker of the one quote of the "case" story (no label of it set by a person)."""
    db = store.connect(path, create=False)
    case = article_id(db, "case")
    start, end = db.execute("SELECT start_char, end_char FROM quotes WHERE article_id = ?", [case]).fetchone()
    add_correction(db, case, [("quote_speaker", f"{start}:{end}", "John Campion")], "analyst@example.org")
    db.close()
    return case


def test_a_quote_correction_is_no_label_of_the_story(sample):
    """Correcting who said a quote made article_summary.human_corrected 1 (and every export said so: the story's
    topics, stance and tone "set by a person") and put a quote_speaker row among effective_labels."""
    case = _correct_a_quote_speaker(sample)
    with _conn(sample) as conn:
        story = conn.execute("SELECT human_corrected, stance FROM article_summary WHERE article_id = ?",
                             [case]).fetchone()
        assert tuple(story) == (0, "favour")
        tasks = {row[0] for row in conn.execute("SELECT DISTINCT task FROM effective_labels")}
        assert tasks == {"topics", "stance_governance", "tone"}
        assert [row[0] for row in conn.execute("SELECT human FROM effective_labels WHERE article_id = ?", [case])] \
            == [0, 0, 0, 0]
        # the correction itself still applies where quotes are read
        assert conn.execute("SELECT speaker, entity_method FROM quotes_by_speaker WHERE article_id = ?",
                            [case]).fetchone()[:] == ("John Campion", "corrected")
        # a person's label of the story still counts
        warn = conn.execute("SELECT human_corrected FROM article_summary WHERE title = ?",
                            ["Fire chiefs warn over commissioner's plans"]).fetchone()[0]
        assert warn == 1


def test_a_database_made_before_m022_leaves_quote_corrections_out_when_opened(sample):
    case = _correct_a_quote_speaker(sample)
    db = store.connect(sample, create=False)
    # the label views as before m022 (article_summary carries effective_labels' SQL for each story since m030)
    views = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE name IN ('effective_labels', "
                            "'article_summary')").fetchall())
    db.execute("DROP VIEW article_summary")
    db.execute("DROP VIEW effective_labels")
    for name in ("effective_labels", "article_summary"):
        db.execute(views[name].replace(f" AND l.task NOT IN {store.schema._QUOTE_TASKS_SQL}", ""))
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm022_label_views_without_quote_corrections'")
    db.conn.commit()
    assert db.execute("SELECT human_corrected FROM article_summary WHERE article_id = ?", [case]).fetchone()[0] == 1
    db.close()
    db = store.connect(sample)
    assert db.execute("SELECT human_corrected FROM article_summary WHERE article_id = ?", [case]).fetchone()[0] == 0


def test_most_quoted_first_quoted_is_the_first_dated_story(sample):
    """One undated story made a person's first_quoted '' (min over coalesce(date, '')): pandas read it as no
    date, and ORDER BY first_quoted put them first."""
    with _conn(sample) as conn:
        conn.execute("UPDATE articles SET published_at = NULL WHERE title = ?",
                     ["Campion defends fire takeover plan at public meeting"])
        conn.commit()
        dated = conn.execute("SELECT min(published_at), max(published_at) FROM quote_people "
                             "WHERE entity_id = 'wm_pcc' AND person_id = 'campion'").fetchone()
        row = conn.execute("SELECT first_quoted, last_quoted, stories FROM most_quoted "
                           "WHERE entity_id = 'wm_pcc' AND speaker_id = 'campion'").fetchone()
        assert dated[0] == "2026-10-24T10:00:00Z"
        assert (row["first_quoted"], row["last_quoted"]) == tuple(dated)
        assert row["stories"] == 3   # the undated story still counts
        assert conn.execute("SELECT count(*) FROM most_quoted WHERE first_quoted = ''").fetchone()[0] == 0


def test_critical_articles_lists_every_flagged_story_with_the_uncertainty_of_its_own_labels(sample):
    """The canned query stopped at 100 rows without saying so (the demo has 111 flagged stories), had no
    article_id to join or open a story by, and its `uncertain` was the story's (any topic unsure), not that of
    the label that flagged it."""
    from cuttings import serve
    from tests.report_fixtures import _insert_article

    db = store.connect(sample, create=False)
    with store.transaction(db):
        run = store.start_run(db, "crawl")
        for n in range(101):
            _insert_article(db, dict(
                key=f"flood_{n}", source="worcester_news", published=f"2026-09-{1 + n % 28:02d}T08:{n % 60:02d}:00Z",
                seen="2026-11-24T02:05:00Z", title=f"Force criticised over flood response, part {n}",
                body=[f"West Mercia Police was criticised over its flood response in village {n}."],
                mentions={"west_mercia_police": ["West Mercia Police"]}, topics=["incident", "other"],
                stance="against", tone={}, uncertain={("topics", "")}), {}, run)
    db.close()
    with _conn(sample) as conn:
        rows = [dict(row) for row in conn.execute(serve.CANNED_QUERIES["critical_articles"]["sql"])]
        flagged = conn.execute("SELECT count(*) FROM article_summary WHERE stance IN ('against', 'favour') "
                               "OR EXISTS (SELECT 1 FROM json_each(tone) WHERE value = 'negative')").fetchone()[0]
        assert len(rows) == flagged > 101
        by_id = {row["article_id"]: row for row in rows}
        assert len(by_id) == len(rows)
        for story in conn.execute("SELECT * FROM article_summary WHERE article_id IN (SELECT value FROM json_each(?))",
                                  [json.dumps(list(by_id))]):
            row = by_id[story["article_id"]]
            assert (row["title"], row["stance_uncertain"], row["tone_uncertain"]) == (
                story["title"], story["stance_uncertain"], story["tone_uncertain"])
        floods = [row for row in rows if row["title"].startswith("Force criticised")]
        assert len(floods) == 101 and all(row["stance_uncertain"] == 0 for row in floods)   # sure of "against"
        assert "uncertain" not in rows[0]   # the story's any-label flag said "unsure" of a sure stance
        warn = next(row for row in rows if row["title"] == "Fire chiefs warn over commissioner's plans")
        assert warn["stance"] == "against" and warn["stance_uncertain"] == 0   # a person set it
        assert json.loads(warn["tone_uncertain"])["wm_pcc"] == 1


def test_quotes_by_speaker_joins_the_person_each_quote_counts_for(sample):
    """quotes_by_speaker had no quote_id: "which person does most_quoted count this quote for" could only be
    answered by matching the words. Its quote_id joins quote_people and quotes, one row each."""
    with _conn(sample) as conn:
        rows = [dict(row) for row in conn.execute(
            "SELECT q.quote_id, q.quote, q.speaker, p.person_id, t.text FROM quotes_by_speaker q "
            "JOIN quote_people p ON p.quote_id = q.quote_id JOIN quotes t ON t.id = q.quote_id")]
        assert len(rows) == conn.execute("SELECT count(*) FROM quotes_by_speaker WHERE speaker IS NOT NULL").fetchone()[0]
        assert len({row["quote_id"] for row in rows}) == len(rows) > 0
        assert all(row["quote"] == row["text"] for row in rows)
        assert {row["person_id"] for row in rows if row["speaker"] == "Mr Campion"} == {"campion"}


def test_a_database_made_before_m024_gets_quote_id_when_opened(sample):
    db = store.connect(sample, create=False)
    db.execute("DROP VIEW quotes_by_speaker")
    db.execute(f"CREATE VIEW quotes_by_speaker AS {store.schema._VIEWS_LINK_URL['quotes_by_speaker']}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm024_quotes_by_speaker_quote_id'")
    db.conn.commit()
    assert "quote_id" not in db["quotes_by_speaker"].columns_dict
    db.close()
    db = store.connect(sample)
    columns = list(db["quotes_by_speaker"].columns_dict)
    assert columns[-1] == "quote_id" and columns[:2] == ["speaker_id", "speaker_quotes"]


def _schema_example(key: str) -> str:
    from tests.test_sql_examples import EXAMPLES
    return EXAMPLES[key]


def _credit_a_quote_to_an_unnamed_body(sample) -> int:
    """A person's correction credits the "case" story's quote to West Mercia Police, a body the story never
    names (counted by the digest, not by entity_daily); the story's id."""
    db = store.connect(sample, create=False)
    case = article_id(db, "case")
    start, end = db.execute("SELECT start_char, end_char FROM quotes WHERE article_id = ?", [case]).fetchone()
    add_correction(db, case, [("quote_entity", f"{start}:{end}", "west_mercia_police")], "analyst@example.org")
    db.close()
    return case


def _digest_story_bodies(conn) -> set[tuple[int, str]]:
    """(story, body) pairs by the digest's own rule (report._about), copies left out."""
    from cuttings.report import _about
    return {tuple(row) for row in conn.execute(
        f"SELECT ab.article_id, ab.entity_id FROM {_about('SELECT id FROM articles WHERE duplicate_of IS NULL')} ab "
        "JOIN articles a ON a.id = ab.article_id AND a.duplicate_of IS NULL")}


def test_q17_counts_each_bodys_stories_as_the_digest_does(sample):
    """The digest lists a story under each body it names and each body a quote in it speaks for; entity_daily
    and article_summary count names only, so an analyst's count came out lower than the digest's with no
    documented way to match it. Q17 of docs/schema.md is that way: the digest's own rule (report._about)."""
    _credit_a_quote_to_an_unnamed_body(sample)
    with _conn(sample) as conn:
        rows = {row["entity_id"]: dict(row) for row in conn.execute(_schema_example("Q17"))}
        digest = Counter(entity_id for _, entity_id in _digest_story_bodies(conn))
        named = dict(conn.execute("SELECT entity_id, sum(articles) FROM entity_daily GROUP BY entity_id").fetchall())
    assert {entity: row["stories"] for entity, row in rows.items()} == digest
    assert {entity: row["stories"] - row["quoted_only"] for entity, row in rows.items()} == named
    assert rows["west_mercia_police"]["quoted_only"] == 1


def test_q18_topics_over_time_counts_each_story_once_per_topic(sample):
    with _conn(sample) as conn:
        rows = [dict(row) for row in conn.execute(_schema_example("Q18"))]
        expected = sum(len(row[0].split(",")) for row in conn.execute(
            "SELECT topics FROM article_summary WHERE topics IS NOT NULL AND topics != ''"))
    assert rows and sum(row["stories"] for row in rows) == expected
    assert all(len(row["month"]) == 7 for row in rows)


def test_column_docs_name_the_values_the_code_stores():
    """entities.kind was documented as fire_service, fire_authority, police_force... (the watchlist allows
    organisation, office, person: the demo stores organisation and office); articles.published_source as
    json-ld, meta, url, htmldate... (no row says htmldate; 189 demo rows say override, others text, feed,
    sitemap); articles.language as "detected" (it is the language the page declares, en-GB on the demo)."""
    import re
    from pathlib import Path

    from cuttings import serve
    from nlp.watchlist import ENTITY_KINDS

    kind = serve.TABLE_DOCS["entities"][1]["kind"][0]
    assert all(f"`{value}`" in kind for value in ENTITY_KINDS) and "fire_service" not in kind
    extraction = (Path(__file__).resolve().parent.parent / "docs" / "extraction.md").read_text(encoding="utf-8")
    table = extraction[extraction.index("### Date provenance"):]
    table = table[:table.index("\n\n", table.index("| value | meaning |"))]
    values = {value for value in re.findall(r"`([^`]+)`", "\n".join(
        line.split("|")[1] for line in table.splitlines() if line.startswith("| `")))} - {"None"}
    assert values >= {"json-ld", "meta", "text", "url", "feed", "sitemap", "override"}
    published = serve.TABLE_DOCS["articles"][1]["published_source"][0]
    assert all(f"`{value}`" in published for value in values) and "htmldate" not in published
    assert serve.TABLE_DOCS["articles"][1]["language"][0].startswith("The language the page declares")


def test_entity_coverage_gives_the_story_id_and_how_sure_each_label_is(sample):
    """entity_coverage had neither article_id (no story page link, no join) nor any uncertainty flag: an analyst
    reporting the tone towards a body could not tell the model's unsure labels from its sure ones."""
    from cuttings import serve

    with _conn(sample) as conn:
        rows = [dict(row) for row in conn.execute(serve.CANNED_QUERIES["entity_coverage"]["sql"],
                                                  {"entity": "sfrs", "start": "2026-10-01", "end": "2026-11-30"})]
        stories = {row["article_id"]: dict(row) for row in conn.execute(
            "SELECT * FROM article_summary WHERE article_id IN (SELECT article_id FROM mentions WHERE entity_id = 'sfrs')")}
    assert rows and {row["article_id"] for row in rows} <= set(stories)
    for row in rows:
        story = stories[row["article_id"]]
        assert row["title"] == story["title"] and row["stance_uncertain"] == story["stance_uncertain"]
        assert row["tone_uncertain"] == json.loads(story["tone_uncertain"])["sfrs"]
    gap = next(row for row in rows if row["title"] == "Fire authority budget gap widens")
    assert (gap["tone_towards_entity"], gap["tone_uncertain"]) == ("neutral", 1)
    assert {row["tone_uncertain"] for row in rows} == {0, 1}


def test_the_schema_diagram_names_every_table_and_view(tmp_path):
    """docs/schema.md's "How the tables fit together" named 4 of the 10 views and left out article_authors,
    named_entities, watched_people and label_tasks."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text(encoding="utf-8")
    diagram = text[text.index("## How the tables fit together"):]
    diagram = diagram[:diagram.index("```", diagram.index("```") + 3)]
    db = store.connect(tmp_path / "x.db")
    names = [name for name in db.table_names() + db.view_names()
             if not name.startswith(("articles_fts", "_", "sqlite_"))]   # sqlite_sequence: SQLite's own (m027)
    db.close()
    assert [name for name in names if not re.search(rf"\b{name}\b", diagram)] == []


def test_one_topic_a_person_labelled_replaces_all_the_models_topics(sample):
    """docs/schema.md said a person's topic label replaced predictions "per label"; effective_labels takes the
    person's set as the answer (the writers write the whole set): this is the behaviour the docs now state."""
    db = store.connect(sample, create=False)
    hq = article_id(db, "hq")   # predicted: collaboration, finance
    store.add_labels(db, [(hq, "topics", "", "finance", "analyst@example.org")])
    db.conn.commit()
    assert db.execute("SELECT topics, human_corrected FROM article_summary WHERE article_id = ?", [hq]).fetchone() \
        == ("finance", 1)
    store.add_labels(db, [(hq, "topics", "", "collaboration", "analyst@example.org"),
                          (hq, "topics", "finance", "__rejected__", "analyst@example.org")])
    db.conn.commit()
    assert db.execute("SELECT topics FROM article_summary WHERE article_id = ?", [hq]).fetchone()[0] == "collaboration"
    db.close()


@pytest.mark.parametrize("entity", ["SFRS", "Shropshire Fire and Rescue Service", " sfrs ", "sfrs"])
def test_entity_coverage_takes_the_name_the_facets_show(sample, entity):
    """Datasette's facets and the digest name bodies "SFRS"; entity_coverage wanted the id `sfrs` and gave no
    rows, silently, for the name an analyst reads on the page."""
    from cuttings import serve

    sql = serve.CANNED_QUERIES["entity_coverage"]["sql"]
    with _conn(sample) as conn:
        got = [tuple(row) for row in conn.execute(sql, {"entity": entity, "start": "2026-10-01", "end": "2026-11-30"})]
        by_id = [tuple(row) for row in conn.execute(sql, {"entity": "sfrs", "start": "2026-10-01", "end": "2026-11-30"})]
        assert conn.execute(sql, {"entity": "nobody", "start": "2026-10-01", "end": "2026-11-30"}).fetchall() == []
    assert got == by_id and len(got) == 6 and all(row[8] for row in got)   # tone towards SFRS on each


def test_quotes_by_matches_the_speaker_text_literally(sample):
    """quotes_by used LIKE: `_` and `%` in the parameter were wildcards (speaker=_ listed every quote)."""
    from cuttings import serve

    sql = serve.CANNED_QUERIES["quotes_by"]["sql"]
    with _conn(sample) as conn:
        named = conn.execute("SELECT count(*) FROM quotes_by_speaker WHERE speaker IS NOT NULL").fetchone()[0]
        assert named > 3
        for wildcard in ("_", "%", "%a%", "M_ Campion"):
            assert conn.execute(sql, {"speaker": wildcard}).fetchall() == []
        assert len(conn.execute(sql, {"speaker": " campion "}).fetchall()) == 3
        assert len(conn.execute(sql, {"speaker": "Mr Campion"}).fetchall()) == 3


def test_speaker_quotes_counts_the_stored_identity_as_documented(sample):
    """quotes_by_speaker.speaker_quotes was documented as "how many quotes this person has"; on the demo "Mr
    Udall" showed 2 while most_quoted counts Richard Udall's 17. It counts the stored speaker_id (a title and
    surname apart), as its description now says; most_quoted's person is a join away (quote_id)."""
    from cuttings import serve

    assert "`most_quoted` joins them" in serve.TABLE_DOCS["quotes_by_speaker"][1]["speaker_quotes"][0]
    with _conn(sample) as conn:
        for row in conn.execute("SELECT speaker_id, speaker, speaker_quotes FROM quotes_by_speaker"):
            if row["speaker_id"]:
                expected = conn.execute("SELECT count(*) FROM quotes_by_speaker WHERE speaker_id = ?",
                                        [row["speaker_id"]]).fetchone()[0]
            else:   # no identity: by the name as printed; quotes with no speaker at all count together
                expected = conn.execute("SELECT count(*) FROM quotes_by_speaker WHERE speaker_id IS NULL "
                                        "AND speaker IS ?", [row["speaker"]]).fetchone()[0]
            assert row["speaker_quotes"] == expected


def test_story_bodies_is_one_row_per_story_and_body_as_the_digest_counts(sample):
    """Joining stories to `mentions` repeated a story once per mention, and no view held the digest's rule
    (named, or quoted for). story_bodies does: one row per (story, body), the digest's own rule."""
    case = _credit_a_quote_to_an_unnamed_body(sample)
    with _conn(sample) as conn:
        rows = [dict(row) for row in conn.execute("SELECT * FROM story_bodies")]
        digest = _digest_story_bodies(conn)
        mentions = dict(((r[0], r[1]), r[2]) for r in conn.execute(
            "SELECT article_id, entity_id, count(*) FROM mentions GROUP BY article_id, entity_id"))
        copies = {r[0] for r in conn.execute("SELECT id FROM articles WHERE duplicate_of IS NOT NULL")}
    keys = [(row["article_id"], row["entity_id"]) for row in rows]
    assert len(keys) == len(set(keys)) and set(keys) == digest and not copies & {key[0] for key in keys}
    for row in rows:
        assert row["mentions"] == mentions.get((row["article_id"], row["entity_id"]), 0)
        assert row["mentions"] or row["quotes"]
    police = [row for row in rows if row["article_id"] == case and row["entity_id"] == "west_mercia_police"]
    assert police == [{"article_id": case, "entity_id": "west_mercia_police", "body": "West Mercia Police",
                       "mentions": 0, "quotes": 1}]


def test_a_database_made_before_m025_gets_story_bodies_when_opened(sample):
    db = store.connect(sample, create=False)
    db.execute("DROP VIEW story_bodies")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm025_story_bodies'")
    db.conn.commit()
    db.close()
    db = store.connect(sample)
    assert "story_bodies" in db.view_names() and db.execute("SELECT count(*) FROM story_bodies").fetchone()[0] > 0
    db.close()


def test_story_bodies_links_each_story_to_its_page():
    from cuttings import browse

    cell = browse.render_cell(row={}, value=12, column="article_id", table="story_bodies", database="cuttings",
                              datasette=None)
    assert str(cell) == '<a href="/-/cuttings/story/cuttings/12" title="story page">12</a>'
