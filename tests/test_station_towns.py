"""The fire services' station towns in the shipped watchlist (``data/watchlist.toml``).

Each service's region terms hold the towns of its fire stations, from the services' own station
lists (HWFRS: 25 stations, SFRS: 23; docs/watchlist.md). A town there settles which service "the
fire service" means when the article does not name it, and which service a speaker "of Kington
fire station" speaks for. Towns whose names are shared widely (Broadway, Kingsland; Whitchurch is
a station town of both services) are left out, so they settle nothing; a listed town the article
qualifies as another place's ("Newport, South Wales") settles nothing either. Written sentences only.
"""
import pytest

from nlp.entities import Analyser
from nlp.watchlist import load_watchlist


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def mention_pairs(result):
    return [(mention["surface"], mention["entity_id"]) for mention in result["mentions"]]


HWFRS_TOWNS = ["Bromyard", "Kington", "Peterchurch", "Fownhope", "Ewyas Harold", "Eardisley", "Leintwardine",
               "Pebworth", "Leominster", "Ledbury", "Tenbury", "Pershore", "Evesham"]
SFRS_TOWNS = ["Minsterley", "Tweedale", "Wem", "Prees", "Hodnet", "Clun", "Baschurch", "Albrighton",
              "Craven Arms", "Ellesmere"]


@pytest.mark.parametrize("town, body", [(town, "hwfrs") for town in HWFRS_TOWNS]
                         + [(town, "sfrs") for town in SFRS_TOWNS])
def test_a_station_town_settles_which_fire_service(analyser, town, body):
    text = f"Barn fire\n\nCrews from {town} fire station attended. The fire service said the blaze was accidental."
    assert mention_pairs(analyser.analyse(text, "2024-01-01", None)) == [("The fire service", body)]


@pytest.mark.parametrize("town, body", [("Kington", "hwfrs"), ("Peterchurch", "hwfrs"), ("Minsterley", "sfrs")])
def test_a_speaker_of_a_station_speaks_for_its_service(analyser, town, body):
    text = (f'Barn fire\n\nA barn burnt near {town}. "It spread quickly," said watch manager Sam Bell, '
            f"of {town} fire station.")
    [quote] = analyser.analyse(text, "2024-01-01", None)["quotes"]
    assert (quote["speaker"], quote["entity_id"]) == ("Sam Bell", body)


@pytest.mark.parametrize("text", [
    "Crews from Broadway fire station attended. The fire service said the blaze was accidental.",
    "Kingsland Road in Hackney was closed. The fire service said no one was hurt.",
])
def test_a_widely_shared_town_name_settles_nothing(analyser, text):
    assert analyser.analyse(text, "2024-01-01", None)["mentions"] == []


def test_the_broadway_of_new_york_is_no_watched_place(analyser):
    text = "The Broadway fire service in New York said crews attended."
    assert analyser.analyse(text, "2024-01-01", "Worcestershire")["mentions"] == []


def test_each_station_town_belongs_to_one_service_and_its_authority():
    watchlist = load_watchlist()
    terms = {entity.id: set(entity.region_terms) for entity in watchlist.entities}
    for town in HWFRS_TOWNS:
        assert town in terms["hwfrs"] and town in terms["hw_fire_authority"], town
        assert town not in terms["sfrs"], town
    for town in SFRS_TOWNS:
        assert town in terms["sfrs"] and town in terms["shropshire_fire_authority"], town
        assert town not in terms["hwfrs"], town


# -- a town of the area qualified as another place's (the audit's ambiguous towns, 2026-12-06) ----

@pytest.mark.parametrize("text", [
    "House fire\n\nA house fire in Newport, South Wales, was put out. The fire service said no one was hurt.",
    "House fire\n\nA house fire in Newport on the Isle of Wight was put out. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Wellington, New Zealand, was put out. The fire service said no one was hurt.",
    "Blaze\n\nA factory fire in Wellington, Somerset, was put out. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Wellington, NZ, was put out. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Newport (South Wales) was put out. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Wellington in Somerset was put out. The fire service said no one was hurt.",
])
@pytest.mark.parametrize("region", [None, "Shropshire"])
def test_a_town_qualified_as_another_places_settles_nothing(analyser, text, region):
    # neither as a place of the body's area nor, through the outlet's region, as no place at all
    assert analyser.analyse(text, "2024-01-01", region)["mentions"] == []


@pytest.mark.parametrize("text", [
    "Blaze\n\nA fire broke out at a house in Newport, Shropshire. The fire service said no one was hurt.",
    "Blaze\n\nA fire broke out in Wellington, Telford. The fire service said no one was hurt.",
    "Blaze\n\nCrews from Ludlow, Church Stretton and Craven Arms attended. The fire service said no one was hurt.",
    "Blaze\n\nA fire broke out in Ludlow, Mr Smith said. The fire service said no one was hurt.",
    "Blaze\n\nCrews from Newport fire station attended. The fire service said the blaze was accidental.",
    # a list of towns, a person, a street, an abbreviation or a broad area after the comma (the review
    # of 2026-12-06 late: each of these lost its mention to the first version of the rule)
    "Blaze\n\nCrews from Oswestry, Chirk and Wrexham attended. The fire service said no one was hurt.",
    "Blaze\n\nCrews from Ludlow, Knighton and Presteigne attended. The fire service said no one was hurt.",
    "Blaze\n\nA woman from Ludlow, Sarah Jones, raised the alarm. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Ludlow, Shrops. The fire service said no one was hurt.",
    "Blaze\n\nA barn fire between Ludlow, Bitterley and Clee Hill. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Ludlow, Corve Street. The fire service said no one was hurt.",
    "Blaze\n\nCrews from Ludlow, Wrexham and Chester attended. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Ludlow, England. The fire service said no one was hurt.",
    # a road, a list, a border, initials as an adjective (the second review of 2026-12-06 late)
    "Blaze\n\nA fire in Ludlow on Bath Road. The fire service said no one was hurt.",
    "Blaze\n\nCrews from Ludlow, Birmingham, Solihull and Coventry attended. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Market Drayton on the Staffordshire border. The fire service said no one was hurt.",
    "Blaze\n\nSpeaking in Shrewsbury, US ambassador Jane Hartley praised the fire service.",
    "Blaze\n\nIn Ludlow, Kent Street was closed. The fire service said no one was hurt.",
])
def test_a_town_of_the_area_with_a_comma_after_it_still_counts(analyser, text):
    assert [entity for _surface, entity in mention_pairs(analyser.analyse(text, "2024-01-01", None))] == ["sfrs"]


@pytest.mark.parametrize("text", [
    "Blaze\n\nA fire in Evesham, Worcs. The fire service said no one was hurt.",
    "Blaze\n\nA fire in Kidderminster, West Midlands. The fire service said no one was hurt.",
])
def test_a_county_abbreviation_or_a_broad_region_after_the_town_keeps_it_local(analyser, text):
    assert mention_pairs(analyser.analyse(text, "2024-01-01", None)) == [("The fire service", "hwfrs")]
