"""A new analyser version re-classifies only the articles whose classifier inputs changed.

The classify stage's version carries the analyser's (tone reads the sentences that mention each entity), so
any analyser change (a watchlist edit, even a comment; a new cuttings) used to re-predict every article,
although most articles' mentions and quotes come out of the re-analysis identical. Since m034 each classify
stamp keeps a digest of what the classifiers read of the article (title, body, mentions, quotes) and of the
models (``processing.inputs_digest``): an article whose digest is unchanged keeps its predictions and is
stamped with the new version; any other is predicted again."""

from sqlite_utils import Database

from crawler.revisions import save_article
from cuttings import stages, store
from tests.conftest import query_rows
from tests.test_models_fit import SHIPPED, FakeClassifier
from tests.test_quote_corrections_by_id import _article

MENTION = {"entity_id": "hwfrs", "surface": "Hereford & Worcester Fire and Rescue Service", "start_char": 0,
           "end_char": 44, "sentence": 0, "paragraph": 0, "method": "matched"}
QUOTE = {"speaker": "Jo Bloggs", "speaker_id": "jo bloggs", "speaker_role": "chief fire officer",
         "entity_id": "hwfrs", "entity_method": "stated", "text": "We will keep every station open.",
         "start_char": 60, "end_char": 92}


class PredictingClassifier(FakeClassifier):
    """The fake models, predicting: each document a topic and, per mentioned entity, a tone; every
    document it is asked about is recorded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[str] = []

    def predict_many(self, docs):
        self.asked += [doc["title"] for doc in docs]
        return [{"topics": [{"label": "finance", "probability": 0.9}],
                 "tone": {m["entity_id"]: {"label": "negative", "probability": 0.8} for m in doc["mentions"]}}
                for doc in docs]


def _articles(db, n=3):
    db.conn.executemany("INSERT INTO entities (id, name, kind) VALUES (?, ?, 'organisation')",
                        [("hwfrs", "Hereford & Worcester Fire and Rescue Service"),
                         ("sfrs", "Shropshire Fire and Rescue Service")])
    db.conn.commit()
    articles = []
    for number in range(n):
        url = f"https://news.example/{number}"
        _status, article_id = save_article(db, {"url": url, "canonical_url": url, "title": f"Story {number}",
                                                "body": f"Hereford & Worcester Fire and Rescue Service said {number}."},
                                           None)
        [content_hash] = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
        articles.append({"id": article_id, "content_hash": content_hash})
    return articles


def _analyse(db, articles, version, mentions=(MENTION,), quotes=(QUOTE,), changed=None):
    for article in articles:
        found = list(mentions)
        if changed is not None and article["id"] == changed:
            found = [*found, {**MENTION, "entity_id": "sfrs", "surface": "Shropshire Fire and Rescue Service"}]
        store.replace_analysis(db, article, version, found, list(quotes))


def _setup(tmp_path):
    db = store.connect(tmp_path / "c.db")
    articles = _articles(db)
    _analyse(db, articles, "a-1")
    classifier = PredictingClassifier(SHIPPED)
    first = stages.classify_stage(db, classifier, analyser_version="a-1")
    assert first["articles"] == 3 and len(classifier.asked) == 3
    return db, articles, classifier


def _classifications(path):
    return query_rows(path, "SELECT article_id, task, target, label, probability, created_at FROM classifications "
                            "ORDER BY article_id, task, target")


def test_a_new_analyser_version_with_the_same_analysis_predicts_nothing_again(tmp_path):
    db, articles, classifier = _setup(tmp_path)
    before = _classifications(tmp_path / "c.db")
    _analyse(db, articles, "a-2")   # the analyser's version changed, its mentions and quotes did not
    classifier.asked.clear()
    with store.clock("2030-01-01T00:00:00Z"):
        counts = stages.classify_stage(db, classifier, analyser_version="a-2")
    assert classifier.asked == []
    assert counts["articles"] == 0 and counts["unchanged"] == 3 and counts["classifications"] == 0
    assert _classifications(tmp_path / "c.db") == before   # kept as they were, created_at included
    stamps = query_rows(tmp_path / "c.db", "SELECT version, processed_at FROM processing WHERE stage = 'classify'")
    version = stages.classify_version(classifier, "a-2")
    assert stamps == [{"version": version, "processed_at": "2030-01-01T00:00:00Z"}] * 3
    # and nothing is left to classify at the new version
    assert store.count_to_process(db, "classify", version, requires=("analyse", "a-2")) == 0
    again = stages.classify_stage(db, classifier, analyser_version="a-2")
    assert again["articles"] == 0 and again["unchanged"] == 0 and classifier.asked == []


def test_only_the_article_whose_mentions_changed_is_predicted_again(tmp_path):
    db, articles, classifier = _setup(tmp_path)
    _analyse(db, articles, "a-2", changed=articles[1]["id"])
    classifier.asked.clear()
    counts = stages.classify_stage(db, classifier, analyser_version="a-2")
    assert classifier.asked == ["Story 1"]
    assert counts["articles"] == 1 and counts["unchanged"] == 2
    tones = query_rows(tmp_path / "c.db", "SELECT article_id, target FROM classifications WHERE task = 'tone' "
                                          "ORDER BY article_id, target")
    assert [(row["article_id"], row["target"]) for row in tones] == [
        (articles[0]["id"], "hwfrs"), (articles[1]["id"], "hwfrs"), (articles[1]["id"], "sfrs"),
        (articles[2]["id"], "hwfrs")]


def test_a_changed_quote_is_a_changed_input(tmp_path):
    db, articles, classifier = _setup(tmp_path)
    _analyse(db, articles, "a-2", quotes=[{**QUOTE, "speaker_role": "chair"}])
    classifier.asked.clear()
    counts = stages.classify_stage(db, classifier, analyser_version="a-2")
    assert sorted(classifier.asked) == ["Story 0", "Story 1", "Story 2"] and counts["unchanged"] == 0


def test_new_models_predict_every_article_again_whatever_its_inputs(tmp_path):
    db, articles, classifier = _setup(tmp_path)
    retrained = PredictingClassifier(SHIPPED)
    retrained.versions = {task: f"{version}-retrained" for task, version in retrained.versions.items()}
    for task, card in retrained.cards.items():
        card["model_version"] = retrained.versions[task]
    counts = stages.classify_stage(db, retrained, analyser_version="a-1")
    assert len(retrained.asked) == 3 and counts["articles"] == 3 and counts["unchanged"] == 0


def test_a_quote_relinked_to_another_body_is_classified_again(tmp_path):
    """link_known_speakers marks the articles whose quote links changed ('quotes relinked'): the link is an input."""
    db, articles, classifier = _setup(tmp_path)
    quote_id = db.execute("SELECT id FROM quotes WHERE article_id = ?", [articles[2]["id"]]).fetchone()[0]
    store.relink_quotes(db, [{"id": quote_id, "article_id": articles[2]["id"], "entity_id": "sfrs",
                              "entity_method": "known_speaker"}], invalidate_stage="classify")
    classifier.asked.clear()
    counts = stages.classify_stage(db, classifier, analyser_version="a-1")
    assert classifier.asked == ["Story 2"] and counts["articles"] == 1


def test_a_relink_that_puts_back_the_same_link_predicts_nothing(tmp_path):
    """A re-analysis drops the links known speakers gave and the stage links them again, identically: the
    stamp says 'quotes relinked', the inputs are the ones classified."""
    db, articles, classifier = _setup(tmp_path)
    quote = db.execute("SELECT id, entity_id, entity_method FROM quotes WHERE article_id = ?",
                       [articles[0]["id"]]).fetchone()
    store.relink_quotes(db, [{"id": quote[0], "article_id": articles[0]["id"], "entity_id": quote[1],
                              "entity_method": quote[2]}], invalidate_stage="classify")
    classifier.asked.clear()
    counts = stages.classify_stage(db, classifier, analyser_version="a-1")
    assert classifier.asked == [] and counts["unchanged"] == 1


def test_a_stamp_from_before_m034_has_no_digest_and_is_classified_again(tmp_path):
    db, articles, classifier = _setup(tmp_path)
    db.execute("UPDATE processing SET inputs_digest = NULL WHERE stage = 'classify'")
    _analyse(db, articles, "a-2")
    classifier.asked.clear()
    counts = stages.classify_stage(db, classifier, analyser_version="a-2")
    assert len(classifier.asked) == 3 and counts["unchanged"] == 0
    digests = query_rows(tmp_path / "c.db", "SELECT inputs_digest FROM processing WHERE stage = 'classify'")
    assert all(len(row["inputs_digest"]) == 64 for row in digests)


def test_the_parallel_stage_skips_the_same_articles(tmp_path):
    db, articles, classifier = _setup(tmp_path)
    _analyse(db, articles, "a-2", changed=articles[0]["id"])
    classifier.asked.clear()
    sent = []

    def predict_batches(batches):
        sent.extend(batches)
        return [classifier.predict_many(batch) for batch in batches]

    counts = stages.classify_stage(db, classifier, analyser_version="a-2", predict_batches=predict_batches)
    assert [[doc["title"] for doc in batch] for batch in sent] == [["Story 0"]]
    assert counts["articles"] == 1 and counts["unchanged"] == 2


def test_m034_adds_the_digest_column_and_keeps_the_stamps(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    store.migrations.apply(old, stop_before="m034_classify_inputs_digest")
    assert "inputs_digest" not in {column.name for column in old["processing"].columns}
    article = _article(old)
    store.replace_analysis(old, article, "a-1", [MENTION], [QUOTE])
    old.conn.execute("INSERT INTO processing (article_id, stage, version, content_hash, processed_at) "
                     "VALUES (?, 'classify', 'v', ?, '2026-12-01T00:00:00Z')", [article["id"], article["content_hash"]])
    old.conn.commit()
    old.conn.close()
    db = store.connect(path)
    assert db.execute("SELECT stage, version, inputs_digest FROM processing ORDER BY stage").fetchall() == [
        ("analyse", "a-1", None), ("classify", "v", None)]


def test_classify_says_how_many_kept_their_labels(tmp_path, monkeypatch):
    import pipeline
    from tests.conftest import invoke_cli

    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(pipeline, "load_classifier", lambda *a, **k: FakeClassifier(SHIPPED))
    store.connect(tmp_path / "c.db").conn.close()
    for kept, words in ((2, "; 2 articles kept their labels (what the models read of them is unchanged)"),
                        (1, "; 1 article kept its labels (what the models read of it is unchanged)"), (0, "")):
        monkeypatch.setattr(pipeline, "do_classify",
                            lambda *a, kept=kept, **k: {"articles": 1, "classifications": 3, "unchanged": kept})
        result = invoke_cli("--db", str(tmp_path / "c.db"), "classify")
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode().splitlines()[0] == f"classified 1 article (3 labels){words}"
