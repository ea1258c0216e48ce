"""The spaCy watchlist pipeline: variants, exclusions, holders by date, inferred and fuzzy mentions."""
import json
from pathlib import Path

import pytest
import spacy

from nlp.entities import MENTIONS_KEY, Analyser, build_nlp, surface_variants
from nlp.evaluate_entities import evaluate_entities, format_table
from nlp.watchlist import load_watchlist


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def entities(result, method=None):
    return {mention["entity_id"] for mention in result["mentions"] if method in (None, mention["method"])}


def surfaces(result, entity_id):
    return [mention["surface"] for mention in result["mentions"] if mention["entity_id"] == entity_id]


def test_pipeline_components():
    nlp = build_nlp(load_watchlist())
    assert nlp.pipe_names == ["cuttings_sentencizer", "cuttings_watchlist_ruler", "cuttings_reference_resolver"]
    doc = nlp("Crews from Shropshire Fire and Rescue Service attended.")
    assert [(span.text, span.label_, span.id_) for span in doc.spans[MENTIONS_KEY]] == [
        ("Shropshire Fire and Rescue Service", "sfrs", "matched")]


def test_ruler_patterns_round_trip_through_disk(tmp_path):
    nlp = build_nlp(load_watchlist())
    ruler = nlp.get_pipe("cuttings_watchlist_ruler")
    ruler.to_disk(tmp_path / "ruler")
    lines = (tmp_path / "ruler" / "patterns.jsonl").read_text().splitlines()
    assert len(lines) == len(ruler.patterns) > 100
    assert '"id":"hwfrs"' in (tmp_path / "ruler" / "patterns.jsonl").read_text()
    fresh = build_nlp(load_watchlist()).get_pipe("cuttings_watchlist_ruler")
    fresh.from_disk(tmp_path / "ruler")
    assert len(fresh.patterns) == len(ruler.patterns)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    doc = loaded("HWFRS crews were called.")
    assert [span.label_ for span in doc.spans[MENTIONS_KEY]] == ["hwfrs"]


def test_ruler_sets_raw_matches_including_overlaps_and_exclusions():
    nlp = build_nlp(load_watchlist())
    doc = nlp("The West Midlands Police and Crime Commissioner met HWFRS.")
    matches = doc._.watchlist_matches
    assert len(matches) == len(set(matches))                       # no duplicates
    assert [m[:2] for m in matches] == sorted(m[:2] for m in matches)   # in text order
    labels = {(doc[start:end].text, label) for start, end, label, _target in matches}
    assert ("West Midlands Police and Crime Commissioner", "exclude") in labels   # the exclusion is matched
    assert ("HWFRS", "name") in labels
    # ... and the resolver keeps only the watched body.
    assert [span.label_ for span in doc.spans[MENTIONS_KEY]] == ["hwfrs"]


def test_ruler_refuses_a_pattern_that_is_not_a_phrase():
    ruler = build_nlp(load_watchlist()).get_pipe("cuttings_watchlist_ruler")
    with pytest.raises(ValueError, match="not a phrase pattern"):
        ruler.add_patterns([{"label": "name", "pattern": [{"LOWER": "x"}], "id": "hwfrs"}])


def test_surface_variants_cover_ampersands_and_apostrophes():
    variants = surface_variants("Hereford and Worcester Fire and Rescue Service")
    assert "Hereford & Worcester Fire & Rescue Service" in variants
    assert "Hereford and Worcester Fire & Rescue Service" in variants
    assert "West Mercia\u2019s PCC" in surface_variants("West Mercia's PCC")


@pytest.mark.parametrize("text, entity_id, surface", [
    ("HWFRS's crews were praised.", "hwfrs", "HWFRS"),
    ("HEREFORD AND WORCESTER FIRE AND RESCUE SERVICE said so.", "hwfrs",
     "HEREFORD AND WORCESTER FIRE AND RESCUE SERVICE"),
    ("Hereford & Worcester Fire & Rescue Service crews.", "hwfrs", "Hereford & Worcester Fire & Rescue Service"),
    ("Crews from Hereford and\nWorcester Fire and Rescue Service attended.", "hwfrs",
     "Hereford and\nWorcester Fire and Rescue Service"),
    ("H&W Fire tweeted a warning.", "hwfrs", "H&W Fire"),
    ("SFRS crews and Shropshire Fire & Rescue officers.", "sfrs", "Shropshire Fire & Rescue"),
    ("The Shropshire and Wrekin Fire and Rescue Authority met.", "shropshire_fire_authority",
     "Shropshire and Wrekin Fire and Rescue Authority"),
    ("West Mercia\u2019s Police and Crime Commissioner spoke.", "wm_pcc",
     "West Mercia\u2019s Police and Crime Commissioner"),
    ("Officers from West Mercia Police attended.", "west_mercia_police", "West Mercia Police"),
])
def test_name_variants_match(analyser, text, entity_id, surface):
    result = analyser.analyse(text)
    assert surface in surfaces(result, entity_id)
    mention = next(m for m in result["mentions"] if m["surface"] == surface)
    assert text[mention["start_char"]:mention["end_char"]] == surface
    assert mention["method"] == "matched"


@pytest.mark.parametrize("text", [
    "Staffordshire Fire and Rescue Service sent crews to the blaze near Shrewsbury.",
    "The Information Commissioner fined Worcestershire County Council. The commissioner said it was serious.",
    "West Midlands Police and Crime Commissioner Simon Foster set the precept for Wolverhampton.",
    "The Children's Commissioner visited Hereford schools.",
    "The Staffordshire Commissioner was sworn in; the PCC promised more police.",
])
def test_other_bodies_never_match(analyser, text):
    assert entities(analyser.analyse(text)) == set()


def test_police_inside_commissioner_title_is_not_the_force(analyser):
    result = analyser.analyse("West Mercia Police and Crime Commissioner John Campion spoke.", "2018-01-01")
    assert entities(result) == {"wm_pcc"}
    both = analyser.analyse("The PCC for West Mercia Police said so.")
    assert entities(both) == {"wm_pcc", "west_mercia_police"}


@pytest.mark.parametrize("text, published_at", [
    ("Mr Longmore said the budget was tight.", "2014-03-01"),
    ("Bill Longmore, the first commissioner, spoke.", "2013-01-01"),
    ("Mr Campion said the plan would save money.", "2018-06-01"),
    ("Mr Campion said the plan would save money.", None),
])
def test_office_holders_resolve_to_the_office(analyser, text, published_at):
    result = analyser.analyse(text, published_at)
    assert entities(result) == {"wm_pcc"}


def test_holder_date_picks_office_held_on_the_day(analyser):
    resolver = analyser.nlp.get_pipe("cuttings_reference_resolver")
    import datetime as dt
    assert resolver._office_of("wm_pcc|Bill Longmore", dt.date(2014, 1, 1)) == "wm_pcc"
    pcc = analyser.watchlist.get("wm_pcc")
    assert [h.name for h in pcc.holders_on(dt.date(2016, 5, 11))] == ["Bill Longmore"]
    assert [h.name for h in pcc.holders_on(dt.date(2016, 5, 12))] == ["John Campion"]


def test_generic_references_resolve_to_named_bodies(analyser):
    text = ("Shropshire Fire and Rescue Service was called at 2am.\n\n"
            "The service said three crews attended. A spokesman for the fire service praised neighbours.")
    result = analyser.analyse(text)
    assert entities(result, "inferred") == {"sfrs"}
    assert {"The service", "the fire service"} <= set(surfaces(result, "sfrs"))


def test_generic_references_need_an_antecedent(analyser):
    result = analyser.analyse("The service said three crews attended a fire in Cinderford.")
    assert entities(result) == set()


def test_plural_references_resolve_to_both_bodies(analyser):
    text = ("Shropshire and Wrekin Fire Authority met on Monday.\n\n"
            "Both fire authorities oppose the plan of the Police and Crime Commissioner for West Mercia.")
    result = analyser.analyse(text)
    assert entities(result, "inferred") >= {"hw_fire_authority", "shropshire_fire_authority"}


def test_commissioner_resolves_only_for_west_mercia(analyser):
    west_mercia = analyser.analyse("The plan affects West Mercia. The Commissioner said it would save money.")
    assert surfaces(west_mercia, "wm_pcc") == ["The Commissioner"]
    assert west_mercia["mentions"][0]["method"] == "inferred"
    traffic = analyser.analyse("The traffic commissioner revoked the licence in Shropshire. "
                               "The commissioner said there was no evidence.")
    assert entities(traffic) == set()


def test_fire_authority_inferred_from_its_service(analyser):
    text = ("Hereford and Worcester Fire and Rescue Service will consult.\n\n"
            "The Fire Authority meets on Thursday.")
    result = analyser.analyse(text)
    assert surfaces(result, "hw_fire_authority") == ["The Fire Authority"]


@pytest.mark.parametrize("text, entity_id", [
    ("The West Merica Police and Crime Commissioner spoke.", "wm_pcc"),
    ("Plans by West Mercia's police and crime commisioner were approved.", "wm_pcc"),
    ("Hereford and Worcestershire Fire Sevice crews attended.", "hwfrs"),
])
def test_fuzzy_matches_small_misspellings(analyser, text, entity_id):
    result = analyser.analyse(text)
    assert entities(result, "fuzzy") == {entity_id}


@pytest.mark.parametrize("text", [
    "West Midlands Police and Crime Comissioner Simon Foster spoke.",
    "Staffordshire Fire and Rescue Sevice crews attended.",
    "Gloucestershire Fire and Rescue Sevice crews attended.",
])
def test_fuzzy_never_matches_another_body(analyser, text):
    assert entities(analyser.analyse(text)) == set()


def test_sentencizer_splits_sentences_and_paragraphs():
    nlp = build_nlp(load_watchlist())
    doc = nlp('Headline without stop\n\nHe said: "Yes." Then more! Is it? Yes...\n\nLast one')
    assert [sentence.text.strip() for sentence in doc.sents] == [
        "Headline without stop", 'He said: "Yes."', "Then more!", "Is it?", "Yes...", "Last one"]


def test_mention_context_fields(analyser):
    text = "Fire station to close\n\nFirst paragraph here.\n\nA second one. Then SFRS said no."
    mention = analyser.analyse(text)["mentions"][0]
    assert mention["entity_id"] == "sfrs"
    assert mention["paragraph"] == 2
    assert mention["sentence"] == "Then SFRS said no."
    assert mention["sentence_index"] == 3


@pytest.mark.parametrize("text", [
    "",
    "   \n\n  ",
    "Die Feuerwehr von Hereford löschte den Brand. 消防队 扑灭了 大火。",
    "<html><body><p>HWFRS <b>crews</b> attended</p><script>var x = '\"';</script></body>",
    'He said: "never closed. "And again "and again\n\n"more "unclosed',
    "\u00a0\t\r\n" * 50,
])
def test_bad_inputs_do_not_crash(analyser, text):
    result = analyser.analyse(text)
    assert set(result) == {"mentions", "quotes"}
    for mention in result["mentions"]:
        assert text[mention["start_char"]:mention["end_char"]] == mention["surface"]


def test_one_megabyte_article(analyser):
    paragraph = "Crews from HWFRS attended a fire in Worcester. The service said it was under control.\n\n"
    text = paragraph * (1_000_000 // len(paragraph))
    result = analyser.analyse(text, "2020-01-01")
    assert len(text) > 990_000
    assert len(result["mentions"]) == 2 * (1_000_000 // len(paragraph))


def test_pipe_matches_analyse(analyser):
    items = [("HWFRS attended.", None), ("", None), ("Mr Campion said so.", "2019-01-01")]
    assert list(analyser.pipe(items, batch_size=2)) == [analyser.analyse(text, day) for text, day in items]


def test_version_changes_with_watchlist(tmp_path, analyser):
    path = tmp_path / "watchlist.toml"
    path.write_text('[[entity]]\nid = "x"\nname = "X Body"\nkind = "organisation"\naliases = ["X Body"]\n')
    other = Analyser(load_watchlist(path))
    assert other.version != analyser.version
    assert entities(other.analyse("The X Body met.")) == {"x"}


def test_evaluation_reports_every_slice(analyser):
    result = evaluate_entities(analyser=analyser)
    labels = (Path(__file__).resolve().parent.parent / "data" / "corpus" / "labels.jsonl").read_text().splitlines()
    slices = {json.loads(line)["id"].split("-")[0] for line in labels if line.strip()}
    assert result["articles"] == len([line for line in labels if line.strip()])
    assert set(result["by_slice"]) == slices | {"new", "development", "held_out", "all"}
    assert result["slice_articles"]["new"] == sum(result["slice_articles"][name] for name in ("gov", "hw", "sh", "neg"))
    for rows in result["by_slice"].values():
        assert set(rows) == set(analyser.watchlist.ids)
    assert "held_out" in format_table(result)


# -- spaCy components: config, initialize, self-contained serialisation ------------------------

SMALL_WATCHLIST = '''
[[category]]
id = "fire_service"
heads = ["fire service", "fire and rescue service"]
weak_heads = ["brigade"]
plural_heads = ["fire services", "brigades"]

[[entity]]
id = "lfrs"
name = "Loamshire Fire and Rescue Service"
kind = "organisation"
category = "fire_service"
aliases = ["Loamshire Fire and Rescue Service"]
area_names = ["Loamshire"]
region_terms = ["Loamchester"]
infer_from_region = true
generic_references = ["the fire service", "the brigade"]
people = [{ name = "Ada Quill", role = "chief fire officer" }]

[[entity]]
id = "bfrs"
name = "Barsetshire Fire Service"
kind = "organisation"
category = "fire_service"
aliases = ["Barsetshire Fire Service"]
area_names = ["Barsetshire"]
region_terms = ["Barchester"]
infer_from_region = true
generic_references = ["the fire service", "the brigade"]
'''


def mentions_of(doc):
    return [(span.text, span.label_) for span in doc.spans[MENTIONS_KEY]]


def blank_pipeline(tmp_path, watchlist_text: str):
    """spacy.blank + the ruler and the resolver (no sentencizer), initialised from a watchlist file
    named in the config, as a user's own pipeline would be."""
    path = tmp_path / "watchlist.toml"
    path.write_text(watchlist_text)
    nlp = spacy.blank("en")
    nlp.add_pipe("cuttings_watchlist_ruler")
    nlp.add_pipe("cuttings_reference_resolver")
    for name in ("cuttings_watchlist_ruler", "cuttings_reference_resolver"):
        nlp.config["initialize"]["components"][name] = {"watchlist_path": str(path)}
    nlp.initialize()
    return nlp


def test_blank_pipeline_initialised_from_config(tmp_path):
    nlp = blank_pipeline(tmp_path, SMALL_WATCHLIST)
    doc = nlp("Crews from Loamshire Fire and Rescue Service were called.")
    assert mentions_of(doc) == [("Loamshire Fire and Rescue Service", "lfrs")]
    summary = nlp.analyze_pipes(pretty=False)["summary"]
    assert summary["cuttings_reference_resolver"]["assigns"] == ["doc.spans"]
    assert summary["cuttings_watchlist_ruler"]["assigns"] == ["doc._.watchlist_matches"]


def test_saved_pipeline_loads_after_the_watchlist_file_is_moved(tmp_path):
    path = tmp_path / "watchlist.toml"
    path.write_text(SMALL_WATCHLIST)
    nlp = build_nlp(load_watchlist(path))
    nlp.to_disk(tmp_path / "saved")
    path.rename(tmp_path / "elsewhere.toml")
    (tmp_path / "saved").rename(tmp_path / "moved")
    assert not any("watchlist.toml" in text for text in
                   [(tmp_path / "moved" / "config.cfg").read_text()])
    loaded = spacy.load(tmp_path / "moved")
    text = "The Loamshire brigade sent two engines to Loamchester. The fire service said all were safe."
    expected = mentions_of(nlp(text))
    assert expected == [("Loamshire brigade", "lfrs"), ("The fire service", "lfrs")]
    assert mentions_of(loaded(text)) == expected


def test_structural_names_and_coordinated_lists():
    nlp = build_nlp(_small_watchlist())
    doc = nlp("Chiefs from the Loamshire and Barsetshire fire services met on Monday.")
    assert sorted(span.label_ for span in doc.spans[MENTIONS_KEY]) == ["bfrs", "lfrs"]
    doc = nlp("A new control room will serve each Wessex, Loamshire and Barsetshire brigade.")
    assert sorted(span.label_ for span in doc.spans[MENTIONS_KEY]) == ["bfrs", "lfrs"]
    doc = nlp("Savings were found by the fire and rescue services across the Loamshire and Barsetshire areas.")
    assert sorted(span.label_ for span in doc.spans[MENTIONS_KEY]) == ["bfrs", "lfrs"]
    doc = nlp("Bus services across Loamshire and Barsetshire were cut.")
    assert mentions_of(doc) == []


def test_generic_reference_resolved_by_person_then_by_area():
    nlp = build_nlp(_small_watchlist())
    doc = nlp("Ada Quill spoke at the open day. The fire service has a new engine.")
    assert mentions_of(doc) == [("The fire service", "lfrs")]
    doc = nlp("A barn burnt near Barchester. The fire service sent a crew from Barchester fire station.")
    assert mentions_of(doc) == [("The fire service", "bfrs")]
    doc = nlp("Ministers want every fire service to publish its figures.")
    assert mentions_of(doc) == []


def test_a_generic_reference_opening_a_longer_name_is_no_mention():
    """"the Fire Service College", "the Fire Brigades Union", "the King's Fire Service Medal", "the
    Fire Services Management Committee" name a college, a union, a medal, a committee."""
    nlp = build_nlp(_small_watchlist())
    context = "Crews from Barchester fire station attended. "
    for sentence in ("She trained at the Fire Service College in the spring.",
                     "A spokesman for the Fire Brigades Union disagreed.",
                     "He received the King's Fire Service Medal on Friday.",
                     "He sits on the Fire Services Management Committee.",
                     "Bob Fish, the Fire Service Minister, visited."):
        assert mentions_of(nlp(context + sentence)) == [], sentence
    # The reference itself still counts where the capitalised words after it are no such name
    # ("Control", a role, a person), or where it is not written as a name.
    assert mentions_of(nlp(context + "The Fire Service Control room took 300 calls.")) == [
        ("The Fire Service", "bfrs")]
    assert mentions_of(nlp(context + "Bob Fish, the Fire Service Chief Officer, said so.")) == [
        ("the Fire Service", "bfrs")]
    assert mentions_of(nlp(context + "Leaders said the fire service College funding was safe.")) == [
        ("the fire service", "bfrs")]


def _small_watchlist(text: str = SMALL_WATCHLIST):
    """The watchlist of TOML ``text``, loaded from a file as users load theirs."""
    import tempfile
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "watchlist.toml"
        path.write_text(text)
        return load_watchlist(path)


def test_exclusion_blocks_only_its_own_body(analyser):
    result = analyser.analyse("Budgets\n\nThe rises set by the West Mercia Police and Crime Commissioner "
                              "were agreed.", "2020-01-01")
    assert {mention["entity_id"] for mention in result["mentions"]} == {"wm_pcc"}


def test_source_region_settles_the_fire_service_when_the_text_does_not(analyser):
    text = "Crews praised\n\nThe fire service sent four engines to a barn blaze overnight."
    assert analyser.analyse(text, "2024-01-01")["mentions"] == []
    found = analyser.analyse(text, "2024-01-01", "Shropshire")["mentions"]
    assert [(m["surface"], m["entity_id"]) for m in found] == [("The fire service", "sfrs")]
    assert analyser.analyse(text, "2024-01-01", "Devon")["mentions"] == []


BARE_AREA_WATCHLIST = '''
[[category]]
id = "fire_service"
heads = ["fire service", "fire and rescue service"]
weak_heads = ["brigade"]
plural_heads = ["fire services", "brigades"]

[[category]]
id = "fire_authority"
heads = ["fire authority"]
plural_heads = ["fire authorities"]

[[entity]]
id = "wmfrs"
name = "Wessex and Mercia Fire Service"
kind = "organisation"
category = "fire_service"
aliases = ["Wessex and Mercia Fire Service"]
area_names = ["Wessex and Mercia"]
bare_area_names = ["Wessex and Mercia"]

[[entity]]
id = "wmfa"
name = "Wessex and Mercia Fire Authority"
kind = "organisation"
category = "fire_authority"
aliases = ["Wessex and Mercia Fire Authority"]
area_names = ["Wessex and Mercia"]
'''


@pytest.mark.parametrize("text, expected", [
    # The old county's name used for its fire service, as subject or object.
    ("Loamshire's on-call crew was assisting Wessex & Mercia with rescues across the border.",
     [("Wessex & Mercia", "wmfrs")]),
    ("Our fire grant fell by a fifth. Wessex and Mercia, by comparison, lost less.", [("Wessex and Mercia", "wmfrs")]),
    # The nearest head word says which of the area's bodies is meant.
    ("Both fire authorities - Loamshire and Wessex and Mercia - voted against.", [("Wessex and Mercia", "wmfa")]),
    # The area, not the body: after a preposition, in a list after one, inside a longer name.
    ("Floods closed roads in Wessex and Mercia, firefighters said.", []),
    ("Fire crews in Loamshire, Wessex and Mercia trained together.", []),
    ("BBC Wessex and Mercia reported the fire.", []),
    ("The Wessex and Mercia FBU secretary spoke about the fire cuts.", []),
    # No fire in the sentence or the one before it.
    ("Wessex and Mercia was a county until 1998. It had many farms.", []),
])
def test_bare_area_name_names_the_body_in_a_fire_sentence(text, expected):
    nlp = build_nlp(_small_watchlist(BARE_AREA_WATCHLIST))
    assert mentions_of(nlp(text)) == expected


def test_bare_area_name_without_a_sentencizer(tmp_path):
    nlp = blank_pipeline(tmp_path, BARE_AREA_WATCHLIST)
    doc = nlp("Loamshire's on-call crew was assisting Wessex & Mercia with rescues.")
    assert mentions_of(doc) == [("Wessex & Mercia", "wmfrs")]


# -- another body's name, a one-word reference's field, nicknames, the outlet's region ----------
# Written sentences, none about the watched areas: with a local outlet's region they gave the
# outlet's body before rules-6 (the out-of-area audit of 2026-12-06, bench/out_of_area.py).

def mention_pairs(result):
    return [(mention["surface"], mention["entity_id"]) for mention in result["mentions"]]


@pytest.mark.parametrize("text", [
    # 1. Another body's title: a place or a name before it, a possessive, "for"/"of" and a place after it.
    "Tributes paid\n\nThe Cleveland Police and Crime Commissioner thanked the volunteers.",
    "Metropolitan Police Commissioner Sir Mark Rowley said officers would be vetted again.",
    "The North Yorkshire Police, Fire and Crime Commissioner set a higher precept for policing.",
    "Ann Smith, the PCC for Essex, said crime had fallen in rural areas.",
    "Chris Tang, Hong Kong's new police commissioner, said police alone could not end the violence.",
    "Riot\n\nPolice and Crime Commissioner Steve Turner condemned the disorder in the town centre.",
    "Riot\n\nPCC Steve Turner condemned the disorder in the town centre.",
    "The lawsuit named agents of the Commissioner of Police, the papers show.",
    # 2. A one-word reference in an article without a word of the body's field.
    "Health funding\n\nThe Commissioner said the vaccine programme would reach every school by June.",
    "Trade talks\n\nThe EU Trade Commissioner said tariffs on steel would stay.",
    # 3. "police chief": a force's officer, not the commissioner, unless the article names the commissioner.
    "Arrests made\n\nThe police chief said officers had arrested two men after the protest.",
    "Interim BART Police Chief Ed Alvarez told reporters the train was stopped.",
    # 4. Another fire service's name ending in a generic reference.
    "Bush fires\n\nThe New South Wales Rural Fire Service said the blaze was contained.",
    "Crews from Essex Fire Service were called to the barn at midnight.",
    "Reforms\n\nThe Government's fire service reforms were criticised by union leaders.",
])
def test_other_bodies_titles_are_no_mention_even_with_a_local_outlets_region(analyser, text):
    for region in (None, "Worcestershire", "Shropshire", "Herefordshire", "West Mercia"):
        assert analyser.analyse(text, "2024-01-01", region)["mentions"] == [], region


def test_outlets_region_is_no_last_resort_in_a_story_naming_another_body_of_the_category(analyser):
    """R/4: "the fire service" after Kent Fire and Rescue Service is Kent's, not the outlet's;
    "Police and Crime Commissioner Matt Storey" after the Cleveland commissioner is Cleveland's."""
    fire = ("Warehouse blaze\n\nCrews from Kent Fire and Rescue Service fought the flames overnight.\n\n"
            "The fire service said the roof had collapsed.")
    assert analyser.analyse(fire, "2024-01-01", "Worcestershire")["mentions"] == []
    police = ("Clean-up praised\n\nThe Cleveland Police and Crime Commissioner praised residents.\n\n"
              "Police and Crime Commissioner Matt Storey said crime had fallen since the riots.")
    assert analyser.analyse(police, "2024-01-01", "Shropshire")["mentions"] == []
    # Without another body named, the outlet's region still settles "the fire service".
    alone = "Warehouse blaze\n\nThe fire service said the roof had collapsed after crews fought the flames."
    assert mention_pairs(analyser.analyse(alone, "2024-01-01", "Worcestershire")) == [("The fire service", "hwfrs")]


@pytest.mark.parametrize("text, region, expected", [
    # "the fire service" in a Worcester story, by its place and by the outlet's region.
    ("Flat fire\n\nThe fire service sent two engines to a flat in Worcester.", None,
     [("The fire service", "hwfrs")]),
    ("Barn fire\n\nThe fire service sent four engines to a barn blaze overnight.", "Worcestershire",
     [("The fire service", "hwfrs")]),
    ("Contentious fire service cuts deferred\n\nCouncillors in Worcester delayed the vote.", None,
     [("fire service", "hwfrs")]),
    ("Barn fire\n\nYesterday Fire Service crews were called to a barn in the village.", "Worcestershire",
     [("Fire Service", "hwfrs")]),
    ("Barn fire\n\nWorcester Fire Service crews were called to a barn in the village.", None,
     [("Fire Service", "hwfrs")]),
    # A headline in title case: its capitalised words say nothing of a name.
    ("West Mercia Police and Fire to Come Under Single Governance as Home Office Backs Commissioner's Plan"
     "\n\nMinisters approved the plan.", "Worcestershire", [("Commissioner", "wm_pcc")]),
    # "the commissioner" after the commissioner is named.
    ("Visit\n\nWest Mercia's Police and Crime Commissioner John Campion visited Ludlow. "
     "The commissioner said rural crime was his priority.", None,
     [("West Mercia's Police and Crime Commissioner", "wm_pcc"), ("John Campion", "wm_pcc"),
      ("The commissioner", "wm_pcc")]),
    # "the Police and Crime Commissioner" in a Shropshire outlet's story about West Mercia's policing.
    ("Budget set\n\nThe Police and Crime Commissioner has set next year's budget for West Mercia Police.",
     "Shropshire", [("The Police and Crime Commissioner", "wm_pcc"), ("West Mercia Police", "west_mercia_police")]),
    ("Budget set\n\nThe Police and Crime Commissioner has set next year's budget for policing.",
     "Shropshire", [("The Police and Crime Commissioner", "wm_pcc")]),
    # A one-word reference with a word of the body's field in the article.
    ("Rural crime\n\nThe Commissioner said crime in villages had fallen.", "Herefordshire",
     [("The Commissioner", "wm_pcc")]),
    # A watched place, person or an office's word before the title: the watched body.
    ("Riot\n\nPolice and Crime Commissioner John Campion condemned the disorder.", "Worcestershire",
     [("Police and Crime Commissioner", "wm_pcc"), ("John Campion", "wm_pcc")]),
    ("Shropshire Police and Crime Commissioner John Campion opened the hub.", None,
     [("Police and Crime Commissioner", "wm_pcc"), ("John Campion", "wm_pcc")]),
    ("Leaders of Hereford and Worcester Combined Fire Authority met in Worcester.", None,
     [("Fire Authority", "hw_fire_authority")]),
    ("Crowds cheered Tory Police and Crime Commissioner John Campion in Telford.", None,
     [("Police and Crime Commissioner", "wm_pcc"), ("John Campion", "wm_pcc")]),
    # A newsroom's nickname for the commissioner, in a story naming the commissioner.
    ("Fire bid\n\nPCC John Campion wants to run the fire service. The police chief's bid was opposed.", None,
     [("PCC", "wm_pcc"), ("John Campion", "wm_pcc"), ("police chief", "wm_pcc")]),
])
def test_true_local_references_still_resolve(analyser, text, region, expected):
    found = mention_pairs(analyser.analyse(text, "2024-01-01", region))
    assert [pair for pair in found if pair[1] in {entity for _surface, entity in expected}] == expected


def test_police_chief_in_a_story_naming_only_the_force_is_not_the_commissioner(analyser):
    text = "Arrests\n\nWest Mercia Police arrested two men. The police chief said patrols would continue."
    assert mention_pairs(analyser.analyse(text, "2024-01-01", "Worcestershire")) == [
        ("West Mercia Police", "west_mercia_police")]


def test_another_bodys_name_is_no_mention_under_any_watchlist():
    """The rule reads the watchlist's places, not West Mercia's: "Wessex Fire Service" and "the
    fire service of Wessex" are not Barsetshire's, "the fire service of Barchester" is."""
    nlp = build_nlp(_small_watchlist())
    context = "Crews from Barchester fire station attended. "
    assert mentions_of(nlp(context + "Wessex Fire Service sent a second engine.")) == []
    assert mentions_of(nlp(context + "Help came from the fire service of Wessex.")) == []
    assert mentions_of(nlp(context + "Help came from the fire service of Barchester.")) == [
        ("the fire service", "bfrs")]
    assert mentions_of(nlp(context + "The fire service sent a second engine.")) == [("The fire service", "bfrs")]


# -- true local references the rules-6 name rules dropped (rules-7, the review of 2026-12-06) ------

@pytest.mark.parametrize("text, region, expected", [
    # A town of the body's region before the reference: the last word of each part of a place is
    # watched ("Whitchurch" of "Whitchurch, Shropshire", "Drayton" of "Market Drayton"), and
    # Shropshire's station towns are region terms.
    ("Whitchurch's fire service was praised after the blaze.", "Shropshire", [("fire service", "sfrs")]),
    ("Market Drayton's fire service was praised.", "Shropshire", [("fire service", "sfrs")]),
    ("Church Stretton's fire service was praised.", "Shropshire", [("fire service", "sfrs")]),
    ("Ironbridge's fire service was praised.", "Shropshire", [("fire service", "sfrs")]),
    ("Wem Fire Service crews were praised after the blaze.", "Shropshire", [("Fire Service", "sfrs")]),
    # A medal's name is no other fire service: the outlet's region still settles "the fire service".
    ("Station manager Tom Evans has been awarded the King's Fire Service Medal. "
     "The fire service said he had served for 30 years.", "Worcestershire", [("The fire service", "hwfrs")]),
    ("Station manager Tom Evans has been awarded the Queen's Fire Service Medal in the New Year Honours. "
     "The fire service said he served 30 years.", "Shropshire", [("The fire service", "sfrs")]),
    # The field's words in any form: "policing", "criminals".
    ("The Commissioner said policing in Shropshire would get more money.", None, [("The Commissioner", "wm_pcc")]),
    ("The Commissioner said criminals in Telford would be caught.", None, [("The Commissioner", "wm_pcc")]),
    # A deputy's title: the person after it is no holder, known or not.
    ("Deputy Police and Crime Commissioner Tracey Onslow said crime in Telford fell.", None,
     [("Police and Crime Commissioner", "wm_pcc")]),
])
def test_true_local_references_the_other_body_rules_keep(analyser, text, region, expected):
    assert mention_pairs(analyser.analyse(text, "2024-01-01", region)) == expected


@pytest.mark.parametrize("text", [
    # A word many places share ("West" of "West Mercia") makes no name a watched one, nor does a
    # watched place's first word alone ("Market" of "Market Drayton", "Bishop" of "Bishop's Castle",
    # "Upton" of "Upton-upon-Severn", "Church" of "Church Stretton"; the second review of 2026-12-06).
    "Crews from West Yorkshire Fire Service were called to the mill.",
    "Market Harborough Fire and Rescue Service crews attended a blaze.",
    "The Bishop Auckland fire service said crews attended.",
    "The Upton fire service on the Wirral said crews attended.",
    "The Church Village fire service near Pontypridd said crews attended.",
    # Still no policy or firm is the field: "the Commissioner" of a trade story.
    "Trade talks\n\nThe Commissioner said the new policy would help firms.",
    # A stranger after the office's own title is still another body's holder.
    "Riot\n\nPolice and Crime Commissioner Steve Turner condemned the disorder in the town centre.",
])
def test_other_bodies_stay_out_after_the_rules_7_changes(analyser, text):
    for region in (None, "Worcestershire", "Shropshire"):
        assert analyser.analyse(text, "2024-01-01", region)["mentions"] == [], region


# -- the office holder's namesakes (2026-12-06 late: an audit's "Owner Matthew Ellis ... Mr Ellis") ----

@pytest.mark.parametrize("text", [
    "Bakery opens\n\nOwner Sarah Campion opened the shop in Ludlow. Mrs Campion said it was a dream.",
    "Bakery opens\n\nSarah Campion opened the shop. Campion said it was a dream.",
])
def test_a_namesake_of_the_office_holder_is_no_mention(analyser, text):
    assert analyser.analyse(text, "2024-05-01", None)["mentions"] == []


@pytest.mark.parametrize("text, expected", [
    ("Policing plan\n\nJohn Campion published his plan. Mr Campion said crime fell.",
     [("John Campion", "wm_pcc"), ("Mr Campion", "wm_pcc")]),
    # the holder named in full beside a namesake: his titled surname is still him
    ("Policing plan\n\nJohn Campion's plan was published. His wife Sarah Campion said she was proud. "
     "Mr Campion thanked staff.", [("John Campion", "wm_pcc"), ("Mr Campion", "wm_pcc")]),
    ("Policing plan\n\nMr Campion published his plan.", [("Mr Campion", "wm_pcc")]),
    # the office named: another spelling of the first name is the holder
    ("Policing plan\n\nPCC Jon Campion published his plan. Campion said it works.",
     [("PCC", "wm_pcc"), ("Campion", "wm_pcc"), ("Campion", "wm_pcc")]),
])
def test_the_office_holder_is_still_a_mention(analyser, text, expected):
    assert mention_pairs(analyser.analyse(text, "2024-05-01", None)) == expected
