"""`cuttings analyse-text`: one JSON object per input, in the documented shape."""
import json

import pytest

from nlp.scheme import load_scheme
from tests.conftest import REPO, run_cli
from tests.test_team_scheme import TEAM_SCHEME

SCHEME = load_scheme()
ARTICLE = REPO / "data" / "corpus" / "articles" / "t1-002.txt"


def check_shape(output: dict, scheme=SCHEME):
    """The documented shape: entities, quotes and one key per task of ``scheme`` (shipped: topics,
    stance_governance, tone), each verdict a label of its task with its ``uncertain`` flag."""
    assert set(output) == {"entities", "quotes", *scheme.tasks}
    for entity_id, spans in output["entities"].items():
        assert isinstance(entity_id, str)
        for span in spans:
            assert set(span) == {"text", "start", "end"}
            assert isinstance(span["start"], int) and span["end"] > span["start"]
    for quote in output["quotes"]:
        assert set(quote) == {"speaker", "entity", "text"}
    verdicts = []
    for name, task in scheme.tasks.items():
        value = output[name]
        if task.kind == "multi_label":
            verdicts += [(task, verdict) for verdict in value]
        elif task.kind == "single_label":
            verdicts += [(task, value)] if value is not None else []   # null: no models
        else:
            assert set(value) <= set(task.entities)
            verdicts += [(task, verdict) for verdict in value.values()]
    for task, verdict in verdicts:
        # Every verdict says whether the model is unsure: below the task's threshold in the label scheme.
        assert set(verdict) == {"label", "probability", "uncertain"}
        assert verdict["label"] in task.labels and 0 <= verdict["probability"] <= 1
        assert verdict["uncertain"] is (verdict["probability"] < task.uncertain_below)
    return verdicts


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


# Another team's scheme (Devon & Somerset: themes, stance_closures, tone_towards): analyse-text's keys are its
# task names, with its models and without; the shipped names are not printed.

def _team_corpus(path, scheme, every: int = 3) -> list[dict]:
    """Every ``every``-th seed corpus record relabelled to the team's scheme, as the team would label it."""
    from nlp.corpus import load_corpus
    from tests.test_team_scheme import STANCE_MAP, TOPIC_MAP
    rated = set(scheme.tasks["tone_towards"].entities)
    records = []
    for record in load_corpus()[::every]:
        stance = record["stance_governance"]
        team = {key: value for key, value in record.items() if key not in ("topics", "stance_governance", "tone")}
        team["themes"] = [TOPIC_MAP.get(topic, topic) for topic in record["topics"]]
        team["stance_closures"] = STANCE_MAP.get(stance, stance) if stance else stance
        team["tone_towards"] = {body: tone for body, tone in (record["tone"] or {}).items() if body in rated}
        if "entities" in record:
            team["entities"] = {body: forms for body, forms in record["entities"].items() if body in scheme.entities}
        records.append(team)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return records


def team_home(path):
    """A home folder holding the team's label scheme, and that scheme."""
    path.mkdir()
    (path / "label_scheme.toml").write_text(TEAM_SCHEME, encoding="utf-8")
    return path, load_scheme(path / "label_scheme.toml")


def test_without_models_the_keys_are_the_label_schemes_tasks(tmp_path):
    from tests.conftest import invoke_cli
    text = ARTICLE.read_bytes()
    team, scheme = team_home(tmp_path / "team")
    shipped, broken = tmp_path / "shipped", tmp_path / "broken"
    shipped.mkdir()
    broken.mkdir()
    (broken / "label_scheme.toml").write_text("version = 1\n[tasks.themes]\nkind = 'nonsense'\n", encoding="utf-8")
    outputs = {}
    for home in (team, shipped, broken):
        result = invoke_cli("analyse-text", "--models", str(tmp_path / "no-models"), "-", input=text,
                            env={"CUTTINGS_HOME": str(home)})
        assert result.returncode == 0, result.stderr.decode()
        outputs[home.name] = (json.loads(result.stdout), result.stderr.decode())
    output, _ = outputs["team"]
    assert {key: output[key] for key in output if key not in ("entities", "quotes")} == {
        "themes": [], "stance_closures": None, "tone_towards": {}}
    check_shape(output, scheme)
    assert "wm_pcc" in output["entities"]
    output, _ = outputs["shipped"]
    check_shape(output)
    assert (output["topics"], output["stance_governance"], output["tone"]) == ([], None, {})
    output, error = outputs["broken"]
    assert set(output) == {"entities", "quotes"}
    # the scheme's first problem, in one line naming the file (a task without its labels is said first)
    assert [line for line in error.splitlines()
            if "label_scheme.toml: [tasks.themes] missing key 'labels'" in line and line.endswith("no task keys in the output")]


@pytest.mark.slow
def test_another_teams_models_give_their_task_names(tmp_path):
    from tests.conftest import invoke_cli
    home, scheme = team_home(tmp_path / "home")
    _team_corpus(home / "mine.jsonl", scheme)
    env = {"CUTTINGS_HOME": str(home)}
    result = invoke_cli("--db", str(home / "c.db"), "train", "--models", str(home / "models"), "--no-slices",
                        "--folds", "2", "--corpus", str(home / "mine.jsonl"), env=env)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    result = invoke_cli("analyse-text", "--models", str(home / "models"), str(ARTICLE), env=env)
    assert result.returncode == 0, result.stderr.decode()
    output = json.loads(result.stdout)
    assert "stance_governance" not in output and "topics" not in output and "tone" not in output
    verdicts = check_shape(output, scheme)
    assert output["stance_closures"]["label"] in ("support", "oppose", "neutral", "none")
    assert output["themes"] and set(output["tone_towards"]) >= {"wm_pcc", "sfrs"}
    assert {task.name for task, _ in verdicts} == {"themes", "stance_closures", "tone_towards"}
    # a task without a model (too few labels to train it): its key is there, empty
    for suffix in (".skops", ".json"):
        (home / "models" / f"stance_closures{suffix}").unlink()
    result = invoke_cli("analyse-text", "--models", str(home / "models"), str(ARTICLE), env=env)
    assert result.returncode == 0, result.stderr.decode()
    output = json.loads(result.stdout)
    assert output["stance_closures"] is None and output["themes"] and "stance_governance" not in output
    check_shape(output, scheme)
