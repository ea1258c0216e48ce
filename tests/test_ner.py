"""Optional statistical NER: off by default, loaded from config when named, rows in named_entities."""
import sqlite3

import spacy

from crawler.revisions import save_article
from cuttings import store
from nlp.entities import document_text
from tests.conftest import REPO, run_cli


def make_pipeline(directory):
    """A small real spaCy pipeline with an entity component, saved to disk like a model package."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Eric Carter"},
                        {"label": "ORG", "pattern": "Telford & Wrekin Council"}])
    nlp.to_disk(directory)
    return directory


def watchlist_with(tmp_path, model):
    text = (REPO / "data" / "watchlist.toml").read_text()
    path = tmp_path / "watchlist.toml"
    path.write_text(text + f'\n[analysis]\nner_model = "{model}"\n')
    return path


def test_default_watchlist_has_no_ner():
    from nlp.ner import configured_model
    assert configured_model() is None


def test_named_entities_recorded_when_configured(tmp_path):
    model = make_pipeline(tmp_path / "ner-model")
    db_path = tmp_path / "x.db"
    db = store.connect(db_path)
    save_article(db, {"url": "http://a.example/1", "canonical_url": "http://a.example/1",
                            "title": "Fire authority chairman criticises plan",
                            "body": "Councillor Eric Carter, who chairs Shropshire Fire Authority, told members that "
                                    "Telford & Wrekin Council would oppose the plan by John Campion."}, None)
    db.close()
    result = run_cli("--db", str(db_path), "analyse", "--watchlist", str(watchlist_with(tmp_path, model)))
    assert result.returncode == 0, result.stderr.decode()
    rows = sqlite3.connect(db_path).execute("SELECT label, text, start_char, end_char, analyser_version "
                                            "FROM named_entities ORDER BY start_char").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("PERSON", "Eric Carter"), ("ORG", "Telford & Wrekin Council")]
    text = document_text("Fire authority chairman criticises plan", "Councillor Eric Carter, who chairs "
                               "Shropshire Fire Authority, told members that Telford & Wrekin Council would "
                               "oppose the plan by John Campion.")
    assert all(text[r[2]:r[3]] == r[1] for r in rows)
    assert "+ner:" in rows[0][4]
    mentions = sqlite3.connect(db_path).execute("SELECT DISTINCT entity_id FROM mentions").fetchall()
    assert {"shropshire_fire_authority", "wm_pcc"} <= {m[0] for m in mentions}


def test_missing_ner_model_is_a_clear_error(tmp_path):
    db_path = tmp_path / "x.db"
    store.connect(db_path).close()
    result = run_cli("--db", str(db_path), "analyse", "--watchlist",
                     str(watchlist_with(tmp_path, "no_such_spacy_pipeline")))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "ner_model 'no_such_spacy_pipeline' is not installed" in err and "Traceback" not in err
