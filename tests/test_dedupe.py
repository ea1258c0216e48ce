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
