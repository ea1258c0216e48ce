"""`counted` (cuttings.wording): the counts said in English ("1 label", "2 labels"), irregular plurals given."""
from __future__ import annotations

import pytest

from cuttings.wording import counted


@pytest.mark.parametrize(("n", "word", "plural", "said"), [
    (0, "label", None, "0 labels"),
    (1, "label", None, "1 label"),
    (2, "label", None, "2 labels"),
    (1, "labelled article", None, "1 labelled article"),
    (362, "record", None, "362 records"),
    (1, "story", "stories", "1 story"),
    (2, "story", "stories", "2 stories"),
    (0, "body", "bodies", "0 bodies"),
    (1, "body", "bodies", "1 body"),
    (-1, "label", None, "-1 labels"),
])
def test_counted_says_one_in_the_singular_and_any_other_count_in_the_plural(n, word, plural, said):
    assert counted(n, word, plural) == said
