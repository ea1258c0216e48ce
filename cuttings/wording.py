"""How counts are said in the lines people read (summaries, notes, doctor's checks): one place for the
library modules and the command line alike, so a library module need not import the command line's."""
from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and ``word`` as English says them: ``counted(1, "label")`` is "1 label", ``counted(2, "label")``
    "2 labels", ``counted(0, "label")`` "0 labels". An irregular plural is given: ``counted(2, "story",
    "stories")``. Only the noun changes: a verb after it (``"1 label was"``) is the caller's."""
    return f"{n} {noun(n, word, plural)}"


def noun(n: int, word: str, plural: str | None = None) -> str:
    """The noun :func:`counted` gives ``n`` of, alone: for prose that puts words between the count and its noun
    ("3 more stories", "and 1 more story about ..."): ``noun(1, "story", "stories")`` is "story"."""
    return word if n == 1 else plural or word + "s"
