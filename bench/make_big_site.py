"""Generate a large synthetic news site for the crawl-throughput benchmark.

Usage::

    python bench/make_big_site.py --out DIR [--articles 2000] [--corpus DIR]

Same structure as the demo site (three outlets, feeds, sitemaps, paginated sections,
non-article pages, robots.txt, manifest.json) built by the demo generator
``data/build_demo_site.py``; the stories are deterministic variants of the seed-corpus
texts: the body paragraphs after the first are shuffled and one or two paragraphs of
another corpus article are mixed in, so every body and canonical URL is distinct.
Writes ``DIR/sources.toml`` (``{base}`` = ``http://127.0.0.1:PORT``) next to the site.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_demo_generator():
    """Import ``data/build_demo_site.py`` (``data/`` is not a package)."""
    name = "build_demo_site"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "data" / "build_demo_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


demo = _load_demo_generator()

_HEADLINE_PREFIXES = ("Update", "Analysis", "Latest", "Explained", "Round-up", "Reaction", "In brief", "Focus")


def synthetic_stories(corpus_dir: Path, count: int) -> list:
    """``count`` deterministic story variants built from the corpus texts (ids ``<corpus id>~<round>``)."""
    base = demo.stories_from_corpus(corpus_dir)
    stories = []
    for index in range(count):
        source = base[index % len(base)]
        round_number = index // len(base)
        rng = random.Random(f"big-site:{index}")
        paragraphs = list(source.paragraphs)
        tail = paragraphs[1:]
        rng.shuffle(tail)
        paragraphs = paragraphs[:1] + tail
        donor = base[(index + 1 + rng.randrange(len(base) - 1)) % len(base)]
        for _ in range(1 + rng.randrange(2)):
            if donor.paragraphs:
                paragraphs.insert(1 + rng.randrange(len(paragraphs)), rng.choice(donor.paragraphs))
        prefix = _HEADLINE_PREFIXES[(index + round_number) % len(_HEADLINE_PREFIXES)]
        stories.append(
            demo.Story(
                corpus_id=f"{source.corpus_id}~{round_number}",
                headline=f"{prefix}: {source.headline}",
                paragraphs=tuple(paragraphs),
                published_on=source.published_on - timedelta(days=round_number * 97 + rng.randrange(5)),
                outlet_slug=source.outlet_slug,
            )
        )
    return stories


def make_big_site(out_dir: Path, articles: int, corpus_dir: Path = demo.DEFAULT_CORPUS_DIR) -> dict:
    """Write the synthetic site and ``out_dir/sources.toml``; returns the manifest.

    ``articles`` original stories are generated; the site also carries the usual
    syndicated copies (``demo.DEFAULT_SYNDICATED_COUNT``).
    """
    return demo.build_site(
        synthetic_stories(corpus_dir, articles),
        out_dir,
        out_dir / "sources.toml",
        sources_header=f"Sources for the synthetic benchmark site in {out_dir.name}, made by bench/make_big_site.py.",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory (replaced)")
    parser.add_argument("--articles", type=int, default=2000, help="number of original stories")
    parser.add_argument("--corpus", type=Path, default=demo.DEFAULT_CORPUS_DIR, help="seed corpus directory")
    args = parser.parse_args(argv)
    manifest = make_big_site(args.out, args.articles, args.corpus)
    print(f"wrote {args.out}: {len(manifest['articles'])} article pages, "
          f"{len(manifest['non_article_paths'])} non-article pages, sources in {args.out / 'sources.toml'}")


if __name__ == "__main__":
    main()
