"""Loading and validating the watchlist TOML."""
import datetime as dt

import pytest

from nlp.watchlist import DEFAULT_WATCHLIST_PATH, WatchlistError, load_watchlist

VALID_ENTITY = '''
[[entity]]
id = "sfrs"
name = "Shropshire Fire and Rescue Service"
kind = "organisation"
aliases = ["Shropshire Fire and Rescue Service"]
'''


def write(tmp_path, text):
    path = tmp_path / "watchlist.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_watchlist_has_the_six_bodies():
    watchlist = load_watchlist()
    assert watchlist.ids == ["hwfrs", "hw_fire_authority", "sfrs", "shropshire_fire_authority", "wm_pcc",
                             "west_mercia_police"]
    pcc = watchlist.get("wm_pcc")
    assert pcc.kind == "office"
    assert [holder.name for holder in pcc.holders] == ["Bill Longmore", "John Campion"]
    assert [holder.name for holder in pcc.holders_on(dt.date(2014, 6, 1))] == ["Bill Longmore"]
    assert [holder.name for holder in pcc.holders_on(dt.date(2018, 6, 1))] == ["John Campion"]
    assert "Information Commissioner" in pcc.exclude
    assert watchlist.get("hw_fire_authority").governs == "hwfrs"
    with pytest.raises(KeyError):
        watchlist.get("nope")


def test_version_depends_on_file_bytes(tmp_path):
    first = load_watchlist(write(tmp_path, VALID_ENTITY)).version
    second = load_watchlist(write(tmp_path, VALID_ENTITY + 'abbreviations = ["SFRS"]\n')).version
    assert first != second
    assert load_watchlist(DEFAULT_WATCHLIST_PATH).version == load_watchlist().version


@pytest.mark.parametrize("text, message", [
    ("[[entity]\nid = 'x'", "watchlist.toml: invalid TOML"),
    (VALID_ENTITY + VALID_ENTITY, "watchlist.toml: entity 'sfrs': duplicate id"),
    (VALID_ENTITY.replace('aliases = ["Shropshire Fire and Rescue Service"]', 'aliases = ["SFRS", " "]'),
     "watchlist.toml: entity 'sfrs': empty alias"),
    (VALID_ENTITY.replace('name = "Shropshire Fire and Rescue Service"\n', ""),
     "watchlist.toml: entity 'sfrs': missing field 'name'"),
    (VALID_ENTITY.replace('kind = "organisation"', 'kind = "club"'), "watchlist.toml: entity 'sfrs': kind must be"),
    (VALID_ENTITY + 'holders = [{name = "A Person", from = "2016-13-45"}]\n',
     "watchlist.toml: entity 'sfrs': holder 'A Person': bad date from='2016-13-45'"),
    (VALID_ENTITY + 'governs = "nobody"\n', "watchlist.toml: entity 'sfrs': governs unknown entity 'nobody'"),
    ("title = 'no entities'\n", "watchlist.toml: no [[entity]] entries"),
    (VALID_ENTITY + 'area_names = ["Shropshire"]\nbare_area_names = ["Salop"]\n',
     "watchlist.toml: entity 'sfrs': bare_area_names: 'Salop' is not one of its area_names"),
    (VALID_ENTITY.replace('id = "sfrs"', 'id = "dc police"'),
     "watchlist.toml: entity 'dc police': 'id' must be lower-case letters, digits, '_' or '-' (no spaces)"),
    (VALID_ENTITY + 'people = ["Rachel Penrose"]\n',
     "watchlist.toml: entity 'sfrs': 'people' entries are tables such as {name = \"...\", role = \"...\"}, "
     "not 'Rachel Penrose'"),
])
def test_malformed_watchlists_are_refused_with_one_line(tmp_path, text, message):
    with pytest.raises(WatchlistError) as error:
        load_watchlist(write(tmp_path, text))
    assert str(error.value).startswith(f"{tmp_path}/{message}")  # the full path of the file to fix
    assert "\n" not in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(WatchlistError, match="cannot read"):
        load_watchlist(tmp_path / "absent.toml")


@pytest.mark.parametrize("old, new, message", [
    ('category = "police_force"', 'category = "polce"',
     "entity 'west_mercia_police': unknown category 'polce' (did you mean 'police_force'?): no [[category]] entry "
     "declares it (declared: fire_authority, fire_service, police_force)"),
    ('category = "fire_service"', 'category = "fire_servce"',
     "entity 'hwfrs': unknown category 'fire_servce' (did you mean 'fire_service'?)"),
    ('category = "commissioner"', 'category = "police_forc"',
     "entity 'wm_pcc': unknown category 'police_forc' (did you mean 'police_force'?)"),
])
def test_an_unknown_category_is_refused(tmp_path, old, new, message):
    packaged = DEFAULT_WATCHLIST_PATH.read_text(encoding="utf-8")
    assert old in packaged
    with pytest.raises(WatchlistError) as error:
        load_watchlist(write(tmp_path, packaged.replace(old, new, 1)))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_category_word_without_an_entry_is_still_free(tmp_path):
    """A category no [[category]] declares, unlike any declared one ("commissioner" in the shipped
    watchlist) only groups bodies, as documented."""
    packaged = DEFAULT_WATCHLIST_PATH.read_text(encoding="utf-8")
    watchlist = load_watchlist(write(tmp_path, packaged.replace('category = "commissioner"', 'category = "pcc"')))
    assert watchlist.get("wm_pcc").category == "pcc" and "pcc" not in watchlist.categories


TEAM_BODIES = '''
[[entity]]
id = "dsfrs"
name = "Devon and Somerset Fire and Rescue Service"
display_name = "DSFRS"
kind = "organisation"
aliases = ["Devon and Somerset Fire and Rescue Service", "Devon & Somerset Fire & Rescue"]
abbreviations = ["DSFRS"]

[[entity]]
id = "dsfra"
name = "Devon and Somerset Fire and Rescue Authority"
display_name = "DS Fire Authority"
kind = "organisation"
aliases = ["Devon and Somerset Fire and Rescue Authority"]
abbreviations = ["DSFRA"]
'''


@pytest.mark.parametrize("old,new,message", [
    # the digest's summary counted "DS Fire Authority 1" and lost the service's 5 stories
    ('display_name = "DSFRS"', 'display_name = "DS Fire Authority"',
     "entities 'dsfrs' and 'dsfra' share the short name 'DS Fire Authority'"),
    ('display_name = "DSFRS"\n', "", None),   # no display_name: the names differ, accepted
    ('abbreviations = ["DSFRA"]', 'abbreviations = ["DSFRS"]',
     "entity 'dsfra': 'DSFRS' also names entity 'dsfrs' ('DSFRS')"),
    ('aliases = ["Devon and Somerset Fire and Rescue Authority"]',
     'aliases = ["Devon and Somerset Fire and Rescue Authority", "Devon and Somerset fire & rescue"]',
     "entity 'dsfra': 'Devon and Somerset fire & rescue' also names entity 'dsfrs' ('Devon & Somerset Fire & Rescue')"),
])
def test_two_bodies_may_not_share_a_short_name_or_a_name(tmp_path, old, new, message):
    assert old in TEAM_BODIES
    path = write(tmp_path, TEAM_BODIES.replace(old, new))
    if message is None:
        assert load_watchlist(path).ids == ["dsfrs", "dsfra"]
        return
    with pytest.raises(WatchlistError) as error:
        load_watchlist(path)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert load_watchlist(write(tmp_path, TEAM_BODIES)).ids == ["dsfrs", "dsfra"]
