"""Natural-language processing: watchlist mentions, quotes, classifiers."""
from __future__ import annotations

from pathlib import Path


def packaged_data(*parts: str) -> Path:
    """A file of cuttings' packaged data (the repository's ``data/``, installed as the package
    ``cuttings_data``), read with :mod:`importlib.resources`; see ``cuttings/paths.py``."""
    from importlib import resources
    try:
        root = Path(str(resources.files("cuttings_data")))
    except ModuleNotFoundError:  # a checkout that was never installed
        root = Path(__file__).resolve().parent.parent / "data"
    return root.joinpath(*parts)
