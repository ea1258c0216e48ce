"""Text crawled before 2026-12-06 (b1e45c9) may hold C1, bidi and invisible format characters, which the crawler
strips since: migration m035 cleans the stored copies once (articles, their versions, bylines) with the crawler's
own rule (``cuttings.redaction.strip_controls``), and keeps what is derived from the text consistent with it: the
content hash (so the article is analysed again, its offsets being those of the old text), the word count, the
byline's name key, and the MinHash fingerprint, which the next crawl computes from the clean body with the
crawler's own function before it reads any (``crawler.dedupe.SyndicationIndex.from_db``). Without it, the first
recrawl of such a page stored a spurious revision ("Edited since the last digest"), the words split by a
zero-width space no longer matching."""
from sqlite_utils import Database

from crawler import dedupe
from crawler.revisions import save_article
from cuttings import store
from cuttings.redaction import CONTROL_CHARS

DIRTY = {"title": "Fire chief\u202e warns", "author": "Jo\u200b Bloggs",
         "body": "HW\u200bFRS crews \x9b31m attended a fire in Ross-on-Wye on Tuesday night. " * 6,
         "description": "A \u2066fire\u2069 in Ross", "section": "News\u200b"}
CLEAN = {"title": "Fire chief warns", "author": "Jo Bloggs",
         "body": "HWFRS crews 31m attended a fire in Ross-on-Wye on Tuesday night. " * 6,
         "description": "A fire in Ross", "section": "News"}
OTHER = {"title": "Council meets", "body": "The fire authority met on Monday to set its budget for the year. " * 6}


def _item(number: int, fields: dict) -> dict:
    url = f"https://news.example/{number}"
    return {"url": url, "canonical_url": url, **fields}


def _old_database(path):
    db = Database(path)
    store.migrations.apply(db, stop_before="m035_strip_stored_controls")
    _status, dirty = save_article(db, _item(1, DIRTY), None)
    _status, other = save_article(db, _item(2, OTHER), None)
    store.replace_authors(db, dirty, ["Jo\u200b Bloggs", "Sam\u202e Smith"], "meta")
    for article_id in (dirty, other):
        row = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
        store.mark_processed(db, article_id, "analyse", "a-1", row[0])
    db.conn.commit()
    before = {table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
              for table in ("articles", "article_versions", "article_fingerprints", "article_authors")}
    db.conn.close()
    return dirty, other, before


def test_m035_strips_the_controls_and_keeps_hash_words_and_names_consistent(tmp_path):
    dirty, other, before = _old_database(tmp_path / "old.db")
    db = store.connect(tmp_path / "old.db")
    row = dict(next(db.query("SELECT * FROM articles WHERE id = ?", [dirty])))
    for field, value in CLEAN.items():
        assert row[field] == value, field
    assert row["content_hash"] == store.content_hash(CLEAN["title"], CLEAN["body"])
    assert row["word_count"] == store.word_count(CLEAN["body"])
    version = dict(next(db.query("SELECT title, body, content_hash FROM article_versions WHERE article_id = ?",
                                 [dirty])))
    assert version == {"title": CLEAN["title"], "body": CLEAN["body"], "content_hash": row["content_hash"]}
    assert db.execute("SELECT name, name_key FROM article_authors WHERE article_id = ? ORDER BY position",
                      [dirty]).fetchall() == [("Jo Bloggs", "jo bloggs"), ("Sam Smith", "sam smith")]
    for table in ("articles", "article_versions", "article_authors"):
        for values in db.execute(f"SELECT * FROM {table}").fetchall():
            assert not any(isinstance(v, str) and CONTROL_CHARS.search(v) for v in values), (table, values)
    # the article whose text was clean is as it was, its analysis still current; the cleaned one is analysed again
    after = {table: db.execute(f"SELECT * FROM {table} WHERE {'id' if table == 'articles' else 'article_id'} = ? "
                               "ORDER BY 1", [other]).fetchall()
             for table in ("articles", "article_versions", "article_fingerprints")}
    assert after == {table: [r for r in rows if r[0 if table == "articles" else
                                                   (1 if table == "article_versions" else 0)] == other]
                     for table, rows in before.items() if table != "article_authors"}
    assert [a["id"] for a in store.articles_to_process(db, "analyse", "a-1")] == [dirty]


def test_the_next_crawl_fingerprints_the_clean_body_with_the_crawlers_function(tmp_path):
    dirty, other, before = _old_database(tmp_path / "old.db")
    db = store.connect(tmp_path / "old.db")
    assert db.execute("SELECT count(*) FROM article_fingerprints WHERE article_id = ?", [dirty]).fetchone()[0] == 0
    index = dedupe.SyndicationIndex.from_db(db)
    assert dirty in index.hashes and other in index.hashes
    [blob] = db.execute("SELECT minhash FROM article_fingerprints WHERE article_id = ?", [dirty]).fetchone()
    assert blob == dedupe.to_blob(dedupe.fingerprint(CLEAN["body"]))
    [other_blob] = db.execute("SELECT minhash FROM article_fingerprints WHERE article_id = ?", [other]).fetchone()
    assert other_blob == [r[1] for r in before["article_fingerprints"] if r[0] == other][0]


def test_a_recrawl_of_the_cleaned_page_is_no_revision(tmp_path):
    """The crawler stores the page without its controls now: after m035 that is the stored text, unchanged."""
    dirty, _other, _before = _old_database(tmp_path / "old.db")
    db = store.connect(tmp_path / "old.db")
    index = dedupe.SyndicationIndex.from_db(db)
    status, article_id = save_article(db, _item(1, CLEAN), None, index)
    assert (status, article_id) == ("unchanged", dirty)
    assert db.execute("SELECT count(*) FROM article_versions WHERE article_id = ?", [dirty]).fetchone()[0] == 1
