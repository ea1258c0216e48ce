"""The article_authors table: one row per person in a byline, written by crawler.revisions.save_article."""
from crawler.revisions import save_article
from cuttings import store


def _item(url, authors, title="Crews tackle barn fire", body="Firefighters spent the night at a barn fire."):
    return {"url": url, "canonical_url": url, "source_id": None, "title": title, "body": body,
            "author": ", ".join(authors) or None, "authors": authors, "author_source": "json-ld"}


def test_authors_stored_in_order_and_grouped_by_name_key(tmp_path):
    db = store.connect(tmp_path / "a.db")
    _, first = save_article(db, _item("https://x.example/a", ["Ana López", "Ben Ward"]), None)
    _, second = save_article(db, _item("https://x.example/b", ["ANA LOPEZ"], title="Other story",
                                             body="A completely different story about a council budget vote."), None)
    rows = [tuple(r) for r in db.execute("SELECT article_id, position, name, name_key, source FROM article_authors "
                                         "ORDER BY article_id, position")]
    assert rows == [(first, 0, "Ana López", "ana lopez", "json-ld"), (first, 1, "Ben Ward", "ben ward", "json-ld"),
                    (second, 0, "ANA LOPEZ", "ana lopez", "json-ld")]
    grouped = dict(db.execute("SELECT name_key, count(*) FROM article_authors GROUP BY name_key").fetchall())
    assert grouped == {"ana lopez": 2, "ben ward": 1}


def test_authors_replaced_on_refetch_and_deleted_with_article(tmp_path):
    db = store.connect(tmp_path / "a.db")
    _, article_id = save_article(db, _item("https://x.example/a", ["Ana López", "Ben Ward"]), None)
    save_article(db, _item("https://x.example/a", ["Ben Ward"]), None)
    assert [r[0] for r in db.execute("SELECT name FROM article_authors")] == ["Ben Ward"]
    db.execute("DELETE FROM articles WHERE id = ?", [article_id])
    assert db.execute("SELECT count(*) FROM article_authors").fetchone()[0] == 0


def test_digest_shows_the_byline_escaped(tmp_path):
    from cuttings import report
    from tests.report_fixtures import NOW, article_id, build_sample_db

    db = build_sample_db(tmp_path / "sample.db")
    store.replace_authors(db, article_id(db, "case"), ["Tom Price", "Jo <b>Bold</b>"], "markup")
    digest = report.build_digest(db, since="2026-10-01T00:00:00Z", now=NOW)
    stories = [s for g in digest["groups"] for s in g["stories"]] + digest.get("unwatched", [])
    case = next(s for s in stories if s["article_id"] == article_id(db, "case"))
    assert case["authors"] == ["Tom Price", "Jo <b>Bold</b>"]
    html = report.render_html(digest)
    assert "by Tom Price, Jo &lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold</b>" not in html
    assert "by Tom Price" in report.render_markdown(digest)
