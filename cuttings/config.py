"""Configuration files: sources (``sources.toml``, see ``cuttings.paths``) and crawl settings.

Every loader raises :class:`ConfigError` with one line naming the file and the
entry at fault, so the command line can print it without a traceback.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cuttings import paths
from cuttings.errors import CuttingsError

DEFAULT_SOURCES = paths.package_data("sources.toml")  # the packaged default; see load_sources
DEMO_SOURCES = paths.package_data("demo_sources.toml")

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ConfigError(CuttingsError, ValueError):
    """A configuration file a user must fix; the message names the file and entry."""


@dataclass
class CrawlSettings:
    """The ``[crawl]`` table of the sources file."""
    user_agent: str = "cuttings/0.1 (+https://github.com/cuttings-news/cuttings; press-cuttings monitor)"
    contact_url: str = "https://github.com/cuttings-news/cuttings"
    obey_robots: bool = True
    revisit_days: int = 3
    overlap_hours: int = 6
    # A source that failed in the last runs reads back to its last good run (minus overlap_hours),
    # but never more than this many days before the crawl (unless the normal window is longer).
    max_catch_up_days: int = 14
    max_depth: int = 2
    max_pages_per_source: int = 500
    concurrency_per_domain: int = 2
    download_delay: float = 1.0
    autothrottle: bool = True
    timeout: float = 30.0
    max_page_bytes: int = 5_000_000
    retry_times: int = 2
    search_keywords: list[str] = field(default_factory=list)
    # Hostile-web limits (docs/operations.md): internal addresses only when allowed; budgets per
    # source per run, recorded in crawl_notices when hit.
    allow_private_addresses: bool = False
    max_sitemaps_per_source: int = 100
    max_links_per_page: int = 100
    # Entries read from one sitemap: the newest by date (within --since) when it lists more.
    max_sitemap_entries: int = 5000
    max_retry_wait_per_source: float = 300.0
    # Seconds one page's extraction may take in the extraction pool (0: no limit); a page over it
    # is recorded as extract_failed and its worker replaced, so a hostile page cannot hold the crawl.
    extract_timeout: float = 60.0
    # A page with fewer words in its body is "too short" and not stored (a source's min_words
    # overrides it): briefs of a few lines are news on some outlets.
    min_article_words: int = 60


@dataclass
class Source:
    """One news outlet (or newsroom) and how to discover its articles."""
    id: str
    name: str
    home: str
    region: str | None = None
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    search: str | None = None
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    selectors: dict[str, str] = field(default_factory=dict)
    verified: bool = False
    notes: str | None = None
    hosts: list[str] = field(default_factory=list)    # other hosts serving this source's pages
    sisters: list[str] = field(default_factory=list)  # ids of sister titles (rel=canonical accepted)
    local: bool = False  # on a private/loopback address you run (demo, tests): allow fetching it
    min_words: int | None = None  # fewer words is "too short" for this source ([crawl] min_article_words)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def allow_patterns(self) -> list[re.Pattern]:
        return [re.compile(p) for p in self.allow]

    @property
    def deny_patterns(self) -> list[re.Pattern]:
        return [re.compile(p) for p in self.deny]


@dataclass(frozen=True)
class Acknowledgement:
    """One entry of the ``[doctor]`` table's ``acknowledge`` list: a warning of `cuttings doctor` the team
    knows of, shown but not counted until ``until`` (inclusive). ``check``: the check's name as doctor
    prints it ("model quality"); ``about``: what it is about, where a check says (the task of a model
    quality warning), else every warning of that check; ``note``: the team's words, shown beside it;
    ``model`` (``check = "model quality"`` only): the version of the model acknowledged, as doctor and
    `cuttings train` print it (``tone-20261205143000-1a2b3c4d``): a model trained since warns again. Without
    it, any model of the task is acknowledged (doctor then says how to pin it)."""
    check: str
    until: dt.date
    about: str | None = None
    note: str | None = None
    model: str | None = None

    @property
    def model_task(self) -> str | None:
        """The task of the pinned ``model``: ``about``, else the task its version names (``tone-…`` is tone's);
        None: no model pinned."""
        if self.model is None:
            return None
        found = re.fullmatch(r"(.+)-\d{14}-[0-9a-f]+", self.model)
        return self.about or (found.group(1) if found else self.model)


@dataclass
class SourcesConfig:
    path: Path
    crawl: CrawlSettings
    sources: list[Source]
    acknowledge: list[Acknowledgement] = field(default_factory=list)   # the [doctor] table

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources)
        raise ConfigError(f"unknown source {source_id!r} (known: {known})")

    def select(self, ids: list[str] | tuple[str, ...] | None) -> list[Source]:
        return [self.get(i) for i in ids] if ids else list(self.sources)


def _read_toml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


_TYPE_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a string",
               "list[str]": "a list of strings", "dict[str, str]": "a table of strings"}


def _check_type(value: Any, expected: str, where: str) -> None:
    """Refuse a value of the wrong TOML type (``max_pages_per_source = "lots"``). ``expected`` is
    the dataclass annotation: str, bool, int, float, list[str], dict[str, str] or ``X | None``."""
    options = [part.strip() for part in expected.split("|")]
    if value is None and "None" in options:
        return
    for option in options:
        if option == "bool" and isinstance(value, bool):
            return
        if option == "int" and isinstance(value, int) and not isinstance(value, bool):
            return
        if option == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return
        if option == "str" and isinstance(value, str):
            return
        if option.startswith("list") and isinstance(value, (list, str)):
            return  # element types: _str_list
        if option.startswith("dict") and isinstance(value, dict):
            return
    wanted = " or ".join(_TYPE_WORDS.get(o, o) for o in options if o != "None")
    raise ConfigError(f"{where}: expected {wanted}, got {value!r}")


def _check_fields(table: dict, cls, where: str) -> None:
    for key, value in table.items():
        _check_type(value, cls.__dataclass_fields__[key].type, f"{where} {key}")


_NON_NEGATIVE = ("revisit_days", "overlap_hours", "max_catch_up_days", "max_depth", "retry_times", "download_delay", "extract_timeout")
_POSITIVE = ("max_pages_per_source", "concurrency_per_domain", "timeout", "max_page_bytes", "min_article_words",
             "max_sitemap_entries")


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings")
    return list(value)


def _unknown(keys, settings) -> str:
    """Misspelt keys of a sources.toml table, each with the closest field of ``settings`` (a dataclass)
    when one is close ("max_pages (did you mean 'max_pages_per_source'?)"), as the watchlist and the
    label scheme say them (``nlp.errors.did_you_mean``)."""
    from nlp.errors import did_you_mean
    return ", ".join(key + did_you_mean(key, settings.__dataclass_fields__) for key in sorted(keys))


_ACKNOWLEDGE_FIELDS = ("check", "about", "until", "note", "model")


def _acknowledgements(table: Any, name: str) -> list[Acknowledgement]:
    """The ``[doctor]`` table: ``acknowledge``, a list of ``{ check, about, until, note }`` tables
    (docs/operations.md, "Known warnings"); each mistake one line naming the entry."""
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: [doctor] must be a table")
    unknown = set(table) - {"acknowledge"}
    if unknown:
        from nlp.errors import did_you_mean
        raise ConfigError(f"{name}: [doctor]: unknown setting(s) "
                          + ", ".join(key + did_you_mean(key, ["acknowledge"]) for key in sorted(unknown)))
    entries = table.get("acknowledge", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{name}: [doctor] acknowledge: expected a list of tables "
                          '([{ check = "model quality", about = "tone", until = 2027-01-31 }])')
    found = []
    for number, entry in enumerate(entries, 1):
        where = f"{name}: [doctor] acknowledge #{number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table such as {{ check = \"model quality\", until = 2027-01-31 }}")
        unknown = set(entry) - set(_ACKNOWLEDGE_FIELDS)
        if unknown:
            from nlp.errors import did_you_mean
            raise ConfigError(f"{where}: unknown field(s) "
                              + ", ".join(key + did_you_mean(key, _ACKNOWLEDGE_FIELDS) for key in sorted(unknown))
                              + f" (known: {', '.join(_ACKNOWLEDGE_FIELDS)})")
        for key in ("check", "about", "note", "model"):
            value = entry.get(key)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise ConfigError(f"{where}: {key}: expected a non-empty string, got {value!r}")
        if entry.get("check") is None:
            raise ConfigError(f"{where}: check is required (the check's name as `cuttings doctor` prints it, "
                              "such as \"model quality\")")
        until = entry.get("until")
        if until is None:
            raise ConfigError(f"{where}: until is required (a date such as 2027-01-31: the warning counts again "
                              "after it)")
        if isinstance(until, str):
            try:
                until = dt.date.fromisoformat(until.strip())
            except ValueError:
                raise ConfigError(f"{where}: until: {until!r} is not a date (YYYY-MM-DD)") from None
        if isinstance(until, dt.datetime) or not isinstance(until, dt.date):
            raise ConfigError(f"{where}: until: {until!r} is not a date (YYYY-MM-DD)")
        if entry.get("model") is not None and entry["check"].strip() != "model quality":
            raise ConfigError(f"{where}: model is for check = \"model quality\" (the version of the model "
                              f"acknowledged), not {entry['check'].strip()!r}")
        found.append(Acknowledgement(entry["check"].strip(), until, (entry.get("about") or "").strip() or None,
                                     entry.get("note"), (entry.get("model") or "").strip() or None))
    return found


def load_sources(path: str | Path | None = None, *, base: str | None = None) -> SourcesConfig:
    """Read a sources file. ``base`` replaces ``{base}`` in URLs (the demo site's address)."""
    path = Path(path) if path else paths.config_file("sources.toml")
    text_data = _read_toml(path)
    name = str(path)  # the path as given (full for the defaults), as `cuttings doctor` shows it
    crawl_table = text_data.get("crawl", {})
    if not isinstance(crawl_table, dict):
        raise ConfigError(f"{name}: [crawl] must be a table")
    unknown = set(crawl_table) - set(CrawlSettings.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{name}: [crawl]: unknown setting(s) {_unknown(unknown, CrawlSettings)}")
    _check_fields(crawl_table, CrawlSettings, f"{name}: [crawl]")
    for key in _NON_NEGATIVE + _POSITIVE:
        value = crawl_table.get(key)
        if value is not None and (value < 0 or (key in _POSITIVE and value == 0)):
            raise ConfigError(f"{name}: [crawl] {key}: must be {'above' if key in _POSITIVE else 'at least'} 0, "
                              f"got {value!r}")
    crawl_table = {**crawl_table, "search_keywords": _str_list(crawl_table.get("search_keywords"),
                                                               f"{name}: [crawl] search_keywords")}
    crawl = CrawlSettings(**crawl_table)

    entries = text_data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{name}: no [[source]] entries")
    sources, seen = [], set()
    known_fields = set(Source.__dataclass_fields__)
    unknown_tables = sorted(set(text_data) - {"crawl", "source", "doctor"})
    if unknown_tables:
        raise ConfigError(f"{name}: unknown table(s) {', '.join(unknown_tables)} (known: crawl, source, doctor)")
    acknowledge = _acknowledgements(text_data.get("doctor", {}), name)
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{name}: source #{number}: must be a [[source]] table")
        sid = entry.get("id")
        label = f"{name}: source #{number}" + (f" {sid!r}" if sid else "")
        if not isinstance(sid, str) or not _ID.match(sid):
            raise ConfigError(f"{label}: 'id' must be a lower-case slug (letters, digits, - and _)")
        if sid in seen:
            raise ConfigError(f"{label}: duplicate id")
        seen.add(sid)
        unknown = set(entry) - known_fields
        if unknown:
            raise ConfigError(f"{label}: unknown field(s) {_unknown(unknown, Source)}")
        _check_fields(entry, Source, f"{label}:")
        for required in ("name", "home"):
            if not isinstance(entry.get(required), str) or not entry[required].strip():
                raise ConfigError(f"{label}: missing '{required}'")
        values = dict(entry)
        for key in ("feeds", "sitemaps", "sections", "allow", "deny", "hosts", "sisters"):
            values[key] = _str_list(entry.get(key), f"{label}: '{key}'")
        for host in values["hosts"]:
            if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", host):
                raise ConfigError(f"{label}: 'hosts' entries are host names (optionally host:port), got {host!r}")
        if not isinstance(entry.get("local", False), bool):
            raise ConfigError(f"{label}: 'local' must be true or false")
        if entry.get("min_words") is not None and entry["min_words"] < 1:
            raise ConfigError(f"{label}: 'min_words' must be above 0, got {entry['min_words']!r}")
        for key in ("allow", "deny"):
            for pattern in values[key]:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(f"{label}: bad regular expression in '{key}': {pattern!r} ({exc})") from None
        selectors = entry.get("selectors", {})
        if not isinstance(selectors, dict) or not all(
                isinstance(v, str) and v.split(":", 1)[0] in ("css", "xpath") for v in selectors.values()):
            raise ConfigError(f"{label}: 'selectors' values must be strings starting css: or xpath:")
        if base is not None:
            for key in ("home", "search"):
                if isinstance(values.get(key), str):
                    values[key] = values[key].replace("{base}", base)
            for key in ("feeds", "sitemaps", "sections"):
                values[key] = [u.replace("{base}", base) for u in values[key]]
        for url in [values["home"], *values["feeds"], *values["sitemaps"], *values["sections"]]:
            if not re.match(r"^https?://", url):
                raise ConfigError(f"{label}: not an http(s) URL: {url!r}")
        sources.append(Source(**values))
    ids = {s.id for s in sources}
    for source in sources:
        unknown_sisters = [sid for sid in source.sisters if sid not in ids]
        if unknown_sisters:
            raise ConfigError(f"{name}: source {source.id!r}: 'sisters' names unknown source(s) "
                              f"{', '.join(unknown_sisters)}")
        # not a dataclass field: the sister Source objects, for the crawler's canonical-URL check
        source.sister_sources = [s for s in sources if s.id in source.sisters]
    return SourcesConfig(path=path, crawl=crawl, sources=sources, acknowledge=acknowledge)
