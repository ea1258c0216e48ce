"""Places that name an area on their own (``data/uk_places.txt``: nations, regions, counties, police
force areas, cities and towns of about 20,000 people or more, countries, US states, Canadian
provinces, Australian states, Irish counties), as a watchlist sees them: a listed place
that is none of the watchlist's own places (its bodies' ``region_terms``, ``area_names`` and
``bare_area_names``) is *elsewhere*. Two readers:

* the entity rules: a town of the area that the article qualifies by a place elsewhere ("Newport,
  South Wales", "Wellington in Somerset", "Kington, Ontario", "Newport, Co Mayo") is that place's
  town (:func:`qualifies_elsewhere`; the ``[broad]`` areas, "England", "West Midlands", are too
  broad to place a town elsewhere), and a story set in a town elsewhere that it qualifies ("a fire
  in Taunton, Somerset") gives the outlet's region no say (:func:`placed_elsewhere`);
* the quote rules: a speaker "of" or "from" a place elsewhere ("Inspector Tom Hale, of
  Staffordshire") speaks for no watched body (:func:`starts_elsewhere`, every section).

Villages, suburbs, streets and units are not listed, so an unlisted name is never elsewhere: "of
Hagley", "from Belle Vue", "of Economic Crime" say nothing.
"""
from __future__ import annotations

import re
from functools import lru_cache

from nlp import packaged_data

BROAD, AREAS, TOWNS = "broad", "areas", "towns"


@lru_cache(maxsize=1)
def listed_places() -> dict[str, tuple[str, ...]]:
    """The places of ``data/uk_places.txt`` by section (``broad``, ``areas``: nations, regions,
    counties, states, countries; ``towns``: cities and towns), as written."""
    sections: dict[str, list[str]] = {BROAD: [], AREAS: [], TOWNS: []}
    section = AREAS
    with open(packaged_data("uk_places.txt"), encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                sections.setdefault(section, [])
                continue
            sections[section].append(line)
    return {name: tuple(places) for name, places in sections.items()}


def own_places(watchlist) -> set[str]:
    """The watchlist's own places, lowercase: the first comma part of every region term ("Whitchurch"
    of "Whitchurch, Shropshire"), area names and bare area names, of every body."""
    own = set()
    for entity in watchlist.entities:
        for phrase in (*entity.region_terms, *entity.area_names, *entity.bare_area_names):
            own.add(phrase.split(",")[0].strip().lower())
            own.add(phrase.strip().lower())
    return own


_PATTERNS: dict[tuple[str, bool, bool], re.Pattern | None] = {}
_TOWN_PATTERNS: dict[str, re.Pattern | None] = {}
#: capitalised words that may follow a place and keep it the place: its bodies and units
NAME_CONTINUATIONS = r"(?:Police|Constabulary|CID|Fire|Council|County\s+Council)"
#: lower-case words after a place that make it a border, not the place: "on the Staffordshire border"
BORDER_WORDS = r"(?:border|borders|boundary|side|edge|line)"
#: a list of places after the first ("Bromsgrove, Birmingham, Solihull and Coventry"): the first
#: town is one of them, not qualified by the second
LIST_AFTER = re.compile(r"(?:\s*,\s*[A-Z][\w'\u2019-]*(?:\s+[A-Z][\w'\u2019-]*)*)*\s*,?\s+(?:and|&|or)\s+[A-Z]")


def _alternation(names) -> str:
    """The names as one regular-expression alternation; "County Cork" is also written "Co Cork" and
    "Co. Cork"."""
    return "|".join(re.sub(r"^County\\s\+", r"(?:County|Co\\.?)\\s+", re.escape(place).replace(r"\ ", r"\s+"))
                    for place in names)


def _whole(bodies: bool) -> str:
    """What may not follow a place's name for it to be the whole name (see :func:`_pattern`)."""
    allowed = rf"(?!{NAME_CONTINUATIONS}\b)" if bodies else ""
    return rf"(?![\w'\u2019-])(?!\s+{allowed}[A-Z0-9])(?!\s+{BORDER_WORDS}\b)"


def _pattern(watchlist, broad: bool, bodies: bool = True) -> re.Pattern | None:
    """A pattern matching a place elsewhere at the start of a string, whole words, longest first;
    ``bodies``: the place may be followed by the name of its police, fire service, council or CID."""
    key = (watchlist.version, broad, bodies)
    if key not in _PATTERNS:
        own = own_places(watchlist)
        sections = listed_places()
        places = [place for name, listed in sections.items() if broad or name != BROAD for place in listed
                  if place.lower() not in own and place.lower().removeprefix("the ") not in own]
        places.sort(key=len, reverse=True)
        words = [place for place in places if not place.isupper()]
        initials = [place for place in places if place.isupper()]   # "US", "UK", "NZ"
        # A place is the whole name: not the first word of a longer one ("Birmingham Road", "Stoke
        # Prior", "York House", "Kent Street"), unless the next word names its police, fire service,
        # council or CID ("Staffordshire Police", "Stafford CID"); nor a border's name ("on the
        # Staffordshire border"); initials are no adjective ("US ambassador").
        whole = _whole(bodies)
        parts = []
        if words:
            parts.append(rf"(?:{_alternation(words)}){whole}")
        if initials:
            parts.append(rf"(?:{_alternation(initials)}){whole}(?!\s+[a-z])")
        # "the" is optional before any of them ("of the Midlands", "from the Isle of Wight")
        _PATTERNS[key] = re.compile(rf"(?:[Tt]he\s+)?(?:{'|'.join(parts)})") if parts else None
    return _PATTERNS[key]


def starts_elsewhere(text: str, watchlist, *, broad: bool = True) -> bool:
    """Whether ``text`` starts with a place elsewhere for ``watchlist`` ("Staffordshire", "the West
    Midlands", "Stafford CID", "Powys"); ``broad=False`` leaves out the ``[broad]`` areas ("England",
    "West Midlands"), which may hold the watchlist's own area."""
    pattern = _pattern(watchlist, broad)
    return bool(pattern and pattern.match(text.strip()))


#: what may stand between a town and the place that qualifies it: "Newport, South Wales",
#: "Wellington in Somerset", "Newport (South Wales)", "Newport on the Isle of Wight", "Kington, in
#: Ontario", "Newport, on the Isle of Wight"
QUALIFIER = re.compile(r"\s*(?:,(?:\s*(?:in|on)\s)?|\(|\s(?:in|on)\s)\s*")


def _town_pattern(watchlist) -> re.Pattern | None:
    """A pattern matching a town at the start of a string, whole words: one of the ``[towns]``
    section (cities and towns, the watchlist's own included) or the first part of one of the
    watchlist's region terms that is no listed area and none of its bodies' area names ("Bromsgrove",
    "Market Drayton"; not "Shropshire", "West Mercia", "Telford and Wrekin")."""
    key = watchlist.version
    if key not in _TOWN_PATTERNS:
        sections = listed_places()
        areas = {place.lower() for name, listed in sections.items() if name != TOWNS for place in listed}
        for entity in watchlist.entities:
            areas.update(name.strip().lower() for name in (*entity.area_names, *entity.bare_area_names))
        towns = set(sections[TOWNS])
        towns.update(term.split(",")[0].strip() for entity in watchlist.entities for term in entity.region_terms
                     if term.split(",")[0].strip().lower() not in areas)
        names = sorted(towns, key=len, reverse=True)
        _TOWN_PATTERNS[key] = re.compile(rf"(?:{_alternation(names)}){_whole(False)}") if names else None
    return _TOWN_PATTERNS[key]


def _list_of_towns(place: str, following: str, watchlist) -> bool:
    """Whether a qualifier ``place`` and the text after it (``following``) are a list of towns rather
    than a chain of places: the place is a town and so is the next comma part ("Kidderminster,
    Stourbridge, Dudley attended", "Crews from Bromsgrove, Halesowen, Stourbridge"). A town holds no
    other town, so the next part of a chain is an area that can hold the place before it: a county,
    region, nation, state or country ("Whitchurch, Cardiff, Wales", "Taunton, Somerset, England").
    An unlisted name after the comma says nothing ("Shrewsbury, Wrexham, Welshpool" stays a chain)."""
    towns = _town_pattern(watchlist)
    if towns is None or not towns.fullmatch(place):
        return False
    comma = re.match(r"\s*,\s*", following)
    return bool(comma and towns.match(following, comma.end()))


def qualifies_elsewhere(after: str, watchlist, *, broad: bool = False) -> bool:
    """Whether the text right after a town (``after``) places it elsewhere: a comma, "in", "on" or
    an opening bracket, then a place elsewhere that is no broad area ("Newport, South Wales",
    "Wellington in Somerset", "Newport (South Wales)", "Newport on the Isle of Wight"; ``broad``: a
    broad area too, for a town that is itself elsewhere, "Dudley, West Midlands"). A list of
    towns, a person, a street or an abbreviation after the comma is no such place ("Ludlow, Knighton
    and Presteigne", "Bromsgrove, Birmingham, Solihull and Coventry", "Kidderminster, Stourbridge,
    Dudley", "Ludlow, Sarah Jones", "Ludlow, Corve Street", "Kidderminster on Birmingham Road",
    "Evesham, Worcs")."""
    match = QUALIFIER.match(after)
    if match is None:
        return False
    rest = after[match.end():]
    # the place itself, not its bodies: "In Market Drayton, Staffordshire Police helped" is no
    # qualifier of Market Drayton
    pattern = _pattern(watchlist, broad, bodies=False)
    found = pattern.match(rest.strip()) if pattern else None
    if found is None:
        return False
    # "Ludlow, Knighton and Wrexham", "Bromsgrove, Birmingham, Solihull and Coventry": a place
    # elsewhere in a list of towns is not this town's qualifier ("Newport, South Wales, was ...");
    # nor in a list without "and" ("Kidderminster, Stourbridge, Dudley": :func:`_list_of_towns`)
    end = found.end() + (len(rest) - len(rest.lstrip()))
    following = rest[end:end + 200]
    return not LIST_AFTER.match(following) and not _list_of_towns(found.group(), following, watchlist)


#: a preposition that sets a story in the place after it: "a fire in Taunton, Somerset", "at Bangor,
#: Gwynedd", "a barn near Stafford, Staffordshire"
LOCATIVE = re.compile(r"\b(?:[Ii]n|[Aa]t|[Nn]ear|[Oo]utside)\s+(?=(?:[Tt]he\s+)?[A-Z])")


def placed_elsewhere(text: str, watchlist) -> bool:
    """Whether ``text`` sets its story in a place elsewhere that it qualifies: "in", "at", "near" or
    "outside", a place elsewhere that is no broad area, then a place elsewhere that qualifies it, a
    broad area too ("a fire in Taunton, Somerset", "At Bangor, Gwynedd", "crews in Dudley, West
    Midlands", "a fire in Stourbridge, Dudley"), the way a story from elsewhere names its place. A
    person's home sets no story ("a driver from Stoke, Staffordshire", "Sarah Jones, of Taunton,
    Somerset"), nor does a list of towns ("in Birmingham, Coventry and Leicester") or an unlisted
    town ("in Springfield, Illinois"). The entity rules then leave the outlet's region out of an
    article that names no place of the watchlist's bodies."""
    pattern = _pattern(watchlist, False, bodies=False)
    if pattern is None:
        return False
    for preposition in LOCATIVE.finditer(text):
        found = pattern.match(text, preposition.end())
        if found and qualifies_elsewhere(text[found.end():found.end() + 200], watchlist, broad=True):
            return True
    return False
