"""`cuttings analyse-text`: one JSON object per input, in the documented shape."""
import json

import pytest

from nlp.scheme import load_scheme
from tests.conftest import REPO, run_cli

SCHEME = load_scheme()
ARTICLE = REPO / "data" / "corpus" / "articles" / "t1-002.txt"


def check_shape(output: dict):
    assert set(output) == {"entities", "quotes", "topics", "stance_governance", "tone"}
    for entity_id, spans in output["entities"].items():
        assert isinstance(entity_id, str)
        for span in spans:
            assert set(span) == {"text", "start", "end"}
            assert isinstance(span["start"], int) and span["end"] > span["start"]
    for quote in output["quotes"]:
        assert set(quote) == {"speaker", "entity", "text"}
    verdicts = [("topics", t) for t in output["topics"]] + [("stance_governance", output["stance_governance"])]
    verdicts += [("tone", tone) for tone in output["tone"].values()]
    for task, verdict in verdicts:
        # Every verdict says whether the model is unsure: below the task's threshold in the label scheme.
        assert set(verdict) == {"label", "probability", "uncertain"}
        assert verdict["label"] in SCHEME.tasks[task].labels and 0 <= verdict["probability"] <= 1
        assert verdict["uncertain"] is (verdict["probability"] < SCHEME.tasks[task].uncertain_below)


@pytest.mark.slow
def test_text_file(trained_models):
    result = run_cli("analyse-text", str(ARTICLE), env={"CUTTINGS_MODELS": str(trained_models)})
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().strip().splitlines()
    assert len(lines) == 1
    output = json.loads(lines[0])
    check_shape(output)
    text = ARTICLE.read_text()
    title, body = text.split("\n", 1)
    document = f"{title}\n\n{body.strip()}"
    assert {"wm_pcc", "sfrs", "west_mercia_police"} <= set(output["entities"])
    for span in output["entities"]["wm_pcc"]:
        assert document[span["start"]:span["end"]] == span["text"]
    assert "governance" in [t["label"] for t in output["topics"]]
    assert any(q["entity"] is None and "Nutting" in (q["speaker"] or "") for q in output["quotes"])


@pytest.mark.slow
def test_html_file_and_stdin(trained_models, tmp_path):
    title, body = ARTICLE.read_text().split("\n", 1)
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    page = tmp_path / "page.html"
    page.write_text(f"<!doctype html><html><head><title>{title}</title></head><body><nav><a href='/'>Home</a>"
                    f"</nav><article><h1>{title}</h1>{paragraphs}</article><footer>Cookies</footer></body></html>")
    env = {"CUTTINGS_MODELS": str(trained_models)}
    from_html = run_cli("analyse-text", str(page), "-", env=env, input=ARTICLE.read_bytes())
    assert from_html.returncode == 0, from_html.stderr.decode()
    html_out, stdin_out = [json.loads(line) for line in from_html.stdout.decode().strip().splitlines()]
    check_shape(html_out)
    check_shape(stdin_out)
    assert set(html_out["entities"]) == set(stdin_out["entities"])
    assert stdin_out["stance_governance"]["label"] == html_out["stance_governance"]["label"]


def test_missing_file_is_a_clear_error(tmp_path):
    result = run_cli("analyse-text", str(tmp_path / "missing.txt"))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "no such file" in err and "Traceback" not in err
    assert result.stdout == b""


def test_uncertain_flag_in_every_verdict():
    from pipeline import analyse_text_predictions
    prediction = {
        "topics": [{"label": "governance", "probability": 0.91, "uncertain": False},
                   {"label": "finance", "probability": 0.41234, "uncertain": True}],
        "stance_governance": {"label": "neutral", "probability": 0.5, "uncertain": True},
        "tone": {"wm_pcc": {"label": "negative", "probability": 0.55, "uncertain": True},
                 "hwfrs": {"label": "neutral", "probability": 0.8, "uncertain": False}},
    }
    output = analyse_text_predictions(prediction)
    assert output["topics"] == [{"label": "governance", "probability": 0.91, "uncertain": False},
                                {"label": "finance", "probability": 0.4123, "uncertain": True}]
    assert output["stance_governance"] == {"label": "neutral", "probability": 0.5, "uncertain": True}
    assert output["tone"]["wm_pcc"]["uncertain"] is True and output["tone"]["hwfrs"]["uncertain"] is False
    # Another scheme's task names pass through by shape.
    other = analyse_text_predictions({"subjects": [{"label": "roads", "probability": 0.7, "uncertain": False}],
                                      "mood": {"council": {"label": "bad", "probability": 0.4, "uncertain": True}}})
    assert other == {"subjects": [{"label": "roads", "probability": 0.7, "uncertain": False}],
                     "mood": {"council": {"label": "bad", "probability": 0.4, "uncertain": True}}}
