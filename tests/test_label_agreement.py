"""bench/label_agreement.py: how often alike stories carry the same labels, within and across slices."""
from nlp.scheme import load_scheme
from tests.conftest import load_script


def test_alike_pairs_are_counted_within_and_across_slices_and_disagreements_listed():
    label_agreement = load_script("label_agreement", "bench/label_agreement.py").label_agreement
    rise = ("Fire authority seeks views on council tax rise", "The fire authority wants to hear from residents "
            "about a rise in its share of council tax to pay for engines and crews.")
    rescue = ("Crews rescue family from flooded car", "Firefighters waded into flood water to pull a family of "
              "four from a car trapped on a ford after heavy rain.")

    def record(record_id, text, stance, tone, topics):
        return {"id": record_id, "title": text[0], "body": text[1], "stance_governance": stance,
                "tone": tone, "topics": topics}
    records = [
        record("t1-001", rise, "none", {"sfrs": "positive"}, ["finance"]),
        record("t1-002", rise, "none", {"sfrs": "positive"}, ["finance"]),
        record("t3-001", rise, "none", {"sfrs": "neutral"}, ["finance", "governance"]),
        record("hw-001", rescue, "none", {"hwfrs": "positive"}, ["incident"]),
    ]
    tasks = list(load_scheme().tasks.values())
    result = label_agreement(records, tasks, min_similarity=0.95)
    # the three council-tax stories pair up (one pair within t1, two across slices); the rescue is alone
    assert result["pairs"] == {"within": 1, "across": 2}
    assert result["agree"]["stance_governance"] == {"within": (1, 1), "across": (2, 2)}
    assert result["agree"]["tone"] == {"within": (1, 1), "across": (0, 2)}
    assert result["agree"]["topics"] == {"within": (1, 1), "across": (0, 2)}
    assert sorted((a, b) for _, a, b in result["disagreeing"]["tone"]) == [("t1-001", "t3-001"), ("t1-002", "t3-001")]
    assert "stance_governance" not in result["disagreeing"]
