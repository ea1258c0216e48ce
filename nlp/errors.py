"""Base class of the errors ``nlp`` raises (bad scheme, watchlist or model files, missing
optional models). ``nlp`` imports nothing of the rest of the project, so this is its own
root; ``cuttings.errors.USER_ERRORS`` lists it beside ``CuttingsError``."""
from __future__ import annotations


class NlpError(Exception):
    """An nlp input a user can fix (scheme, watchlist, model files, optional models)."""
