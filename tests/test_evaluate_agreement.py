"""`cuttings evaluate agreement`: how far two people's own labels in the database agree, per task and pair of
annotators (questions both answered, share agreeing, Cohen's kappa, a bootstrap interval from enough questions).

The figures expected are worked out by hand below from the labels the fixture writes, not read off the output."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cuttings import agreement, labelling, store
from tests.test_label import cli_group, ids_of, make_db

T1, T2, T3, T4, T5 = (f"2026-11-2{day}T09:00:00Z" for day in range(5))
REJECTED = "__rejected__"


def _db(tmp_path):
    """Three annotators' labels of make_db's five stories (confident, copy, flagged, middling, unclassified)."""
    path = tmp_path / "cuttings.db"
    make_db(path)
    db = store.connect(path)
    ids = ids_of(db)
    stance = "stance_governance"
    order = ("confident", "copy", "flagged", "middling", "unclassified")
    jsmith = dict(zip(order, ("against", "against", "none", "neutral", "favour")))
    akhan = dict(zip(order, ("against", "none", "none", "neutral", "against")))
    store.add_labels(db, [(ids[key], stance, "", label, "jsmith") for key, label in jsmith.items()]
                     + [(ids["flagged"], "topics", "", "finance", "jsmith"),
                        (ids["flagged"], "topics", "", "governance", "jsmith"),
                        (ids["middling"], "topics", "", "incident", "jsmith"),
                        (ids["copy"], "topics", "", "weather", "jsmith"),        # a topic outside the scheme
                        (ids["flagged"], "tone", "sfrs", "negative", "jsmith"),
                        (ids["middling"], "tone", "hwfrs", "neutral", "jsmith"),
                        (ids["copy"], "tone", "wm_pcc", "furious", "jsmith")], at=T1)   # a label outside it
    # akhan: first "favour" on the unclassified story, her own newer answer "against" (T3) is the one read
    store.add_labels(db, [(ids["unclassified"], stance, "", "favour", "akhan"),
                          (ids["middling"], "topics", "", "incident", "akhan"),
                          (ids["middling"], "topics", "", "prevention", "akhan")], at=T1)
    store.add_labels(db, [(ids[key], stance, "", label, "akhan") for key, label in akhan.items() if key != "unclassified"]
                     + [(ids["flagged"], "topics", "", "finance", "akhan"),
                        (ids["flagged"], "topics", "governance", REJECTED, "akhan"),
                        (ids["copy"], "topics", "", "other", "akhan"),
                        (ids["flagged"], "tone", "sfrs", "negative", "akhan"),
                        (ids["middling"], "tone", "hwfrs", "neutral", "akhan"),
                        (ids["copy"], "tone", "wm_pcc", "negative", "akhan")], at=T2)
    store.add_labels(db, [(ids["unclassified"], stance, "", "against", "akhan"),
                          (ids["middling"], "topics", "prevention", REJECTED, "akhan")], at=T3)
    # blee labels two stances at T3 (after jsmith and akhan: theirs no longer stand, their answers still count)
    store.add_labels(db, [(ids["flagged"], stance, "", "none", "blee"),
                          (ids["middling"], stance, "", "against", "blee")], at=T3)
    # the flagged story's tone is withdrawn at T4: jsmith's and akhan's answers before it are no answers;
    # akhan rates it again at T5, alone
    store.withdraw_labels(db, ids["flagged"], ["tone"], "jsmith", at=T4)
    store.add_labels(db, [(ids["flagged"], "tone", "sfrs", "positive", "akhan")], at=T5)
    db.conn.close()
    return path, ids


def _cohen(first: list[str], second: list[str]) -> float:
    """Cohen's kappa written out: (observed - chance) / (1 - chance)."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    chance = sum(first.count(label) * second.count(label) for label in set(first) | set(second)) / n / n
    return (observed - chance) / (1 - chance)


def _evaluate(path, *args):
    return CliRunner().invoke(cli_group(), ["--db", str(path), "evaluate", "agreement", *args])


def test_figures_per_task_and_pair(tmp_path):
    path, _ids = _db(tmp_path)
    result = _evaluate(path, "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["agreement"]
    assert list(figures) == ["topics", "stance_governance", "tone"]   # the scheme's order

    # stance: jsmith and akhan answered all five (akhan's own newest on the unclassified story: against);
    # they agree on confident, flagged, middling
    jsmith = ["against", "against", "none", "neutral", "favour"]
    akhan = ["against", "none", "none", "neutral", "against"]
    # chance: against 2x2, none 1x2, neutral 1x1, favour 1x0 over 25 = 0.28; (0.6 - 0.28) / 0.72
    assert _cohen(akhan, jsmith) == pytest.approx(0.32 / 0.72)
    pairs = {tuple(pair["annotators"]): pair for pair in figures["stance_governance"]}
    assert list(pairs) == [("akhan", "blee"), ("akhan", "jsmith"), ("blee", "jsmith")]
    assert (pairs["akhan", "jsmith"]["questions"], pairs["akhan", "jsmith"]["agreeing"]) == (5, 3)
    assert pairs["akhan", "jsmith"]["share_agreeing"] == 0.6
    assert pairs["akhan", "jsmith"]["kappa"] == pytest.approx(0.32 / 0.72, abs=1e-4)
    assert pairs["akhan", "jsmith"]["kappa_interval"] is None   # 5 questions: too few for an interval
    # blee answered flagged (none: as both) and middling (against: neither); her rows standing over theirs
    # leave their own answers counted
    for pair in ("akhan", "blee"), ("blee", "jsmith"):
        assert (pairs[pair]["questions"], pairs[pair]["agreeing"], pairs[pair]["stories"]) == (2, 1, 2)
        # observed 1/2, chance (none 1x1) / 4 = 1/4: (1/2 - 1/4) / (3/4)
        assert pairs[pair]["kappa"] == pytest.approx(1 / 3, abs=1e-4)

    # topics: every topic of the scheme a yes/no question, on the two stories both answered (jsmith's "weather"
    # on the copy is no topic of the scheme: no answer of hers there)
    topics = labelling.load_label_tasks()["topics"].labels
    assert len(topics) == 9
    (pair,) = figures["topics"]
    assert pair["annotators"] == ["akhan", "jsmith"] and pair["stories"] == 2
    assert pair["questions"] == 2 * len(topics)
    # flagged: finance yes/yes, governance no (akhan rejected it) / yes; middling: incident yes/yes,
    # prevention no (akhan took it back at T3) / no; every other topic no/no
    akhan_topics = ["yes", "no"] + ["no"] * 7 + ["yes", "no"] + ["no"] * 7
    jsmith_topics = ["yes", "yes"] + ["no"] * 7 + ["yes", "no"] + ["no"] * 7
    assert pair["agreeing"] == 17 and pair["share_agreeing"] == round(17 / 18, 4)
    assert pair["answers"] == {"yes": {"yes": 2}, "no": {"no": 15, "yes": 1}}   # akhan's answer, then jsmith's
    # chance: (2 x 3 + 16 x 15) / 324; kappa = 60 / 78
    assert _cohen(akhan_topics, jsmith_topics) == pytest.approx(60 / 78)
    assert pair["kappa"] == pytest.approx(60 / 78, abs=1e-4)

    # tone: the flagged story's ratings were withdrawn, akhan's later one is alone; jsmith's "furious" on the
    # copy is no answer; the middling story's hwfrs: both neutral, one label throughout, kappa undefined
    (pair,) = figures["tone"]
    assert (pair["questions"], pair["agreeing"], pair["kappa"]) == (1, 1, None)
    assert pair["answers"] == {"neutral": {"neutral": 1}}


def test_the_table_and_the_tasks_named(tmp_path):
    path, _ids = _db(tmp_path)
    result = _evaluate(path, "stance_governance")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line.split() for line in lines if line.startswith("stance_governance")]
    assert [row[1:7] for row in rows] == [["akhan", "/", "blee", "2", "2", "0.500"],
                                          ["akhan", "/", "jsmith", "5", "5", "0.600"],
                                          ["blee", "/", "jsmith", "2", "2", "0.500"]]
    assert [row[7] for row in rows] == ["0.333", "0.444", "0.333"]
    assert not any(line.startswith(("topics", "tone")) for line in lines)   # only the task named


def test_one_line_and_exit_1_without_two_annotators(tmp_path):
    path = tmp_path / "cuttings.db"
    make_db(path)
    db = store.connect(path)
    ids = ids_of(db)
    store.add_labels(db, [(ids["flagged"], "stance_governance", "", "against", "jsmith"),
                          (ids["middling"], "stance_governance", "", "none", "akhan")], at=T1)  # no story in common
    db.conn.close()
    result = _evaluate(path)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"Error: no two annotators in {path} answered a common question")


def test_refused_with_what_measures_the_classifiers(tmp_path):
    path, _ids = _db(tmp_path)
    for args, word in ((["--slices"], "--slices"), (["--corpus", "none"], "--corpus"), (["entities"], "entities")):
        result = _evaluate(path, *args)
        assert result.exit_code == 1 and word in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(cli_group(), ["--db", str(tmp_path / "none.db"), "evaluate", "agreement"])
    assert result.exit_code == 1 and "no database at" in result.output


def test_interval_from_enough_questions_resamples_stories():
    # 10 stories of 3 questions each; the two people disagree on one question of each of stories 0-2
    questions = [(story, "stance", str(i)) for story in range(10) for i in range(3)]
    first = ["a", "b", "c"] * 10
    second = list(first)
    for story in range(3):
        second[story * 3] = "b"
    figures = agreement.pair_figures(questions, first, second)
    assert (figures["questions"], figures["stories"], figures["agreeing"]) == (30, 10, 27)
    value = _cohen(first, second)
    assert figures["kappa"] == pytest.approx(value, abs=1e-4)
    low, high = figures["kappa_interval"]
    assert low < value < high <= 1.0
    # the resamples' kappas are sklearn's with the same weights
    import numpy as np
    from sklearn.metrics import cohen_kappa_score
    weights = np.array([[1.0] * 30, [2.0] * 3 + [0.0] * 3 + [1.0] * 24])
    assert agreement.kappas(first, second, weights) == pytest.approx(
        [cohen_kappa_score(first, second, sample_weight=row) for row in weights])
    # all the same answers: kappa 1 and an interval of [1, 1]
    assert agreement.pair_figures(questions, first, first)["kappa_interval"] == [1.0, 1.0]
    # 19 questions: no interval
    assert agreement.pair_figures(questions[:19], first[:19], second[:19])["kappa_interval"] is None
