"""Does labelling the least certain stories first teach the models more per label than labelling at random?

`cuttings label` shows the stories whose predictions are least certain first (``cuttings.labelling.
candidates``: any prediction flagged uncertain, then the lowest best-probability over the story's
tasks and bodies). This simulates it on the labelled corpus: the held-out slices (``--test``, default
gov and hw: coverage the pool does not hold) are the test set; the other slices are the pool of
"unlabelled" stories whose labels are revealed when chosen. Each run starts from ``--start`` random
pool stories, then ``--rounds`` times trains the models as `cuttings train` does (``train_models``,
2 CV folds for the cards, no held-out figure), scores them on the test set (``evaluate_models``) and
adds ``--step`` stories: the least certain by the trained models' predictions (``least_certain``,
the queue's order) or drawn at random (``random``), from the same start and seed. Per fold seed, per
task, the headline figure at each size and its mean over the sizes (the area under the learning
curve, the figure to compare).

    PYTHONPATH=. .venv/bin/python bench/active_learning.py [--seeds 0,1,2] [--start 60] [--step 40]
        [--rounds 5] [--test gov,hw] [--task stance_governance]
"""
import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cuttings.stages import classification_rows  # noqa: E402
from nlp.classify import (Classifier, analyse_records, evaluate_models, headline_metric,  # noqa: E402
                          record_document, slice_of, train_models)
from nlp.corpus import load_corpus  # noqa: E402
from nlp.scheme import load_scheme  # noqa: E402

STRATEGIES = ("least_certain", "random")


def queue_order(predictions: list[dict]) -> list[int]:
    """Indices of ``predictions`` (``Classifier.predict_many`` results) in the labelling queue's
    order, as ``cuttings.labelling.candidates`` orders stored classifications: per (task, target) the
    highest probability and whether any row is flagged uncertain; per story, flagged first, then the
    lowest of those probabilities, then by index."""
    keys = []
    for index, prediction in enumerate(predictions):
        per_target: dict[tuple[str, str], tuple[float, bool]] = {}
        for row in classification_rows(prediction, defaultdict(str)):
            best, flagged = per_target.get((row["task"], row["target"]), (0.0, False))
            per_target[(row["task"], row["target"])] = (max(best, row["probability"]), flagged or row["uncertain"])
        uncertain = any(flagged for _, flagged in per_target.values())
        confidence = min((best for best, _ in per_target.values()), default=1.0)
        keys.append((not uncertain, confidence, index))
    return [index for *_, index in sorted(keys)]


def simulate(records: list[dict], scheme, test_slices: set[str], *, start: int, step: int, rounds: int,
             seed: int, strategy: str, task: str | None = None, progress=print) -> list[dict]:
    """One learning curve: per size, ``{"size": n, task: headline figure on the test set}``. ``task``:
    order the queue by that task's predictions alone (``cuttings label --task``)."""
    pool = [record for record in records if slice_of(record["id"]) not in test_slices]
    test = [record for record in records if slice_of(record["id"]) in test_slices]
    rng = np.random.default_rng(seed)
    labelled = [int(i) for i in rng.choice(len(pool), size=start, replace=False)]
    curve = []
    with tempfile.TemporaryDirectory() as models:
        for round_number in range(rounds + 1):
            train_models([pool[i] for i in labelled], scheme, models, folds=2, slices=False)
            classifier = Classifier.load(models)
            report = evaluate_models(classifier, test, scheme)
            curve.append({"size": len(labelled), **{task: report[task][headline_metric(report[task])]
                                                   for task in report}})
            progress(f"  seed {seed} {strategy}: {len(labelled)} labelled, "
                     + ", ".join(f"{task} {curve[-1][task]:.3f}" for task in report))
            if round_number == rounds:
                break
            taken = set(labelled)
            remaining = [i for i in range(len(pool)) if i not in taken]
            if strategy == "random":
                chosen = [int(i) for i in rng.choice(remaining, size=min(step, len(remaining)), replace=False)]
            else:
                predictions = classifier.predict_many([record_document(pool[i]) for i in remaining])
                if task is not None:
                    predictions = [{task: prediction[task]} for prediction in predictions]
                chosen = [remaining[i] for i in queue_order(predictions)[:step]]
            labelled += chosen
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--start", type=int, default=60)
    parser.add_argument("--step", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--test", default="gov,hw", help="comma-separated slices held out as the test set")
    parser.add_argument("--task", help="order the queue by this task's predictions alone, as `cuttings label --task`")
    args = parser.parse_args()
    scheme = load_scheme()
    records = analyse_records(load_corpus(scheme=scheme))
    test_slices = {name.strip() for name in args.test.split(",") if name.strip()}
    slices = {slice_of(record["id"]) for record in records}
    if not test_slices or not test_slices < slices:
        raise SystemExit(f"--test {args.test!r}: expected some, not all, of the slices {', '.join(sorted(slices))}")
    pool_size = sum(slice_of(record["id"]) not in test_slices for record in records)
    if args.start < 10 or args.start + args.step * args.rounds > pool_size:
        raise SystemExit(f"--start {args.start} + --step {args.step} x --rounds {args.rounds} must fit the pool of "
                         f"{pool_size} stories (and start at 10 or more)")
    if args.task is not None and args.task not in scheme.tasks:
        raise SystemExit(f"--task {args.task!r}: the scheme has {', '.join(scheme.tasks)}")
    seeds = [int(seed) for seed in args.seeds.split(",") if seed.strip()]
    areas: dict[str, dict[str, list[float]]] = {strategy: {} for strategy in STRATEGIES}
    for seed in seeds:
        for strategy in STRATEGIES:
            curve = simulate(records, scheme, test_slices, start=args.start, step=args.step, rounds=args.rounds,
                             seed=seed, strategy=strategy, task=args.task)
            for task in scheme.tasks:
                areas[strategy].setdefault(task, []).append(float(np.mean([point[task] for point in curve])))
    print(f"\ntest slices {', '.join(sorted(test_slices))}; {args.start} + {args.step} x {args.rounds} labelled"
          + (f", the queue ordered by {args.task} alone" if args.task else "") + "; "
          f"seeds {args.seeds}: mean headline figure over the curve (per seed)")
    print("| task | least certain first | random | difference per seed |")
    print("| --- | --- | --- | --- |")
    for task in scheme.tasks:
        first, random = areas["least_certain"][task], areas["random"][task]
        differences = " / ".join(f"{a - b:+.3f}" for a, b in zip(first, random))
        print(f"| {task} | {np.mean(first):.3f} ({' / '.join(f'{v:.3f}' for v in first)}) | "
              f"{np.mean(random):.3f} ({' / '.join(f'{v:.3f}' for v in random)}) | {differences} |")


if __name__ == "__main__":
    main()
