"""URL normalisation and near-duplicate detection."""
import pytest

from crawler.dedupe import SyndicationIndex, fingerprint, from_blob, normalise_url, to_blob


@pytest.mark.parametrize("variant", [
    "https://www.example.co.uk/news/123.fire/",
    "HTTPS://WWW.Example.co.uk/news/123.fire",
    "https://www.example.co.uk/news/123.fire/?utm_source=twitter&utm_medium=social",
    "https://www.example.co.uk/news/123.fire?fbclid=abc&ref=rss",
    "https://www.example.co.uk/news/123.fire/amp/",
    "https://m.example.co.uk/news/123.fire/",
    "https://amp.example.co.uk/news/123.fire/#comments",
    "https://www.example.co.uk:443/news/123.fire",
])
def test_variants_normalise_to_one_url(variant):
    assert normalise_url(variant) == "https://www.example.co.uk/news/123.fire"


def test_meaningful_query_kept_and_sorted():
    assert normalise_url("https://x.example/article?id=5&page=2") == normalise_url("https://x.example/article?page=2&id=5")
    assert normalise_url("https://x.example/article?id=5") != normalise_url("https://x.example/article?id=6")


def test_fingerprint_round_trip_and_similarity():
    text = " ".join(f"word{i}" for i in range(300))
    a, b = fingerprint(text), fingerprint(text + " This story first appeared in the Echo, our sister title.")
    assert from_blob(to_blob(a)).jaccard(a) == 1.0
    assert a.jaccard(b) > 0.8
    other = fingerprint(" ".join(f"other{i}" for i in range(300)))
    assert a.jaccard(other) < 0.1


def test_index_finds_copy_not_distinct_report():
    index = SyndicationIndex()
    story = " ".join(f"alpha{i}" for i in range(200))
    index.add(1, fingerprint(story))
    assert index.find_original(fingerprint(story + " extra closing line for the copy"))[0] == 1
    assert index.find_original(fingerprint(" ".join(f"beta{i}" for i in range(200)))) is None
    index.remove(1)
    assert index.find_original(fingerprint(story)) is None


# --------------------------------------------------------------------------
# Rewordings within one outlet (red team, session 13)
# --------------------------------------------------------------------------

REWORDED = ("West Mercia Police and Crime Commissioner John Campion faces fresh criticism tonight after a leaked report "
            "showed the fire governance takeover would cost far more than the public were told. Councillors on the "
            "police and crime panel said they had lost confidence in the commissioner and called for an urgent "
            "meeting. Hereford and Worcester Fire and Rescue Service said it had not seen the report. The union said "
            "crews were angry and that the plan should be scrapped before any more money was wasted on it.")
FILLERS = ["indeed", "also", "now", "then", "still", "really", "quite", "just"]


def reworded(n: int) -> str:
    """The red team's page ``n``: a filler word before every fourth word of one story."""
    return " ".join(word if (i + n) % 4 else FILLERS[(i + n) % 8] + " " + word
                    for i, word in enumerate(REWORDED.split()))


def test_rewordings_from_one_source_are_copies_of_the_first():
    from crawler.dedupe import REWORDING_THRESHOLD, content_words, word_similarity
    pages = [reworded(n) for n in range(6)]
    assert max(fingerprint(a).jaccard(fingerprint(b)) for a in pages for b in pages if a != b) < 0.5   # shingles miss
    index = SyndicationIndex()
    index.add(1, fingerprint(pages[0]), source_id="hostile", text=pages[0])
    for page in pages[1:]:
        found = index.find_original(fingerprint(page), source_id="hostile", text=page)
        assert found is not None and found[0] == 1 and found[1] >= REWORDING_THRESHOLD
    # only within one source: another outlet's rewording is its own story (as before)
    assert index.find_original(fingerprint(pages[1]), source_id="other", text=pages[1]) is None
    # nor without the page's source and text (callers that give none behave as before)
    assert index.find_original(fingerprint(pages[1])) is None
    # too short to tell: a brief sharing most of its few words is not merged
    index.add(2, fingerprint("Road closed at Ledbury after crash"), source_id="hostile",
              text="Road closed at Ledbury after crash")
    assert index.find_rewording("hostile", "Road closed at Ledbury after a crash today") is None
    index.remove(1)
    assert index.find_original(fingerprint(pages[1]), source_id="hostile", text=pages[1]) is None
    assert word_similarity(content_words(pages[0]), content_words(REWORDED)) > 0.9   # two filler words added


def test_copy_similarity_applies_both_tests_to_two_stored_pages():
    from crawler.dedupe import copy_similarity
    first, second = reworded(0), reworded(1)
    assert copy_similarity(fingerprint(first), fingerprint(second)) is None   # shingles alone miss it
    assert copy_similarity(fingerprint(first), fingerprint(second), same_source=True, text=first,
                           other_text=second) >= 0.6
    assert copy_similarity(fingerprint(first), fingerprint(second), same_source=False, text=first,
                           other_text=second) is None   # two outlets: shingles only
    story = " ".join(f"alpha{i}" for i in range(200))
    assert copy_similarity(fingerprint(story), fingerprint(story + " one more line")) > 0.9


def test_no_two_distinct_corpus_articles_would_merge_as_rewordings():
    """The labelled corpus: 362 distinct stories, as though one outlet had published them all."""
    from crawler.dedupe import content_words, word_similarity
    from nlp import packaged_data
    articles = sorted((packaged_data("corpus") / "articles").glob("*.txt"))
    assert len(articles) > 300
    bodies = {n: path.read_text(encoding="utf-8").split("\n", 1)[-1] for n, path in enumerate(articles)}
    index = SyndicationIndex()
    merged = []
    for n, body in bodies.items():
        found = index.find_rewording("one-outlet", body)
        if found:
            merged.append((articles[n].stem, articles[found[0]].stem, round(found[1], 3)))
        index.add_words(n, "one-outlet", body)
    assert merged == []
    words = [content_words(body) for body in bodies.values()]
    highest = max(word_similarity(a, b) for i, a in enumerate(words) for b in words[i + 1:])
    assert highest < 0.45   # the threshold (0.6) keeps a margin over the closest two distinct stories (0.38)
