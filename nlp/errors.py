"""Base class of the errors ``nlp`` raises (bad scheme, watchlist or model files, missing
optional models). ``nlp`` imports nothing of the rest of the project, so this is its own
root; ``cuttings.errors.USER_ERRORS`` lists it beside ``CuttingsError``."""
from __future__ import annotations


class NlpError(Exception):
    """An nlp input a user can fix (scheme, watchlist, model files, optional models)."""


def unknown_keys_problem(raw, allowed) -> str | None:
    """Why ``raw`` (a TOML table's keys) holds keys outside ``allowed``, in words ("unknown key
    'exclusve' (did you mean 'exclusive'?; known: ...)"), or None when it does not: a misspelt key
    must never be ignored silently. Shared by the watchlist and the label scheme loaders."""
    import difflib
    unknown = sorted(set(raw) - set(allowed))
    if not unknown:
        return None
    guesses = [f"{key!r} -> {close[0]!r}" for key in unknown
               if (close := difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75))]
    hint = ""
    if len(unknown) == 1 and guesses:
        hint = f"did you mean {guesses[0].split(' -> ')[1]}?; "
    elif guesses:
        hint = f"did you mean {', '.join(guesses)}?; "
    return (f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} "
            f"({hint}known: {', '.join(sorted(allowed))})")


def did_you_mean(value: str, choices, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to a misspelt ``value`` (difflib's ratio at
    least ``cutoff``), else ``""``."""
    import difflib
    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""
