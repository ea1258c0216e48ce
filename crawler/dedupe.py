"""Duplicate detection: URL normalisation and near-duplicate (syndicated) copies.

* Exact duplicates: the same story under URL variants (tracking parameters, AMP or
  mobile hosts, trailing slashes, case) collapses to one normalised URL; pages that
  declare a ``rel=canonical`` are keyed by it.
* Near duplicates: sister titles republish one story with small edits. A MinHash
  (datasketch) over word 5-shingles of the body, with an LSH index, finds the first
  copy; the later copy is stored with ``duplicate_of`` pointing at it.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from cuttings import store

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ref|ref_src|cmpid|ito|at_medium|at_campaign|"
    r"ocid|icid|_ga|share|amp|outputType|service)$", re.I)
AMP_PATH = re.compile(r"(/amp/?$|\.amp$|/amp(?=/))", re.I)
MOBILE_HOST = re.compile(r"^(m|amp|mobile)\.", re.I)

NUM_PERM = 128
MINHASH_SCHEME = "affine32"  # datasketch 2 hashing scheme; stored fingerprints must be read with the same
SHINGLE_WORDS = 5
NEAR_DUPLICATE_THRESHOLD = 0.5  # copies measured 0.57-0.96 on the demo, distinct reports <= 0.17


def normalise_url(url: str) -> str:
    """A stable key for one page: lower-case scheme and host, no default port, no
    tracking parameters, fragment, AMP/mobile variant or trailing slash; sorted query."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    host = MOBILE_HOST.sub("www.", host) if MOBILE_HOST.match(host) else host
    port = parts.port
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    path = AMP_PATH.sub("", parts.path) or "/"
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING_PARAMS.match(k)))
    return urlunsplit((scheme, netloc, path, query, ""))


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    words = re.findall(r"\w+", (text or "").lower())
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i:i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def fingerprint(text: str) -> MinHash:
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=MINHASH_SCHEME)
    minhash.update_batch(list(shingles(text)))
    return minhash


def to_blob(minhash: MinHash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


def from_blob(blob: bytes) -> LeanMinHash:
    """The MinHash stored by :func:`to_blob` (hash values as little-endian uint64), as a
    LeanMinHash: comparable and indexable, without rebuilding permutation tables."""
    values = np.frombuffer(blob, dtype=np.uint64).astype(np.uint32)
    return LeanMinHash(seed=1, hashvalues=values, scheme=MINHASH_SCHEME)


class SyndicationIndex:
    """In-memory LSH over the fingerprints of stored originals (not of copies)."""

    def __init__(self, threshold: float = NEAR_DUPLICATE_THRESHOLD):
        self.threshold = threshold
        # LSH finds candidates a little below the threshold; the estimate is then checked.
        self.lsh = MinHashLSH(threshold=max(0.1, threshold - 0.15), num_perm=NUM_PERM)
        self.hashes: dict[int, MinHash] = {}

    @classmethod
    def from_db(cls, db) -> "SyndicationIndex":
        index = cls()
        for article_id, blob in store.original_fingerprints(db):
            index.add(article_id, from_blob(blob))
        return index

    def remove(self, article_id: int) -> None:
        if article_id in self.hashes:
            self.lsh.remove(article_id)
            del self.hashes[article_id]

    def add(self, article_id: int, minhash: MinHash) -> None:
        if article_id in self.hashes:
            self.lsh.remove(article_id)
        self.hashes[article_id] = minhash
        self.lsh.insert(article_id, minhash)

    def find_original(self, minhash: MinHash, exclude: int | None = None) -> tuple[int, float] | None:
        """The earliest stored original whose estimated Jaccard similarity passes the threshold."""
        best = None
        for candidate in sorted(self.lsh.query(minhash)):
            if candidate == exclude:
                continue
            similarity = minhash.jaccard(self.hashes[candidate])
            if similarity >= self.threshold:
                best = (candidate, similarity)
                break
        return best
