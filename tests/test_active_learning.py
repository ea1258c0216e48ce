"""bench/active_learning.py: the labelling queue's order, as the simulation applies it to predictions."""
from tests.conftest import load_script


def test_queue_order_puts_uncertain_stories_first_then_the_least_confident():
    queue_order = load_script("active_learning", "bench/active_learning.py").queue_order

    def p(probability, uncertain=False):
        return {"label": "x", "probability": probability, "uncertain": uncertain}
    predictions = [
        {"topics": [p(0.9), p(0.6)], "stance_governance": p(0.95), "tone": {}},               # sure: 0.9
        {"topics": [p(0.8)], "stance_governance": p(0.7), "tone": {"hwfrs": p(0.55)}},      # sure: 0.55
        {"topics": [p(0.99)], "stance_governance": p(0.4, uncertain=True), "tone": {}},     # flagged
        {"topics": [p(0.7)], "stance_governance": p(0.97), "tone": {"sfrs": p(0.9), "wm_pcc": p(0.5, True)}},
    ]
    # flagged stories first (by their lowest probability), then the least confident of the rest
    assert queue_order(predictions) == [2, 3, 1, 0]
    # a flag on any topic flags the story, as the stored rows' max(uncertain) does in the queue
    assert queue_order([{"topics": [p(0.6)], "stance_governance": p(0.99)},
                        {"topics": [p(0.95), p(0.45, True)], "stance_governance": p(0.99)}]) == [1, 0]
