"""Places elsewhere for a watchlist (``nlp.places``, ``data/uk_places.txt``)."""
import pytest

from nlp.places import listed_places, own_places, placed_elsewhere, qualifies_elsewhere, starts_elsewhere
from nlp.watchlist import load_watchlist, parse_watchlist
from tests.test_quotes_other_watchlist import DEVON   # a Devon and Somerset team's watchlist


@pytest.fixture(scope="module")
def west_mercia():
    return load_watchlist()


def test_the_list_has_its_sections_and_no_comment_lines():
    places = listed_places()
    assert "West Midlands" in places["broad"] and "Staffordshire" in places["areas"]
    assert {"Stourbridge", "Cardiff", "London", "Taunton"} <= set(places["towns"])
    assert not {"Somerset", "Wales", "Ontario", "Sandwell"} & set(places["towns"])
    assert not any(place.startswith(("#", "[")) for section in places.values() for place in section)


@pytest.mark.parametrize("text", ["Staffordshire", "the West Midlands", "Stafford CID", "Powys", "Gloucestershire Police",
                                  "the Isle of Wight", "Devon and Cornwall"])
def test_other_areas_are_elsewhere_for_west_mercia(west_mercia, text):
    assert starts_elsewhere(text, west_mercia)


@pytest.mark.parametrize("text", ["Hereford", "Shropshire", "Telford CID", "Hagley", "Belle Vue", "Economic Crime",
                                  "Newport", "Staffs", "Stafforth", "Worcester Park", "Kentish Town"])
def test_own_places_unlisted_names_and_longer_words_are_not(west_mercia, text):
    assert not starts_elsewhere(text, west_mercia)


def test_the_watchlist_decides_what_is_elsewhere(west_mercia):
    devon = parse_watchlist(DEVON.encode(), "devon.toml")
    assert "devon" in own_places(devon) and "shropshire" in own_places(west_mercia)
    assert starts_elsewhere("Devon", west_mercia) and not starts_elsewhere("Devon", devon)
    assert starts_elsewhere("Shropshire", devon) and not starts_elsewhere("Shropshire", west_mercia)


def test_broad_areas_place_no_town_elsewhere(west_mercia):
    assert starts_elsewhere("West Midlands", west_mercia)
    assert not starts_elsewhere("West Midlands", west_mercia, broad=False)
    assert not qualifies_elsewhere(", West Midlands.", west_mercia)
    assert qualifies_elsewhere(", South Wales, was", west_mercia)
    assert qualifies_elsewhere(" on the Isle of Wight", west_mercia)
    assert not qualifies_elsewhere(", Wrexham and Chester", west_mercia)
    assert not qualifies_elsewhere(" fire station", west_mercia)


@pytest.mark.parametrize("text", [
    # a listed place that starts a longer name is that name (the review of 2026-12-06 late)
    "Birmingham Road", "Kent Street", "Stoke Prior", "York House", "Bath Street fire station", "Reading Road police station",
    # a border, and initials used as an adjective
    "the Staffordshire border", "US ambassador Jane Hartley",
])
def test_a_place_that_starts_a_longer_name_is_not_elsewhere(west_mercia, text):
    assert not starts_elsewhere(text, west_mercia)


@pytest.mark.parametrize("text", ["Staffordshire Police", "Stafford CID", "Stafford fire station", "US", "New York"])
def test_a_place_with_its_bodies_after_it_is_elsewhere(west_mercia, text):
    assert starts_elsewhere(text, west_mercia)


@pytest.mark.parametrize("after, expected", [
    (", Birmingham, Solihull and Coventry attended", False),
    (", Bath, York and Chester", False),
    (" on Birmingham Road", False),
    (", Staffordshire Police helped", False),
    (", US ambassador", False),
    (", Massachusetts, USA, was", True),
    (" (Gwent)", True),
])
def test_what_qualifies_a_town(west_mercia, after, expected):
    assert qualifies_elsewhere(after, west_mercia) is expected


# -- session 16: provinces, states, Irish counties, countries and towns of 20,000+ elsewhere ------------

@pytest.mark.parametrize("text", [
    "Ontario", "Newfoundland and Labrador", "Nova Scotia", "New South Wales", "NSW", "Queensland", "Western Cape", "County Mayo", "Co Mayo",
    "Co. Cork", "Co Down", "Co Durham", "County Longford", "Galway", "Lithuania", "Sweden", "Tiverton", "Taunton", "Stourbridge",
    "Halesowen", "Paisley", "Llanelli", "Ellesmere Port", "Stockton-on-Tees", "Newcastle-under-Lyme",
    "Weston-super-Mare", "Kingston upon Thames",
])
def test_listed_provinces_counties_countries_and_towns_are_elsewhere(west_mercia, text):
    assert starts_elsewhere(text, west_mercia)


@pytest.mark.parametrize("text", [
    # ordinary words, given names and common surnames are not listed (data/uk_places.txt's header)
    "Stone", "March", "Deal", "Bury", "Sale", "Fleet", "Leek", "Mayo", "Victoria", "Kerry", "Clare", "Jordan",
    "Blackburn", "Poole", "Hamilton", "Sutton", "Holland",
    # names that are also places of West Mercia
    "Redhill", "Ashford", "Oldbury", "Stockton", "Shipley", "Hanley", "Kingswood", "Frome", "Longford", "Stretford",
    "Ellesmere",
    # dog breeds
    "Labrador", "Newfoundland",
    # "Co" names no county on its own, and a place that starts a longer name is that name
    "Co", "Co Operative", "Halesowen Road", "Taunton Deane", "Stourbridge Road police station",
])
def test_words_names_and_west_mercias_places_are_not_elsewhere(west_mercia, text):
    assert not starts_elsewhere(text, west_mercia)


@pytest.mark.parametrize("after, expected", [
    (", Ontario, was", True),
    (", in Ontario, was", True),
    (", Co Mayo, was", True),
    (" (County Mayo) was", True),
    (", on the Isle of Wight", True),
    (", in Worcestershire", False),
    (", in Halesowen Road", False),
    (", Halesowen and Stourbridge attended", False),
    (", Blackburn said", False),
])
def test_what_qualifies_a_town_elsewhere(west_mercia, after, expected):
    assert qualifies_elsewhere(after, west_mercia) is expected


# -- rules-13: lists of towns without "and", and stories placed elsewhere -------------------------------

@pytest.mark.parametrize("after, expected", [
    # a town, then another town: a list ("Kidderminster, Stourbridge, Dudley attended")
    (", Stourbridge, Dudley attended", False),
    (", Halesowen, Stourbridge were sent", False),
    (", Stourbridge, Bromsgrove worked", False),     # the next town is one of the watchlist's own
    (", Stafford, Stoke-on-Trent helped", False),
    # a town, then an area that holds it: a chain ("Whitchurch, Cardiff, Wales")
    (", Cardiff, Wales, was", True),
    (", Somerset, England, was", True),
    (", Ontario, Canada, on", True),
    (", Stourbridge, West Midlands", True),
    (", Stourbridge, Dudley Road", True),            # a street, not a town
    # limits: an unlisted town, and areas, say nothing of a list
    (", Wrexham, Welshpool went", True),
    (", Staffordshire, Cheshire attended", True),
])
def test_a_list_of_towns_without_and_qualifies_nothing(west_mercia, after, expected):
    assert qualifies_elsewhere(after, west_mercia) is expected


@pytest.mark.parametrize("text, expected", [
    ("A fire in Taunton, Somerset, was put out.", True),
    ("Firefighters were called to a barn near Stafford, Staffordshire.", True),
    ("At Bangor, Gwynedd, a terrace was gutted.", True),
    ("Fire crews in Dudley, West Midlands, rescued a cat.", True),   # a broad area qualifies a town elsewhere
    ("A fire in Stourbridge, Dudley, was put out.", True),
    ("A lorry driver from Stoke, Staffordshire, was cut free.", False),   # a home, not the story's place
    ("The owner, Sarah Jones, of Taunton, Somerset, was away.", False),
    ("A fire in Taunton was put out.", False),                           # not qualified
    ("A fire in Springfield, Illinois, was put out.", False),            # not listed
    ("Offices in Birmingham, Coventry and Leicester closed.", False),    # a list
    ("Offices in Birmingham, Coventry, Leicester closed.", False),
    ("A fire in Ludlow, Shropshire, was put out.", False),               # the watchlist's own
    ("A fire in Stourbridge, Worcestershire, was put out.", False),
])
def test_a_story_placed_elsewhere(west_mercia, text, expected):
    assert placed_elsewhere(text, west_mercia) is expected
