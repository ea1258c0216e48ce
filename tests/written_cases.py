"""The files of written cases (``tests/places_elsewhere_sentences.txt``,
``tests/quote_attribution_sentences.txt``): one case per line, ``kind | region | expected | text``,
``-`` for no region, a trailing `` xfail # reason`` on a case still wrong; ``#`` lines are comments.
Each was written and judged by reading before the analyser ran on it."""
from collections.abc import Callable
from pathlib import Path

import pytest


def read_cases(path: Path, text: Callable[[str, str], str] = lambda kind, text: text) -> list[dict]:
    """The cases of ``path``: ``line``, ``kind``, ``region``, ``expected``, ``text`` (as ``text(kind,
    written)`` makes it, stripped) and ``xfail`` (the reason, or None)."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, region, expected, written = (part.strip() for part in line.split(" | ", 3))
        reason = None
        if " xfail # " in written:
            written, reason = written.split(" xfail # ", 1)
        cases.append({"line": number, "kind": kind, "region": None if region == "-" else region,
                      "expected": expected, "text": text(kind, written).strip(), "xfail": reason})
    return cases


def as_params(cases: list[dict], name: Callable[[dict], str]) -> list:
    """The cases as ``pytest.param``s named by ``name``, a case still wrong a strict xfail with its reason."""
    return [pytest.param(case, id=name(case),
                         marks=[pytest.mark.xfail(reason=case["xfail"], strict=True)] if case["xfail"] else [])
            for case in cases]
