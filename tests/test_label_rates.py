"""bench/label_rates.py: how each corpus slice labels a topic, given text dense in its cue words."""
from tests.conftest import load_script


def test_label_rates_count_per_slice_the_articles_dense_in_cue_words():
    label_rates = load_script("label_rates", "bench/label_rates.py").label_rates
    money = "The budget cut and the council tax precept were debated.\n\nA quiet paragraph."
    thin = "The budget was mentioned once.\n\nNothing else."
    records = [
        {"id": "t1-001", "body": money, "topics": ["finance", "governance"]},
        {"id": "t1-002", "body": money, "topics": ["governance"]},
        {"id": "gov-001", "body": money, "topics": ["governance"]},
        {"id": "gov-002", "body": thin, "topics": ["finance", "governance"]},   # one cue word: not counted
        {"id": "hw-001", "body": money, "topics": ["finance"]},
    ]
    assert label_rates(records, "finance") == {"gov": (0, 1), "hw": (1, 1), "t1": (1, 2)}
    # Only the governance stories: hw-001 drops out.
    assert label_rates(records, "finance", within="governance") == {"gov": (0, 1), "t1": (1, 2)}
