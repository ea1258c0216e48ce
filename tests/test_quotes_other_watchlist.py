"""Quotes under a second watchlist (a Devon and Somerset one, with its own category ids): the
extractor follows the watchlist, not the West Mercia bodies of the shipped one."""
import pytest

from nlp.entities import Analyser
from nlp.quotes import STATED, SpeakerMemory, split_name_role
from nlp.watchlist import WatchlistError, parse_watchlist

DEVON = """
[[category]]
id = "frs"
stations = true
heads = ["fire service", "fire and rescue service", "fire and rescue"]
weak_heads = ["service"]

[[category]]
id = "fra"
councillors = true
heads = ["fire authority", "fire and rescue authority"]

[[entity]]
id = "dsfrs"
name = "Devon and Somerset Fire and Rescue Service"
display_name = "DSFRS"
kind = "organisation"
category = "frs"
infer_from_region = true
aliases = ["Devon and Somerset Fire and Rescue Service", "Devon and Somerset Fire and Rescue",
           "Devon and Somerset Fire Service"]
abbreviations = ["DSFRS"]
region_terms = ["Devon", "Somerset", "Exeter", "Tiverton", "Taunton", "Barnstaple", "Okehampton"]
area_names = ["Devon and Somerset"]
people = [{ name = "Gavin Ellis", role = "chief fire officer" }]
generic_references = ["the fire service", "the service"]
speaker_roles = ["chief fire officer", "station manager", "group manager", "watch manager",
                 "officer in charge", "spokesperson", "spokesman", "spokeswoman"]

[[entity]]
id = "dsfra"
name = "Devon and Somerset Fire and Rescue Authority"
kind = "organisation"
category = "fra"
governs = "dsfrs"
aliases = ["Devon and Somerset Fire and Rescue Authority", "Devon and Somerset Fire Authority"]
abbreviations = ["DSFRA"]
region_terms = ["Devon", "Somerset", "Exeter", "Tiverton", "Taunton", "Barnstaple", "Okehampton"]
area_names = ["Devon and Somerset"]
generic_references = ["the fire authority", "the authority"]
speaker_roles = ["fire authority", "chairman", "chair"]

[[entity]]
id = "dc_pcc"
name = "Devon and Cornwall Police and Crime Commissioner"
kind = "office"
category = "commissioner"
governs = "dc_police"
aliases = ["Devon and Cornwall Police and Crime Commissioner"]
speaker_roles = ["police and crime commissioner"]

[[entity]]
id = "dc_police"
name = "Devon and Cornwall Police"
kind = "organisation"
category = "police_force"
aliases = ["Devon and Cornwall Police"]
region_terms = ["Devon", "Cornwall", "Plymouth", "Truro"]
area_names = ["Devon and Cornwall"]
speaker_roles = ["chief constable", "inspector", "sergeant", "constable"]
"""

SAID = '"Crews worked through the night to stop the fire spreading."'


@pytest.fixture(scope="module")
def devon():
    return Analyser(parse_watchlist(DEVON.encode(), "devon.toml"))


@pytest.fixture(scope="module")
def shipped():
    return Analyser()


def only_quote(analyser, text):
    [quote] = analyser.analyse(text)["quotes"]
    return quote["speaker"], quote["speaker_role"], quote["entity_id"]


@pytest.mark.parametrize("phrase, name, role", [
    ("Chief Fire Officer Penrose", "Penrose", "Chief Fire Officer"),
    ("Group Commander Lee", "Lee", "Group Commander"),
    ("Station Manager Hughes", "Hughes", "Station Manager"),
    ("Detective Inspector Corteen", "Corteen", "Detective Inspector"),
    # a rank alone before a surname is still a title
    ("Officer Myers", "Officer Myers", None),
    ("Inspector Corteen", "Inspector Corteen", None),
    ("Chief Fire Officer Nathan Travis", "Nathan Travis", "Chief Fire Officer"),
])
def test_a_post_before_a_surname_is_the_role_not_part_of_the_name(phrase, name, role):
    assert split_name_role(phrase) == (name, role)


def test_a_surname_after_a_post_is_the_speaker(devon):
    speaker, role, _entity = only_quote(devon, f'Group Manager Penrose said: {SAID}')
    assert (speaker, role) == ("Penrose", "Group Manager")


def test_a_surname_after_a_post_takes_the_full_name_from_the_watchlist(devon, shipped):
    assert only_quote(devon, f'Chief Fire Officer Ellis said: {SAID}') == (
        "Gavin Ellis", "Chief Fire Officer", "dsfrs")
    assert only_quote(shipped, f'Chief Fire Officer Travis said: {SAID}') == (
        "Nathan Travis", "Chief Fire Officer", "hwfrs")


def test_a_surname_after_a_post_takes_the_full_name_from_earlier_in_the_text(devon):
    text = ('Station Manager Ruth Kellow led the crews at the barn in Okehampton.\n\n'
            f'Station Manager Kellow said: {SAID}')
    speaker, role, _entity = only_quote(devon, text)
    assert (speaker, role) == ("Ruth Kellow", "Station Manager")


def test_a_station_of_a_flagged_category_links_its_service(devon):
    text = f'The officer in charge at Tiverton Fire Station said: {SAID}'
    assert only_quote(devon, text)[2] == "dsfrs"


def test_a_councillor_speaks_for_the_flagged_authority(devon):
    text = ('Devon and Somerset Fire and Rescue Authority met on Friday to discuss the budget.\n\n'
            'Councillor Mike Dray said: "We have to balance the books this year."')
    assert only_quote(devon, text) == ("Councillor Mike Dray", None, "dsfra")


def test_without_the_flags_nothing_links_by_station_or_councillor():
    unflagged = DEVON.replace("stations = true\n", "").replace("councillors = true\n", "")
    analyser = Analyser(parse_watchlist(unflagged.encode(), "devon.toml"))
    assert only_quote(analyser, f'The officer in charge at Tiverton Fire Station said: {SAID}')[2] is None
    text = ('Devon and Somerset Fire and Rescue Authority met on Friday to discuss the budget.\n\n'
            'Councillor Mike Dray said: "We have to balance the books this year."')
    assert only_quote(analyser, text)[2] is None


def test_a_category_flag_must_be_true_or_false():
    with pytest.raises(WatchlistError, match="'stations' must be true or false"):
        parse_watchlist(DEVON.replace("stations = true", 'stations = "yes"').encode(), "devon.toml")


@pytest.mark.parametrize("places", ["Devon and Somerset", "Hereford and Worcester", "Telford & Wrekin"])
def test_a_spokesperson_for_coordinated_places_is_the_speaker(devon, shipped, places):
    for analyser in (devon, shipped):
        speaker, role, _entity = only_quote(analyser, f'A spokesperson for {places} said: {SAID}')
        assert (speaker, role) == ("A spokesperson", f"A spokesperson for {places}")


@pytest.mark.parametrize("phrase", ["A spokesperson for Devon and Somerset", "The chief officer of Telford & Wrekin",
                                    "A statement from Jane Smith and Tom Brown"])
def test_the_last_word_of_a_coordinated_object_starts_no_name(phrase):
    assert split_name_role(phrase) == (None, phrase)


def test_a_spokesperson_for_the_watched_service_speaks_for_it(devon):
    text = f'A spokesperson for Devon and Somerset Fire and Rescue said: {SAID}'
    assert only_quote(devon, text) == (
        "A spokesperson", "A spokesperson for Devon and Somerset Fire and Rescue", "dsfrs")


@pytest.mark.parametrize("text", [
    f'A DSFRS spokesperson said: {SAID}',
    f'A DSFRS spokesperson said the fire was out. It added: {SAID}',
    f'A DSFRS spokesperson said the fire was out.\n\nHe said: {SAID}',
])
def test_a_spokesperson_speaker_has_no_role_repeating_it(devon, text):
    # the story page cites "speaker, role": "A DSFRS spokesperson, A DSFRS spokesperson" was the defect
    assert only_quote(devon, text) == ("A DSFRS spokesperson", None, "dsfrs")


@pytest.mark.parametrize("text, speaker", [
    # the watchlist's places are no person, like the shipped watchlist's ("Shrewsbury Ludlow said")
    (f'Exeter Tiverton said: {SAID}', None),
    (f'Taunton Barnstaple said: {SAID}', None),
    # a given name, a title or a person of the watchlist makes a name of them
    (f'Jane Taunton said: {SAID}', "Jane Taunton"),
    (f'Mr Barnstaple said: {SAID}', "Mr Barnstaple"),
])
def test_the_watchlist_places_name_nobody(devon, text, speaker):
    assert only_quote(devon, text)[0] == speaker


def test_a_surname_after_a_post_is_one_person_across_articles(devon):
    [quote] = devon.analyse(f'Group Manager Penrose said: {SAID}')["quotes"]
    assert (quote["speaker"], quote["speaker_id"]) == ("Penrose", "penrose")
    memory = SpeakerMemory()
    memory.learn([{"speaker": "Penrose", "speaker_role": "Group Manager", "entity_id": "dsfrs",
                   "entity_method": STATED, "article_id": article, "published_at": "2026-11-0%d" % article}
                  for article in (1, 2)])
    assert memory.entity_for("Mr Penrose", article=3, published_at="2026-11-05") == "dsfrs"
    # a lone word with no post before it is nobody's surname
    memory = SpeakerMemory()
    memory.learn([{"speaker": "Penrose", "speaker_role": None, "entity_id": "dsfrs", "entity_method": STATED,
                   "article_id": article, "published_at": "2026-11-0%d" % article} for article in (1, 2)])
    assert memory.entity_for("Mr Penrose", article=3, published_at="2026-11-05") is None


def test_the_places_a_speaker_is_of_are_the_watchlists_own(devon, shipped):
    # quotes-12: "of PLACE" keeps a post's link when the place is one of the watchlist's, whichever
    # watchlist: Tiverton for the Devon one, Hereford for the shipped one; quotes-14: a listed place
    # (data/uk_places.txt) that is not the watchlist's refuses it, Hereford for the Devon one and
    # Exeter for the shipped one (Tiverton, a town the list leaves out, is no place elsewhere)
    devon_story = "Barn fire\n\nDevon and Somerset Fire and Rescue Service sent four engines.\n\n"
    shipped_story = "Barn fire\n\nHereford & Worcester Fire and Rescue Service sent four engines.\n\n"
    assert only_quote(devon, devon_story + f"Station manager Tom Reed, of Tiverton, said: {SAID}")[2] == "dsfrs"
    assert only_quote(devon, devon_story + f"Station manager Tom Reed, of Hereford, said: {SAID}")[2] is None
    assert only_quote(shipped, shipped_story + f"Station manager Tom Reed, of Hereford, said: {SAID}")[2] == "hwfrs"
    assert only_quote(shipped, shipped_story + f"Station manager Tom Reed, of Exeter, said: {SAID}")[2] is None


def test_a_watchlist_persons_surname_is_the_article_person_of_another_first_name(devon):
    # quotes-14 (an audit's HIGH finding): "Owner Matthew Ellis ... Mr Ellis said" is no quote
    # from the Devon watchlist's chief fire officer Gavin Ellis
    text = ("Bakery opens\n\nOwner Matthew Ellis opened the bakery in Tiverton on Friday.\n\n"
            '"We are thrilled with how many people came to see us today," Mr Ellis said.')
    [quote] = devon.analyse(text, "2024-08-05")["quotes"]
    assert (quote["speaker"], quote["speaker_id"], quote["entity_id"]) == ("Mr Ellis", "matthew ellis", None)
    # the chief fire officer named in full: Mr Ellis is him
    named = text.replace("Owner Matthew Ellis opened the bakery", "Chief fire officer Gavin Ellis opened the bakery")
    [quote] = devon.analyse(named, "2024-08-05")["quotes"]
    assert (quote["speaker_id"], quote["entity_id"]) == ("gavin ellis", "dsfrs")


def test_a_short_form_of_the_watchlist_persons_first_name_is_that_person(shipped):
    # the watchlist's "Jon Pryce" written "Jonathon Pryce": the same person, so "Mr Pryce" keeps his body
    text = ("Fire cuts\n\nChief fire officer Jonathon Pryce of Hereford and Worcester Fire and Rescue Service "
            'spoke to councillors.\n\n"Financially, things look grim for the service this year," said Mr Pryce.')
    [quote] = shipped.analyse(text, "2026-01-16")["quotes"]
    assert quote["entity_id"] == "hwfrs"
