"""Load and validate the watchlist of bodies whose mentions and quotes cuttings tracks.

The watchlist lives in ``data/watchlist.toml`` (see ``docs/watchlist.md``).  Loading refuses a
malformed file with a one-line :class:`WatchlistError` naming the entry at fault.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nlp import packaged_data
from nlp.errors import NlpError, did_you_mean, unknown_keys_problem

#: Bump when the matching rules change, so cached analyses are recomputed.
RULES_VERSION = "rules-13"

DEFAULT_WATCHLIST_PATH = packaged_data("watchlist.toml")
ENTITY_KINDS = ("organisation", "office", "person")


class WatchlistError(NlpError, ValueError):
    """The watchlist file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Holder:
    """A person who held an office from ``start`` to ``end`` (inclusive; ``end`` None = still)."""

    name: str
    start: dt.date | None
    end: dt.date | None

    @property
    def surname(self) -> str:
        return self.name.split()[-1]

    def held_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Person:
    """Someone who speaks for a body in a role (a chief fire officer, a chair), from ``start`` to
    ``end`` when known (None: not known)."""

    name: str
    role: str = ""
    start: dt.date | None = None
    end: dt.date | None = None

    def held_on(self, day: dt.date | None) -> bool:
        if day is None:
            return True
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Entity:
    """One watched body or office."""

    id: str
    name: str
    kind: str
    category: str
    aliases: tuple[str, ...]
    abbreviations: tuple[str, ...] = ()
    region_terms: tuple[str, ...] = ()
    holders: tuple[Holder, ...] = ()
    generic_references: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    speaker_roles: tuple[str, ...] = ()
    infer_from_region: bool = False
    governs: str | None = None
    area_names: tuple[str, ...] = ()
    #: area names that name the body on their own ("assisting Hereford & Worcester"): areas that
    #: are no place of their own today (a county abolished in 1998), used for the body they named
    bare_area_names: tuple[str, ...] = ()
    people: tuple["Person", ...] = ()
    display_name: str = ""  # short name for reports and Datasette ("HWFRS"); falls back to name

    def holders_on(self, day: dt.date | None) -> list[Holder]:
        """Holders in office on ``day`` (all holders when ``day`` is None)."""
        if day is None:
            return list(self.holders)
        return [holder for holder in self.holders if holder.held_on(day)]


@dataclass(frozen=True)
class Group:
    """A phrase family naming several watched bodies at once."""

    id: str
    members: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    generic_references: tuple[str, ...] = ()
    area_references: tuple[str, ...] = ()
    #: generic references ("the fire services") need every member named, not just one
    generic_needs_all: bool = False


@dataclass(frozen=True)
class Category:
    """What names a body of one category by structure: ``heads`` follow one of the body's
    ``area_names`` ("Hereford and Worcester" + "brigade"), or precede it with "in/of/for/across"
    ("the fire and rescue service in Shropshire"); ``plural_heads`` name several bodies of the
    category at once when they follow or precede a list of areas."""

    id: str
    heads: tuple[str, ...] = ()
    plural_heads: tuple[str, ...] = ()
    #: heads too general to follow a town's name ("service"): they follow only ``area_names``
    #: marked as whole areas (counties)
    weak_heads: tuple[str, ...] = ()
    #: bodies of this category have stations ("Tiverton Fire Station" is the station of the body
    #: whose ``region_terms`` hold Tiverton): a speaker there speaks for that body
    stations: bool = False
    #: bodies of this category are authorities of councillors: a councillor quoted in an article
    #: naming one speaks for it
    councillors: bool = False


@dataclass
class Watchlist:
    """The parsed watchlist: ``entities``, ``groups`` and a ``version`` string."""

    entities: list[Entity]
    groups: list[Group] = field(default_factory=list)
    categories: dict[str, "Category"] = field(default_factory=dict)
    version: str = ""
    path: Path | None = None
    #: The TOML text the watchlist was parsed from: saved with a spaCy pipeline so that it is
    #: self-contained (``parse_watchlist(source.encode())`` gives the same watchlist back).
    source: str = ""

    def get(self, entity_id: str) -> Entity:
        """The entity with ``entity_id``; KeyError if unknown."""
        for entity in self.entities:
            if entity.id == entity_id:
                return entity
        raise KeyError(entity_id)

    @property
    def ids(self) -> list[str]:
        return [entity.id for entity in self.entities]


ENTITY_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
ENTITY_KEYS = frozenset({"id", "name", "kind", "category", "aliases", "abbreviations", "region_terms", "holders",
                         "generic_references", "exclude", "speaker_roles", "infer_from_region", "governs",
                         "area_names", "bare_area_names", "people", "display_name"})
PERSON_KEYS = frozenset({"name", "role", "from", "to"})
CATEGORY_KEYS = frozenset({"id", "heads", "weak_heads", "plural_heads", "stations", "councillors"})
HOLDER_KEYS = frozenset({"name", "from", "to"})
GROUP_KEYS = frozenset({"id", "members", "aliases", "generic_references", "area_references", "generic_needs_all"})
TOP_KEYS = {"entity": None, "group": None, "category": None, "analysis": frozenset({"ner_model"})}


def _reject_unknown(raw: dict, allowed, where: str) -> None:
    """A misspelt key (``categroy``) must not be ignored silently."""
    problem = unknown_keys_problem(raw, allowed)
    if problem:
        raise WatchlistError(f"{where}: {problem}")


def _string_list(raw: dict, key: str, where: str, *, required: bool = False) -> tuple[str, ...]:
    if key not in raw:
        if required:
            raise WatchlistError(f"{where}: missing field '{key}'")
        return ()
    values = raw[key]
    if not isinstance(values, list):
        raise WatchlistError(f"{where}: '{key}' must be a list of strings")
    for value in values:
        if not isinstance(value, str):
            raise WatchlistError(f"{where}: '{key}' must be a list of strings")
        if not value.strip():
            label = {"aliases": "alias", "abbreviations": "abbreviation"}.get(key, f"entry in '{key}'")
            raise WatchlistError(f"{where}: empty {label}")
    return tuple(value.strip() for value in values)


def _parse_date(value, where: str, holder_name: str, key: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise WatchlistError(f"{where}: holder '{holder_name}': bad date {key}={value!r}") from None


def _parse_holders(raw: dict, where: str) -> tuple[Holder, ...]:
    holders = []
    for item in raw.get("holders", []):
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            raise WatchlistError(f"{where}: holder without a name")
        name = str(item["name"]).strip()
        _reject_unknown(item, HOLDER_KEYS, f"{where}: holder '{name}'")
        start = _parse_date(item.get("from"), where, name, "from")
        end = _parse_date(item.get("to"), where, name, "to")
        if start and end and end < start:
            raise WatchlistError(f"{where}: holder '{name}': 'to' is before 'from'")
        holders.append(Holder(name=name, start=start, end=end))
    return tuple(holders)


def _parse_people(raw: dict, where: str) -> tuple[Person, ...]:
    people = []
    for item in raw.get("people", []):
        if not isinstance(item, dict):
            raise WatchlistError(f"{where}: 'people' entries are tables such as {{name = \"...\", role = \"...\"}}, "
                                 f"not {item!r}")
        if not str(item.get("name", "")).strip():
            raise WatchlistError(f"{where}: person without a name")
        name = str(item["name"]).strip()
        _reject_unknown(item, PERSON_KEYS, f"{where}: person '{name}'")
        start = _parse_date(item.get("from"), where, name, "from")
        end = _parse_date(item.get("to"), where, name, "to")
        if start and end and end < start:
            raise WatchlistError(f"{where}: person '{name}': 'to' is before 'from'")
        people.append(Person(name=name, role=str(item.get("role", "")).strip(), start=start, end=end))
    return tuple(people)


def _parse_categories(raw_categories, file_label: str) -> dict[str, Category]:
    if not isinstance(raw_categories, list):
        raise WatchlistError(f"{file_label}: [[category]] entries must be tables")
    categories = {}
    for raw in raw_categories:
        category_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(category_id, str) or not category_id.strip():
            raise WatchlistError(f"{file_label}: category without 'id'")
        where = f"{file_label}: category '{category_id}'"
        _reject_unknown(raw, CATEGORY_KEYS, where)
        categories[category_id] = Category(
            id=category_id, heads=_string_list(raw, "heads", where),
            plural_heads=_string_list(raw, "plural_heads", where),
            weak_heads=_string_list(raw, "weak_heads", where),
            stations=_flag(raw, "stations", where), councillors=_flag(raw, "councillors", where))
    return categories


def _check_category(entity: Entity, given: bool, categories: dict[str, Category], file_label: str) -> None:
    """Refuse an entity's category that no [[category]] entry declares but that is a near miss of a
    declared one (``polce`` for ``police_force``): the body would silently lose that category's head
    words and flags. Other undeclared categories are free grouping words ("commissioner"), as are all
    of a watchlist that declares none."""
    if not given or not categories or entity.category in categories:
        return
    hint = did_you_mean(entity.category, categories, cutoff=CATEGORY_NEAR_MISS)
    if hint:
        where = f"{file_label}: entity '{entity.id}'"
        raise WatchlistError(f"{where}: unknown category {entity.category!r}{hint}: no [[category]] entry declares "
                             f"it (declared: {', '.join(sorted(categories))}), so no head words name the body "
                             f"by its area_names; use a declared id, or a category word unlike them")


#: How close (difflib's ratio) an undeclared category must be to a declared one to be taken for a typo.
CATEGORY_NEAR_MISS = 0.55


def _flag(raw: dict, key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise WatchlistError(f"{where}: '{key}' must be true or false")
    return value


def _parse_entity(raw: dict, file_label: str, index: int) -> Entity:
    entity_id = raw.get("id")
    if not isinstance(entity_id, str) or not entity_id.strip():
        raise WatchlistError(f"{file_label}: entity #{index + 1}: missing field 'id'")
    where = f"{file_label}: entity '{entity_id}'"
    if not ENTITY_ID.fullmatch(entity_id):
        raise WatchlistError(f"{where}: 'id' must be lower-case letters, digits, '_' or '-' (no spaces): it names "
                             f"the body in the database, the label scheme and exports")
    _reject_unknown(raw, ENTITY_KEYS, where)
    for key in ("category", "governs"):
        if key in raw and not isinstance(raw[key], str):
            raise WatchlistError(f"{where}: '{key}' must be a string, not {raw[key]!r}")
    if "infer_from_region" in raw and not isinstance(raw["infer_from_region"], bool):
        raise WatchlistError(f"{where}: 'infer_from_region' must be true or false, not {raw['infer_from_region']!r}")
    for key in ("name", "kind"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise WatchlistError(f"{where}: missing field '{key}'")
    if raw["kind"] not in ENTITY_KINDS:
        raise WatchlistError(f"{where}: kind must be one of {', '.join(ENTITY_KINDS)}, not {raw['kind']!r}")
    aliases = _string_list(raw, "aliases", where, required=True)
    abbreviations = _string_list(raw, "abbreviations", where)
    if not aliases and not abbreviations:
        raise WatchlistError(f"{where}: needs at least one alias or abbreviation")
    area_names = _string_list(raw, "area_names", where)
    bare_area_names = _string_list(raw, "bare_area_names", where)
    known_areas = {area.lower() for area in area_names}
    for bare in bare_area_names:
        if bare.lower() not in known_areas:
            raise WatchlistError(f"{where}: bare_area_names: '{bare}' is not one of its area_names")
    return Entity(
        id=entity_id,
        name=raw["name"].strip(),
        kind=raw["kind"],
        category=str(raw.get("category") or raw["kind"]),
        aliases=aliases,
        abbreviations=abbreviations,
        region_terms=_string_list(raw, "region_terms", where),
        holders=_parse_holders(raw, where),
        generic_references=_string_list(raw, "generic_references", where),
        exclude=_string_list(raw, "exclude", where),
        speaker_roles=_string_list(raw, "speaker_roles", where),
        infer_from_region=bool(raw.get("infer_from_region", False)),
        governs=raw.get("governs"),
        area_names=area_names,
        bare_area_names=bare_area_names,
        people=_parse_people(raw, where),
        display_name=str(raw.get("display_name") or "").strip(),
    )


def _parse_group(raw: dict, file_label: str, known_ids: set[str]) -> Group:
    group_id = raw.get("id")
    if not isinstance(group_id, str) or not group_id.strip():
        raise WatchlistError(f"{file_label}: group without 'id'")
    where = f"{file_label}: group '{group_id}'"
    _reject_unknown(raw, GROUP_KEYS, where)
    members = _string_list(raw, "members", where, required=True)
    unknown = [member for member in members if member not in known_ids]
    if unknown:
        raise WatchlistError(f"{where}: unknown member '{unknown[0]}'")
    return Group(
        id=group_id,
        members=members,
        aliases=_string_list(raw, "aliases", where),
        generic_references=_string_list(raw, "generic_references", where),
        area_references=_string_list(raw, "area_references", where),
        generic_needs_all=bool(raw.get("generic_needs_all", False)),
    )


def load_watchlist(path: str | Path | None = None) -> Watchlist:
    """Parse and validate a watchlist TOML file (default ``data/watchlist.toml`` in the repo)."""
    path = Path(path) if path is not None else DEFAULT_WATCHLIST_PATH
    file_label = str(path)  # the path as given, not its base name: which file to fix
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise WatchlistError(f"{file_label}: cannot read: {error.strerror}") from None
    watchlist = parse_watchlist(raw_bytes, file_label)
    watchlist.path = path
    return watchlist


def _name_key(phrase: str) -> str:
    """A name as matching reads it: case, "&" or "and", and runs of spaces aside."""
    return " ".join(phrase.lower().replace("&", " and ").split())


def _check_names_unique(entities: list[Entity], file_label: str) -> None:
    """Two bodies may not share a short name (``display_name``, else ``name``: the digest's counts, sections
    and charts and Datasette's facets tell bodies apart by it, and merged "DSFRS 1" where two bodies were
    given one), nor a name, alias or abbreviation (the same words cannot name two bodies: one of them is
    a slip, such as the force given its commissioner's title). One line naming both ids."""
    short: dict[str, str] = {}
    named: dict[str, tuple[str, str]] = {}
    for entity in entities:
        label = entity.display_name or entity.name
        other = short.setdefault(label.casefold(), entity.id)
        if other != entity.id:
            raise WatchlistError(f"{file_label}: entities '{other}' and '{entity.id}' share the short name "
                                 f"'{label}' (display_name, else name): the digest and Datasette tell bodies apart "
                                 "by it; give each its own display_name")
        for phrase in dict.fromkeys((entity.name, *entity.aliases, *entity.abbreviations)):
            key = _name_key(phrase)
            first = named.setdefault(key, (entity.id, phrase))
            if first[0] != entity.id:
                raise WatchlistError(f"{file_label}: entity '{entity.id}': '{phrase}' also names entity "
                                     f"'{first[0]}' ('{first[1]}'): a name, alias or abbreviation names one body; "
                                     "remove it from one of them (a phrase for either body in context is a "
                                     "generic_references entry)")


def parse_watchlist(raw_bytes: bytes, file_label: str = "watchlist.toml") -> Watchlist:
    """Parse and validate watchlist TOML given as bytes (what a saved spaCy pipeline stores)."""
    try:
        text = raw_bytes.decode("utf-8")
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WatchlistError(f"{file_label}: invalid TOML: {error}") from None
    raw_entities = document.get("entity")
    if not isinstance(raw_entities, list) or not raw_entities:
        raise WatchlistError(f"{file_label}: no [[entity]] entries")
    _reject_unknown(document, TOP_KEYS, file_label)
    for table, keys in TOP_KEYS.items():
        if keys is not None and table in document:
            if not isinstance(document[table], dict):
                raise WatchlistError(f"{file_label}: [{table}] must be a table")
            _reject_unknown(document[table], keys, f"{file_label}: [{table}]")
    entities: list[Entity] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entities):
        entity = _parse_entity(raw, file_label, index)
        if entity.id in seen:
            raise WatchlistError(f"{file_label}: entity '{entity.id}': duplicate id")
        seen.add(entity.id)
        entities.append(entity)
    for entity in entities:
        if entity.governs is not None and entity.governs not in seen:
            raise WatchlistError(f"{file_label}: entity '{entity.id}': governs unknown entity '{entity.governs}'")
    _check_names_unique(entities, file_label)
    groups = [_parse_group(raw, file_label, seen) for raw in document.get("group", [])]
    categories = _parse_categories(document.get("category", []), file_label)
    for raw, entity in zip(raw_entities, entities):
        _check_category(entity, "category" in raw, categories, file_label)
    digest = hashlib.sha256(raw_bytes).hexdigest()[:12]
    return Watchlist(entities=entities, groups=groups, categories=categories,
                     version=f"{digest}-{RULES_VERSION}", source=text)
