"""Benchmark the classifiers on the seed corpus.

Prints the cross-validated figures of every task (with the majority baseline),
the time to train all models (cross-validation for the model cards included)
and prediction throughput on one core.

    PYTHONPATH=. /work/main/.venv/bin/python bench/classify.py [--folds 5] [--features tfidf]
"""

from __future__ import annotations

import os

# One core: keep BLAS / OpenMP single-threaded (set before numpy is imported).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from nlp.classify import Classifier, format_report, train_models  # noqa: E402
from nlp.corpus import load_corpus  # noqa: E402
from nlp.features import doc_from_record  # noqa: E402
from nlp.scheme import load_scheme  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--features", default="tfidf")
    parser.add_argument("--repeat", type=int, default=5, help="corpus copies for the throughput run")
    args = parser.parse_args()

    scheme = load_scheme()
    records = load_corpus(scheme=scheme)
    with tempfile.TemporaryDirectory() as models_dir:
        started = time.perf_counter()
        cards = train_models(records, scheme, models_dir, features=args.features, folds=args.folds)
        train_seconds = time.perf_counter() - started
        print(format_report({card["task"]: card["cross_validation"] for card in cards}))
        print(f"training (CV for the model cards + final fits), {len(records)} articles: {train_seconds:.1f} s")
        for card in cards:
            print(f"  {card['model_version']}: {card['train_seconds']:.1f} s")

        classifier = Classifier.load(models_dir)
        docs = [doc_from_record(record) for record in records] * args.repeat
        classifier.predict_many(docs[:10])  # warm up
        started = time.perf_counter()
        classifier.predict_many(docs)
        batch_rate = len(docs) / (time.perf_counter() - started)
        started = time.perf_counter()
        for doc in docs[:200]:
            classifier.predict(doc)
        single_rate = 200 / (time.perf_counter() - started)
        print(f"prediction, one core: {batch_rate:.0f} articles/s with predict_many ({len(docs)} articles), "
              f"{single_rate:.0f} articles/s with predict one at a time")


if __name__ == "__main__":
    main()
