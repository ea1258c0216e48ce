"""The store: schema by migrations, WAL, foreign keys, idempotent article saving."""
import sqlite3

import pytest

from crawler.revisions import save_article
from cuttings import store
from crawler.dedupe import SyndicationIndex


def test_connect_creates_schema_wal_and_foreign_keys(tmp_path):
    db = store.connect(tmp_path / "x.db")
    tables = set(db.table_names())
    for name in ("sources", "crawl_runs", "articles", "article_versions", "entities", "mentions", "quotes",
                 "classifications", "models", "labels", "crawl_state", "crawl_errors", "articles_fts"):
        assert name in tables
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    columns = {c.name for c in db["articles"].columns}
    assert {"url", "canonical_url", "source_id", "title", "author", "published_at", "modified_at", "first_seen_at",
            "last_seen_at", "body", "word_count", "content_hash", "duplicate_of"} <= columns
    assert {"article_summary", "entity_daily", "quotes_by_speaker"} <= set(db.view_names())


def test_migrations_apply_once(tmp_path):
    path = tmp_path / "x.db"
    store.connect(path)
    db = store.connect(path)
    applied = [r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")]
    assert applied == sorted(set(applied), key=applied.index)
    assert len(applied) == len(store.migrations._migrations)


def test_quotes_by_speaker_shows_entity_method_after_upgrade(tmp_path):
    """A database made before m005 gets entity_method in the view when it is next opened."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    db.execute("DROP VIEW quotes_by_speaker")
    old_view = store.schema._VIEWS["quotes_by_speaker"].replace("  q.entity_method,\n", "")
    db.execute(f"CREATE VIEW quotes_by_speaker AS {old_view}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_quotes_by_speaker_entity_method'")
    db.conn.commit()
    assert "entity_method" not in db["quotes_by_speaker"].columns_dict
    db = store.connect(path)
    assert "entity_method" in db["quotes_by_speaker"].columns_dict


def test_missing_database_refused_without_creating(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(store.StoreError, match="database not found"):
        store.connect(path, create=False)
    assert not path.exists()


def test_not_a_cuttings_database(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(store.StoreError, match="not a cuttings database"):
        store.connect(path, create=False)


def _item(**kw):
    base = {"url": "http://a.example/news/1", "canonical_url": "http://a.example/news/1", "source_id": None,
            "title": "Fire crews praised", "body": " ".join(f"word{i}" for i in range(200)),
            "published_at": "2026-11-20"}
    base.update(kw)
    return base


def test_save_article_idempotent_and_versions(tmp_path):
    db = store.connect(tmp_path / "x.db")
    index = SyndicationIndex()
    status, article_id = save_article(db, _item(), None, index)
    assert status == "new"
    assert save_article(db, _item(body=_item()["body"] + "  "), None, index) == ("unchanged", article_id)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    status, same = save_article(db, _item(title="Fire crews criticised"), None, index)
    assert (status, same) == ("updated", article_id)
    versions = list(db.query("SELECT version, headline_changed, diff_summary FROM article_versions ORDER BY version"))
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["headline_changed"] == 1 and "headline changed" in versions[1]["diff_summary"]


def test_near_duplicate_linked_to_earliest_copy(tmp_path):
    db = store.connect(tmp_path / "x.db")
    index = SyndicationIndex()
    body = " ".join(f"token{i}" for i in range(300))
    _, later = save_article(db, _item(url="http://b.example/2", canonical_url="http://b.example/2",
                                            body=body + " This story first appeared in the Echo.",
                                            published_at="2026-11-21T10:00:00Z"), None, index)
    status, earlier = save_article(db, _item(url="http://a.example/1", canonical_url="http://a.example/1",
                                                   body=body, published_at="2026-11-20T09:00:00Z"), None, index)
    assert status == "duplicate"
    rows = dict(db.execute("SELECT id, duplicate_of FROM articles").fetchall())
    assert rows == {later: earlier, earlier: None}


def test_fts_follows_articles(tmp_path):
    db = store.connect(tmp_path / "x.db")
    save_article(db, _item(title="Campion fire takeover"), None, None)
    hits = list(db.query("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ["takeover"]))
    assert len(hits) == 1


def test_analyses_of_many_articles_in_text_order(tmp_path):
    from nlp.watchlist import load_watchlist

    db = store.connect(tmp_path / "x.db")
    store.sync_entities(db, load_watchlist())
    ids = [save_article(db, _item(url=f"https://a.example/{n}", canonical_url=f"https://a.example/{n}",
                                          title=f"Story {n}", body=f"Body {n} unique{n} " * 40), None)[1]
           for n in range(3)]
    for article_id, count in zip(ids, (2, 0, 1)):
        article = db.execute("SELECT id, content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
        mentions = [{"entity_id": "hwfrs", "surface": "HWFRS", "start_char": 50 - 10 * k, "end_char": 55 - 10 * k,
                     "sentence": "s", "paragraph": 0} for k in range(count)]
        quotes = [{"speaker": "Mr X", "text": f"q{k}", "start_char": k, "end_char": k + 2} for k in range(count)]
        store.replace_analysis(db, {"id": article[0], "content_hash": article[1]}, "v1", mentions, quotes)
    found = store.analyses_of(db, ids)
    assert list(found) == ids
    assert [len(found[i]["mentions"]) for i in ids] == [2, 0, 1]
    assert [len(found[i]["quotes"]) for i in ids] == [2, 0, 1]
    assert found[ids[0]]["mentions"] == [
        {"entity_id": "hwfrs", "surface": "HWFRS", "start_char": 40, "end_char": 45, "sentence": "s", "paragraph": 0,
         "method": "matched"},
        {"entity_id": "hwfrs", "surface": "HWFRS", "start_char": 50, "end_char": 55, "sentence": "s", "paragraph": 0,
         "method": "matched"}]                                                   # text order, not insertion order
    assert [q["text"] for q in found[ids[0]]["quotes"]] == ["q0", "q1"]
    assert found[ids[2]]["quotes"][0]["speaker"] == "Mr X"
    assert store.article_mentions(db, ids[2]) == found[ids[2]]["mentions"]
    assert store.analyses_of(db, []) == {}


def test_article_summary_gains_per_task_uncertainty_after_upgrade(tmp_path):
    """A database made before m008 gets topics/stance/tone_uncertain in article_summary when next opened."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    db.execute("DROP VIEW article_summary")
    db.execute(f"CREATE VIEW article_summary AS {store.schema._VIEWS_V6['article_summary']}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_article_summary_uncertain_per_task'")
    db.conn.commit()
    assert "stance_uncertain" not in db["article_summary"].columns_dict
    db = store.connect(path)
    assert {"topics_uncertain", "stance_uncertain", "tone_uncertain"} <= set(db["article_summary"].columns_dict)


def test_stages_replace_their_rows_when_the_stamps_were_deleted(tmp_path):
    """docs/operations.md's recovery deletes a stage's stamps and runs the stage again: the article's old
    mentions, quotes and classifications are replaced, never kept beside the new (classify collided with
    its unique index; analyse doubled every mention and quote)."""
    from nlp.watchlist import load_watchlist

    db = store.connect(tmp_path / "x.db")
    store.sync_entities(db, load_watchlist())
    save_article(db, _item(title="Campion fire takeover", body="HWFRS chief said it. " * 40), None, None)
    mentions = [{"entity_id": "hwfrs", "surface": "HWFRS", "start_char": 0, "end_char": 5, "sentence": "s",
                 "paragraph": 0}]
    quotes = [{"speaker": "Mr X", "text": "it", "start_char": 18, "end_char": 20}]
    rows = [{"task": "topics", "label": "fire", "probability": 0.9, "model_version": "m1"},
            {"task": "tone", "target": "hwfrs", "label": "neutral", "probability": 0.6, "model_version": "m2"}]

    def run_stages() -> None:
        for article in store.articles_to_process(db, "analyse", "v1"):
            store.replace_analysis(db, article, "v1", mentions, quotes)
        for article in store.articles_to_process(db, "classify", "c1"):
            store.replace_classifications(db, article, "c1", rows)

    def counts() -> dict:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("mentions", "quotes", "classifications", "processing")}

    run_stages()
    assert counts() == {"mentions": 1, "quotes": 1, "classifications": 2, "processing": 2}
    for stage in ("classify", "analyse"):
        db.execute(f"DELETE FROM processing WHERE stage = '{stage}'")
        db.conn.commit()
        assert store.count_to_process(db, stage, "v1" if stage == "analyse" else "c1") == 1
        run_stages()
        assert counts() == {"mentions": 1, "quotes": 1, "classifications": 2, "processing": 2}
    assert [(r["task"], r["target"], r["label"]) for r in db.query(
        "SELECT task, target, label FROM classifications ORDER BY task")] == [("tone", "hwfrs", "neutral"),
                                                                              ("topics", "", "fire")]


def test_views_show_the_readable_url_and_old_rows_keep_theirs(tmp_path):
    """m018: article_summary, quotes_by_speaker and syndication give the address a reader opens
    (``link_url``), not the normalised identity key; a row stored before m018 has no link_url and shows
    the URL it was fetched from."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    db.execute("DROP VIEW IF EXISTS syndication")
    db.execute("DROP VIEW IF EXISTS most_quoted")
    db.execute("DROP VIEW IF EXISTS quotes_by_speaker")
    for name, sql in (("quotes_by_speaker", store.schema._VIEWS_V8["quotes_by_speaker"]),
                      ("most_quoted", store.schema._VIEWS_V12["most_quoted"]),
                      ("syndication", store.schema._VIEWS_V6["syndication"])):
        db.execute(f"CREATE VIEW {name} AS {sql}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm018_article_link_url'")
    store.schema.refresh_label_views(db, summary=store.schema._VIEWS_V9["article_summary"])
    db.conn.commit()
    db.execute("ALTER TABLE articles DROP COLUMN link_url")   # as a database from before m018 is
    db.execute("INSERT INTO articles (url, canonical_url, title, first_seen_at, last_seen_at, content_hash) "
               "VALUES ('https://m.example.com/news/barn-fire/?utm_source=x', 'https://www.example.com/news/barn-fire', "
               "'Barn fire', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 'h')")
    db.conn.commit()
    old_id = db.execute("SELECT id FROM articles").fetchone()[0]
    assert db.execute("SELECT url FROM article_summary").fetchone()[0] == "https://www.example.com/news/barn-fire"

    db = store.connect(path)   # m018 runs
    _, new_id = save_article(db, _item(url="https://www.example.com/news/2/", canonical_url="https://www.example.com/news/2",
                                       link_url="https://www.example.com/news/2/", title="Barn fire copy"), None, None)
    db.execute("UPDATE articles SET duplicate_of = ? WHERE id = ?", [old_id, new_id])
    db.execute("INSERT INTO quotes (article_id, speaker, text, start_char, end_char, analyser_version) "
               "VALUES (?, 'Mr X', 'q', 0, 1, 'v')", [old_id])
    db.conn.commit()
    assert dict(db.execute("SELECT id, link_url FROM articles").fetchall()) == {
        old_id: None, new_id: "https://www.example.com/news/2/"}
    # the old row keeps its fetched URL (no link_url is invented for it)
    assert [r["url"] for r in db.query("SELECT url FROM article_summary")] == [
        "https://m.example.com/news/barn-fire/?utm_source=x"]
    assert [r["url"] for r in db.query("SELECT url FROM quotes_by_speaker")] == [
        "https://m.example.com/news/barn-fire/?utm_source=x"]
    assert [r["url"] for r in db.query("SELECT url FROM syndication")] == [
        "https://m.example.com/news/barn-fire/?utm_source=x"]
    db.execute("UPDATE articles SET duplicate_of = NULL WHERE id = ?", [new_id])
    db.conn.commit()
    assert db.execute("SELECT url FROM article_summary WHERE article_id = ?", [new_id]).fetchone()[0] == \
        "https://www.example.com/news/2/"


def test_revised_original_releases_copies_that_no_longer_match(tmp_path):
    db = store.connect(tmp_path / "x.db")
    index = SyndicationIndex()
    body = " ".join(f"token{i}" for i in range(300))
    _, original = save_article(db, _item(body=body), None, index)
    copies = [save_article(db, _item(url=f"http://c{n}.example/1", canonical_url=f"http://c{n}.example/1",
                                     body=body + f" This story first appeared in paper {n}."), None, index)[1]
              for n in range(2)]
    unrelated = _item(url="http://z.example/9", canonical_url="http://z.example/9",
                      body=" ".join(f"other{i}" for i in range(300)))
    _, bystander = save_article(db, unrelated, None, index)
    assert dict(db.execute("SELECT id, duplicate_of FROM articles").fetchall()) == {
        original: None, copies[0]: original, copies[1]: original, bystander: None}
    # the original rewritten to other text: its copies are a story again, the second a copy of the first
    status, _ = save_article(db, _item(body=" ".join(f"fresh{i}" for i in range(300))), None, index)
    assert status == "updated"
    rows = {row[0]: row[1:] for row in db.execute("SELECT id, duplicate_of, similarity FROM articles")}
    assert rows[original] == (None, None) and rows[copies[0]] == (None, None) and rows[bystander] == (None, None)
    assert rows[copies[1]][0] == copies[0] and rows[copies[1]][1] > 0.9
    # a copy of the released story found later folds under it (it is in the index again)
    status, later = save_article(db, _item(url="http://d.example/1", canonical_url="http://d.example/1",
                                           body=body + " Syndicated."), None, index)
    assert status == "duplicate" and store.syndication_facts(db, later)["duplicate_of"] == copies[0]
    # a small edit of the original keeps a copy that still matches it
    status, _ = save_article(db, _item(body=" ".join(f"fresh{i}" for i in range(300)) + " Updated."), None, index)
    assert status == "updated"


def test_revised_copy_that_no_longer_matches_becomes_a_story(tmp_path):
    db = store.connect(tmp_path / "x.db")
    index = SyndicationIndex()
    body = " ".join(f"token{i}" for i in range(300))
    _, original = save_article(db, _item(body=body), None, index)
    copy = _item(url="http://c.example/1", canonical_url="http://c.example/1", body=body + " Also ran in the Echo.")
    _, copy_id = save_article(db, copy, None, index)
    assert store.syndication_facts(db, copy_id)["duplicate_of"] == original
    save_article(db, {**copy, "body": body + " Also ran in the Echo, corrected."}, None, index)
    assert store.syndication_facts(db, copy_id)["duplicate_of"] == original   # a small edit: still a copy
    save_article(db, {**copy, "body": " ".join(f"other{i}" for i in range(300))}, None, index)
    assert store.syndication_facts(db, copy_id)["duplicate_of"] is None


def test_a_sources_errors_in_one_run_leave_out_other_runs_sources_and_the_analysers(tmp_path):
    """``source_error_kinds``, ``source_errors`` and ``source_error_count`` (read by
    ``cuttings.failures``) see one source's ``crawl_errors`` in one run, the analyser's
    ``analyse_failed`` rows left out of the first two."""
    db = store.connect(tmp_path / "x.db")
    run, other_run = store.start_run(db, "crawl"), store.start_run(db, "crawl")
    for kind, url, source_id, run_id in [
            ("http_404", "https://a.example/gone-1", "a", run), ("timeout", "https://a.example/slow", "a", run),
            ("http_404", "https://a.example/gone-2", "a", run), ("robots_disallowed", "https://a.example/p", "a", run),
            ("analyse_failed", "https://a.example/story", "a", run), ("dns", "https://b.example/", "b", run),
            ("http_403", "https://a.example/later", "a", other_run)]:
        store.record_error(db, run_id, kind, url=url, source_id=source_id)
    assert sorted(store.source_error_kinds(db, run, "a")) == ["http_404", "robots_disallowed", "timeout"]
    assert store.source_error_kinds(db, other_run, "a") == ["http_403"]
    assert store.source_error_kinds(db, run, "c") == []
    assert store.source_errors(db, run, "a") == [
        {"kind": "http_404", "url": "https://a.example/gone-1"}, {"kind": "timeout", "url": "https://a.example/slow"},
        {"kind": "http_404", "url": "https://a.example/gone-2"},
        {"kind": "robots_disallowed", "url": "https://a.example/p"}]
    assert store.source_error_count(db, run, "a", "http_404") == 2
    assert store.source_error_count(db, run, "a", "analyse_failed") == 1
    assert store.source_error_count(db, other_run, "b", "dns") == 0
    # a plain sqlite3 connection too (``cuttings.failures.source_failed`` is given either)
    conn = sqlite3.connect(tmp_path / "x.db")
    assert sorted(store.source_error_kinds(conn, run, "a")) == ["http_404", "robots_disallowed", "timeout"]
    assert store.source_error_count(conn, run, "a", "robots_disallowed") == 1
    conn.close()


def test_entity_ids_and_all_quotes(tmp_path):
    """``entity_ids``: the watched bodies the store knows, sorted; ``all_quotes``: every stored quote
    with its linking, by article and in text order."""
    from types import SimpleNamespace

    db = store.connect(tmp_path / "x.db")
    assert store.entity_ids(db) == []
    watchlist = SimpleNamespace(version="w1", entities=[SimpleNamespace(id=entity_id, name=entity_id.upper(),
                                                                         kind="org") for entity_id in ("wm_pcc", "sfrs")])
    store.sync_entities(db, watchlist)
    assert store.entity_ids(db) == ["sfrs", "wm_pcc"]
    ids = [save_article(db, _item(url=f"http://q.example/{n}", canonical_url=f"http://q.example/{n}",
                                  body=" ".join(f"quote{n}word{i}" for i in range(50))), None)[1] for n in (1, 2)]
    for article_id, quotes in zip(reversed(ids), ([("B", 40), ("A", 5)], [("C", 10)])):
        (content_hash,) = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
        store.replace_analysis(db, {"id": article_id, "content_hash": content_hash}, "v1", [], [
            {"speaker": speaker, "speaker_id": speaker.lower(), "speaker_role": None, "entity_id": "sfrs",
             "text": "Words.", "start_char": start, "end_char": start + 6} for speaker, start in quotes])
    assert [(row["article_id"], row["speaker"], row["start_char"], row["entity_method"])
            for row in store.all_quotes(db)] == [(ids[0], "C", 10, "stated"), (ids[1], "A", 5, "stated"),
                                                 (ids[1], "B", 40, "stated")]


def _articles(db, count: int, **kw) -> list[int]:
    """``count`` stored articles of distinct text (no index: none is folded as a copy), their ids."""
    return [save_article(db, _item(url=f"http://l.example/{n}", canonical_url=f"http://l.example/{n}",
                                   body=" ".join(f"story{n}word{i}" for i in range(60)), **kw), None)[1]
            for n in range(count)]


def _hash(db, article_id: int) -> str:
    return db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()[0]


def _predict(db, article_id: int, rows: list[tuple]) -> None:
    """Store ``(task, target, label, probability, uncertain)`` predictions of one article."""
    store.replace_classifications(db, {"id": article_id, "content_hash": _hash(db, article_id)}, "c1", [
        {"task": task, "target": target, "label": label, "probability": probability, "uncertain": uncertain,
         "model_version": "m1"} for task, target, label, probability, uncertain in rows])


def test_label_candidates_least_certain_first_stories_only(tmp_path):
    """``label_candidates``: stories (no syndicated copy) with no human label for a task, uncertain first,
    then by their lowest best-probability over the pending (task, target) pairs, never classified last; a
    per-entity task waits only for stories mentioning one of its bodies or predicted for it; names are
    parameters (a quote in one is a name, not SQL)."""
    from types import SimpleNamespace

    db = store.connect(tmp_path / "x.db")
    store.sync_entities(db, SimpleNamespace(version="w1", entities=[
        SimpleNamespace(id=entity_id, name=entity_id, kind="org") for entity_id in ("wm_pcc", "sfrs", "other")]))
    a, copy, c, d, e, f, g = _articles(db, 7)
    store.set_duplicate_of(db, copy, a, 0.95)
    _predict(db, a, [("stance", "", "for", 0.9, 0), ("stance", "", "against", 0.1, 0),
                     ("tone", "wm_pcc", "negative", 0.4, 0), ("tone", "wm_pcc", "neutral", 0.35, 0)])
    _predict(db, copy, [("stance", "", "for", 0.2, 1)])
    _predict(db, c, [("stance", "", "for", 0.6, 1)])
    _predict(db, e, [("stance", "", "for", 0.3, 1)])
    _predict(db, f, [("stance", "", "for", 0.5, 0)])
    store.replace_analysis(db, {"id": d, "content_hash": _hash(db, d)}, "v1", [
        {"entity_id": "wm_pcc", "surface": "the PCC", "start_char": 0, "end_char": 7}], [])
    store.replace_analysis(db, {"id": g, "content_hash": _hash(db, g)}, "v1", [
        {"entity_id": "other", "surface": "Other", "start_char": 0, "end_char": 5}], [])
    store.add_labels(db, [(e, "stance", "", "against", "ana")])
    tone = ("tone", ["wm_pcc", "sfrs"])
    assert store.label_candidates(db, [("stance", None)]) == [(c, 1, 0.6), (f, 0, 0.5), (a, 0, 0.9),
                                                             (d, 0, None), (g, 0, None)]
    assert store.label_candidates(db, [tone]) == [(a, 0, 0.4), (d, 0, None)]
    assert store.label_candidates(db, [("stance", None), tone]) == [(c, 1, 0.6), (a, 0, 0.4), (f, 0, 0.5),
                                                                   (d, 0, None), (g, 0, None)]
    assert store.label_candidates(db, [("stance", None), tone], limit=2) == [(c, 1, 0.6), (a, 0, 0.4)]
    store.add_labels(db, [(a, "tone", "wm_pcc", "negative", "ana")])
    assert store.label_candidates(db, [tone]) == [(d, 0, None)]
    assert store.label_candidates(db, [("x' OR 1=1 --", ["wm_pcc'"])]) == []
    assert [row[0] for row in store.label_candidates(db, [("x' OR 1=1 --", None)])] == [a, c, d, e, f, g]


def test_the_labelling_tools_reads_of_labels_and_predictions(tmp_path):
    """``human_label_rows``: every label row as written, in order (of some articles); ``labelled_tasks``:
    the tasks an article has a label for; ``article_classifications``: its predictions by task and
    target, most probable first."""
    db = store.connect(tmp_path / "x.db")
    a, b, c = _articles(db, 3)
    assert store.human_label_rows(db) == [] and store.labelled_tasks(db, a) == set()
    store.add_labels(db, [(b, "topics", "", "fire", "ana"), (a, "stance", "", "for", "bo")])
    store.add_labels(db, [(a, "topics", "fire", "__rejected__", "ana"), (b, "topics", "", "police", "cy")])
    assert store.human_label_rows(db) == [(b, "topics", "", "fire", "ana"), (a, "stance", "", "for", "bo"),
                                          (a, "topics", "fire", "__rejected__", "ana"),
                                          (b, "topics", "", "police", "cy")]
    assert store.human_label_rows(db, iter([a, c])) == [(a, "stance", "", "for", "bo"),
                                                        (a, "topics", "fire", "__rejected__", "ana")]
    assert store.human_label_rows(db, []) == []
    assert store.labelled_tasks(db, a) == {"stance", "topics"} and store.labelled_tasks(db, c) == set()
    _predict(db, a, [("tone", "wm_pcc", "neutral", 0.3, 0), ("stance", "", "against", 0.7, 1),
                     ("tone", "sfrs", "positive", 0.5, 0), ("tone", "wm_pcc", "negative", 0.6, 0),
                     ("stance", "", "for", 0.3, 1), ("topics", "", "fire", 0.5, 0), ("topics", "", "crime", 0.5, 0)])
    assert store.article_classifications(db, a) == [
        ("stance", "", "against", 0.7, 1), ("stance", "", "for", 0.3, 1), ("tone", "sfrs", "positive", 0.5, 0),
        ("tone", "wm_pcc", "negative", 0.6, 0), ("tone", "wm_pcc", "neutral", 0.3, 0),
        ("topics", "", "crime", 0.5, 0), ("topics", "", "fire", 0.5, 0)]
    assert store.article_classifications(db, b) == []


def test_article_with_outlet_and_the_story_of_an_article_or_url(tmp_path):
    """``article_with_outlet``: what the labelling screen shows, the outlet its source's name ('' with no
    source); ``story_of_url``/``story_of``: the article at a canonical URL (before one merely fetched at
    it), or its original when it is a syndicated copy; None when nothing matches."""
    from types import SimpleNamespace

    db = store.connect(tmp_path / "x.db")
    store.sync_sources(db, [SimpleNamespace(id="ledbury", name="Ledbury Reporter", home="http://l.example/",
                                            region="herefordshire", verified=True, as_dict=lambda: {})])
    # stored first, fetched at the URL that is a's canonical one (a redirect, say)
    bare = save_article(db, _item(url="http://l.example/0", canonical_url="http://z.example/bare", title="Bare",
                                  body=" ".join(f"bare{i}" for i in range(60)), published_at=None), None)[1]
    a, copy = _articles(db, 2, source_id="ledbury")
    store.set_duplicate_of(db, copy, a, 0.95)
    assert store.article_with_outlet(db, a) == {"title": "Fire crews praised",
                                                "body": " ".join(f"story0word{i}" for i in range(60)),
                                                "published_at": "2026-11-20", "canonical_url": "http://l.example/0",
                                                "outlet": "Ledbury Reporter"}
    assert store.article_with_outlet(db, bare) == {"title": "Bare", "body": " ".join(f"bare{i}" for i in range(60)),
                                                   "published_at": None, "canonical_url": "http://z.example/bare",
                                                   "outlet": ""}
    assert store.article_with_outlet(db, 999) is None
    assert store.story_of(db, a) == a and store.story_of(db, copy) == a and store.story_of(db, 999) is None
    # http://l.example/0 is a's canonical URL and bare's fetched URL: the canonical match wins
    assert store.story_of_url(db, "http://l.example/0") == a
    assert store.story_of_url(db, "http://z.example/bare") == bare
    assert store.story_of_url(db, "http://l.example/1") == a    # the copy's URL: its original
    assert store.story_of_url(db, "http://l.example/nothing") is None
    assert store.story_of_url(db, "' OR 1=1 --") is None


def _read_only(path) -> sqlite3.Connection:
    """A read-only connection with rows by name, as `cuttings doctor` opens the database."""
    conn = sqlite3.connect(f"file:{path.absolute()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _run(db, command: str, started: str, status: str | None = None, finished: str | None = None) -> int:
    """A ``crawl_runs`` row started at ``started`` (left running without ``status``), finished at ``finished``."""
    with store.clock(started):
        run = store.start_run(db, command)
    if status:
        with store.clock(finished or started):
            store.finish_run(db, run, status, message=f"{command} {status}")
    return run


def test_doctors_reads_of_runs(tmp_path):
    """``last_completed_run``: the latest ok/partial ``run`` or ``crawl...`` by start, a ``run`` first of two
    started in one second, then the higher id; ``latest_pipeline_run``: the newest ``run`` row by id, running
    included; ``latest_finished_pipeline_run``: the ``run`` that finished last; ``running_runs``;
    ``crawled_source_ids``. The same rows from a sqlite-utils Database and a plain read-only connection."""
    from types import SimpleNamespace

    path = tmp_path / "x.db"
    db = store.connect(path)
    store.sync_sources(db, [SimpleNamespace(id=source_id, name=source_id, home=f"http://{source_id}.example/",
                                            region="herefordshire", verified=True, as_dict=lambda: {})
                            for source_id in ("alpha", "zeta")])
    for read in (db, db.conn):
        assert (store.last_completed_run(read), store.latest_pipeline_run(read),
                store.latest_finished_pipeline_run(read), store.running_runs(read),
                store.crawled_source_ids(read)) == (None, None, None, [], [])
    crawl = _run(db, "crawl", "2026-12-05T01:00:00Z", "ok", "2026-12-05T01:30:00Z")
    run = _run(db, "run", "2026-12-05T01:00:00Z", "partial", "2026-12-05T02:30:00Z")
    crawl_later = _run(db, "crawl", "2026-12-05T01:00:00Z", "ok", "2026-12-05T01:10:00Z")
    _run(db, "analyse", "2026-12-05T03:00:00Z", "ok")           # not a run or crawl
    _run(db, "crawl", "2026-12-05T04:00:00Z", "failed")        # not completed
    finished_first = _run(db, "run", "2026-12-05T05:00:00Z", "failed", "2026-12-05T01:00:00Z")
    running = _run(db, "run", "2026-12-05T06:00:00Z")
    store.save_source_runs(db, [{"crawl_run_id": crawl, "source_id": source_id, "articles_new": 1}
                                for source_id in ("zeta", "alpha")]
                           + [{"crawl_run_id": crawl_later, "source_id": "alpha", "articles_new": 0}])
    db.close()
    db, conn = store.connect(path), _read_only(path)
    for read in (db, conn, db.conn):
        assert store.last_completed_run(read) == {"id": run, "command": "run", "started_at": "2026-12-05T01:00:00Z",
                                                 "status": "partial",
                                                 "stages_json": None}
        assert store.latest_pipeline_run(read) == {"id": running, "status": "running", "message": None,
                                                  "stages_json": None}
        assert store.latest_finished_pipeline_run(read) == {"id": run, "status": "partial",
                                                           "finished_at": "2026-12-05T02:30:00Z", "stages_json": None}
        assert [row["id"] for row in store.running_runs(read)] == [running]
        assert store.crawled_source_ids(read) == ["alpha", "zeta"]
    # without the run, the crawl started in the same second with the higher id
    db.execute("UPDATE crawl_runs SET command = 'runs' WHERE id = ?", [run])
    assert store.last_completed_run(db)["id"] == crawl_later
    assert store.latest_finished_pipeline_run(db)["id"] == finished_first
    conn.close()
    db.close()


def test_stage_backlog_counts_what_a_run_left_unprocessed(tmp_path):
    """``stage_backlog``: articles captured by the cut-off (the same second counts) without a stamp of the
    stage's newest version for their current text; with no stamp at all every one waits (version None);
    ``requires``: only those the earlier stage stamped for their current text. ``any_classified``."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    assert store.stage_backlog(db, "analyse", "2026-12-05T02:00:00Z") == (0, None)
    with store.clock("2026-12-05T01:00:00Z"):
        a, b, c, d = _articles(db, 4)
    with store.clock("2026-12-05T02:00:01Z"):
        save_article(db, _item(url="http://l.example/late", canonical_url="http://l.example/late",
                               body="late " * 60), None)
    assert store.stage_backlog(db, "analyse", "2026-12-05T02:00:00Z") == (4, None)
    assert store.stage_backlog(db, "analyse", "2026-12-05T02:00:01Z") == (5, None)   # the same second counts
    assert not store.any_classified(db)
    with store.clock("2026-12-05T01:10:00Z"), store.transaction(db):
        store.mark_processed(db, a, "analyse", "w1", _hash(db, a))
        store.mark_processed(db, b, "analyse", "w1", _hash(db, b))
    with store.clock("2026-12-05T01:20:00Z"), store.transaction(db):
        store.mark_processed(db, c, "analyse", "w2", _hash(db, c))     # the newest stamp: w2 runs now
        store.mark_processed(db, a, "classify", "m1", _hash(db, a))
        store.mark_processed(db, d, "classify", "m1", _hash(db, d))
    # b's text changed after its stamp (a new version captured before the cut-off)
    with store.clock("2026-12-05T01:30:00Z"):
        save_article(db, _item(url="http://l.example/1", canonical_url="http://l.example/1", body="new text " * 60), None)
    db.close()
    db, conn = store.connect(path), _read_only(path)
    for read in (db, conn):
        assert store.latest_stamp_version(read, "analyse") == "w2"
        assert store.stage_backlog(read, "analyse", "2026-12-05T02:00:00Z") == (3, "w2")   # a (w1), b, d
        assert store.stage_backlog(read, "analyse", "2026-12-05T01:15:00Z") == (2, "w2")   # a and d: b's text is newer
        assert store.stage_backlog(read, "classify", "2026-12-05T02:00:00Z") == (2, "m1")  # b (new text) and c
        assert store.stage_backlog(read, "classify", "2026-12-05T02:00:00Z", requires="analyse") == (1, "m1")   # c
        assert store.stage_backlog(read, "tag", "2026-12-05T02:00:00Z", requires="analyse") == (2, None)   # a, c
        assert store.latest_stamp_version(read, "tag") is None
        assert store.any_classified(read) is True
    conn.close()
    db.close()


def test_failed_articles_unanalysed_count_reads_the_id_from_the_recorded_message(tmp_path):
    """``failed_articles_unanalysed_count``: articles with an ``analyse_failed`` error (the id read from the
    message ``record_analyse_failures`` writes, counted once however many runs failed on it) and no analyse
    stamp of their current text; other kinds, messages of another form and deleted articles not counted."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    a, b, c, d = _articles(db, 4)
    first, second = _run(db, "run", "2026-12-05T01:00:00Z"), _run(db, "run", "2026-12-06T01:00:00Z")
    failure = {"url": "http://l.example/x", "source_id": None, "error": "IndexError: list index out of range: 3"}
    store.record_analyse_failures(db, first, [{**failure, "article_id": a}, {**failure, "article_id": b},
                                              {**failure, "article_id": c}])
    store.record_analyse_failures(db, second, [{**failure, "article_id": a}, {**failure, "article_id": 999}])
    store.record_error(db, second, store.ANALYSE_FAILED, message=f"no article id here {d}: x")
    store.record_error(db, second, "http_500", message=f"article {d}: HTTP 500")
    with store.transaction(db):
        store.mark_processed(db, c, "analyse", "w1", _hash(db, c))   # analysed since
        store.mark_processed(db, b, "analyse", "w1", "an older text")
    assert store.failed_articles_unanalysed_count(db) == 2            # a (twice) and b
    db.close()
    conn = _read_only(path)
    assert store.failed_articles_unanalysed_count(conn) == 2
    conn.close()
    db = store.connect(path)
    # the listing reads the same message format (the store's one expression): the same two articles
    assert sorted(row["article_id"] for row in store.unanalysed_articles(db)) == [a, b]
    db.close()


def test_schema_probes_on_a_read_only_connection(tmp_path):
    """``table_names_of`` leaves the connection open; ``foreign_key_problems`` names each row pointing at a
    missing one; ``integrity_problems`` is empty on a sound file; ``label_task_columns`` tells a database
    migrated past m015 (``labels_json``) from one without the table."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    (a,) = _articles(db, 1)
    db.close()
    conn = _read_only(path)
    assert {"articles", "crawl_runs", "label_tasks", "processing"} <= store.table_names_of(conn)
    assert conn.execute("SELECT 1").fetchone()[0] == 1   # still open
    assert store.foreign_key_problems(conn) == []
    assert store.integrity_problems(conn, "quick_check") == [] and store.integrity_problems(conn) == []
    from cuttings.store.schema import label_task_columns
    assert {"name", "kind", "labels_json", "absent", "attention_json"} <= label_task_columns(conn)
    conn.close()
    raw = sqlite3.connect(path)   # foreign keys off: a row pointing at a missing article
    raw.execute("INSERT INTO processing (article_id, stage, version, content_hash, processed_at) "
                "VALUES (?, 'analyse', 'w1', 'h', '2026-12-05T01:00:00Z')", [a + 100])
    raw.commit()
    raw.close()
    conn = _read_only(path)
    assert store.foreign_key_problems(conn) == [("processing", 1, "articles", 0)]
    conn.close()
    empty = sqlite3.connect(tmp_path / "empty.db")
    assert store.table_names_of(empty) == set() and label_task_columns(empty) == set()
    assert store.foreign_key_problems(empty) == []
    empty.close()


def test_a_quote_correction_follows_its_quote_when_a_revision_moves_it(tmp_path):
    """A person corrected a quote's speaker (target ``start:end``); a revision added a paragraph above the
    quote, and analyse stored the quote at new offsets: the correction applied to no quote any more and
    the machine's speaker came back. It now follows the one quote of the same words; a correction of
    words no longer quoted stays as it is (it applies to nothing)."""
    db = store.connect(tmp_path / "x.db")
    [a] = _articles(db, 1)
    article = {"id": a, "content_hash": _hash(db, a)}
    said = {"speaker": "a spokesperson", "text": "we are pleased", "start_char": 10, "end_char": 24}
    gone = {"speaker": "Mr X", "text": "it was fine", "start_char": 40, "end_char": 51}
    store.replace_analysis(db, article, "v1", [], [said, gone])
    store.add_correction(db, a, [("quote_speaker", "10:24", "John Campion"), ("quote_entity", "10:24", "wm_pcc"),
                                 ("quote_speaker", "40:51", "Jo Bloggs")], "officer")
    moved = {**said, "start_char": 80, "end_char": 94}
    store.replace_analysis(db, article, "v2", [], [moved])
    assert db.execute("SELECT speaker, entity_id, entity_method, start_char FROM quote_view WHERE article_id = ?",
                      [a]).fetchall() == [("John Campion", "wm_pcc", "corrected", 80)]
    assert db.execute("SELECT task, target, label FROM labels ORDER BY id").fetchall() == [
        ("quote_speaker", "80:94", "John Campion"), ("quote_entity", "80:94", "wm_pcc"),
        ("quote_speaker", "40:51", "Jo Bloggs")]
    # the same words twice: which one was corrected cannot be told, so nothing moves
    store.replace_analysis(db, article, "v3", [], [{**said, "start_char": 5, "end_char": 19},
                                                   {**said, "start_char": 120, "end_char": 134}])
    assert db.execute("SELECT target FROM labels WHERE task = 'quote_speaker' ORDER BY id").fetchall() == [
        ("80:94",), ("40:51",)]


def test_a_storys_labels_go_with_it_when_an_earlier_copy_takes_it_over(tmp_path):
    """Within one run the earliest-published copy becomes the story's original (``make_original``): the
    labels a person gave the story stayed on the former original, now a copy, so the story's summary
    showed the models again and it came back to the label queue. A quote correction stays with its
    article (its offsets are that article's)."""
    db = store.connect(tmp_path / "x.db")
    first, second = _articles(db, 2)
    store.add_labels(db, [(first, "stance_governance", "", "against", "officer"),
                          (first, "tone", "wm_pcc", "negative", "officer")])
    store.replace_analysis(db, {"id": first, "content_hash": _hash(db, first)}, "v1", [],
                           [{"speaker": "a spokesperson", "text": "story0word", "start_char": 0, "end_char": 10}])
    store.add_correction(db, first, [("quote_speaker", "0:10", "John Campion")], "officer")
    store.make_original(db, second, first, 0.95)
    assert db.execute("SELECT article_id, stance, tone, human_corrected FROM article_summary").fetchall() == [
        (second, "against", '{"wm_pcc":"negative"}', 1)]
    assert db.execute("SELECT article_id, task FROM labels ORDER BY id").fetchall() == [
        (second, "stance_governance"), (second, "tone"), (first, "quote_speaker")]
    assert store.label_candidates(db, [("stance_governance", None)]) == []
