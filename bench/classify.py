"""Benchmark the classifiers on the seed corpus, one or several feature sets side by side.

For each feature set: the cross-validated figures of every task (with the
majority baseline), the time to train all models as `cuttings train` does by
default (a child process with the user's environment: process start, the
analysis of the corpus, 5-fold CV and leave-one-slice-out for the model cards,
the final fits; wall and CPU) and prediction throughput on one core; then a
comparison table.

    PYTHONPATH=. /work/main/.venv/bin/python bench/classify.py [--folds 5] \
        [--features tfidf,static,tfidf+static,minilm,tfidf+minilm] [--quiet]

With ``--seeds 0,1,2`` it only cross-validates, once per fold seed, and prints
each task's headline score per seed with the mean and spread (max - min).

With ``--protocol`` it runs the evaluation that predicts tomorrow (the way levers
are judged, docs/classifiers.md): leave-one-slice-out (train on the other
gathering slices, predict the held-out one, pool; the figure to optimise) and
repeated CV over ``--seeds`` (default 0,1,2), with per-label P/R/F1, confusion
matrices and bootstrap 90% intervals; ``--json-out FILE`` keeps the whole result
(out-of-fold predictions per article included) for error analysis; ``--tasks``
limits the tasks.

    PYTHONPATH=. .venv/bin/python bench/classify.py --protocol [--seeds 0,1,2] [--tasks tone]
        [--param per_entity.C=1.0]   # a lever under test: overrides nlp.classify.PARAMS for this run

With ``--paired BASELINE.json CANDIDATE.json`` it compares two ``--protocol --json-out`` results
of the same corpus (a lever against its baseline): per task, the leave-one-slice-out difference
with a paired bootstrap 90% interval (both scored on the same resamples of articles) and how many
held-out predictions changed, the CV means side by side and the paired difference in each CV fold
seed both ran. It trains nothing:

    PYTHONPATH=. .venv/bin/python bench/classify.py --protocol --tasks tone --json-out base.json
    PYTHONPATH=. .venv/bin/python bench/classify.py --protocol --tasks tone --param per_entity.C=1.0 --json-out c1.json
    PYTHONPATH=. .venv/bin/python bench/classify.py --paired base.json c1.json

With ``--speed-against REV`` it measures prediction throughput on one core of the working tree
against git revision REV side by side (the same models, trained here unless ``--models DIR``; the
same documents; the two trees' code alternating ``--rounds`` times in child processes, each copy of
the corpus a separate ``predict_many`` call) and checks that both predict exactly the same:

    PYTHONPATH=. .venv/bin/python bench/classify.py --speed-against b9a5cca --repeat 3

``--train-each`` lets each tree train its own models, for a revision that cannot read the working
tree's (a model option it does not know); the predictions are then not compared.

With ``--learning-curve 0.5,0.75,1`` it runs leave-one-slice-out with each split trained on that
share of its training articles (drawn once per ``--seeds`` seed) and prints each task's headline
score per share, mean and spread over the seeds: what more labelled articles would buy.

    PYTHONPATH=. .venv/bin/python bench/classify.py --learning-curve 0.5,0.75,1 --seeds 0,1,2
"""

from __future__ import annotations

import os

# The environment as the user has it, before the line below: the training figure is `cuttings train`'s
# own run in a child process with this environment (the bench's one-thread setting hid what BLAS
# threads cost it: docs/benchmarks.md, "Classifier training as a user runs it").
USER_ENVIRONMENT = dict(os.environ)

# One core: keep BLAS / OpenMP single-threaded (set before numpy is imported).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from nlp.classify import (  # noqa: E402
    PARAMS,
    record_document,
    Classifier,
    compare_protocols,
    cross_validate,
    evaluate_protocol,
    format_comparison,
    format_paired,
    format_protocol,
    format_report,
    summarise_seeds,
    train_models,
    TrainingError,
)
from nlp.corpus import load_corpus  # noqa: E402
from nlp.embeddings import EmbeddingUnavailable  # noqa: E402
from nlp.features import DEFAULT_FEATURES, FEATURE_SETS  # noqa: E402
from nlp.scheme import load_scheme  # noqa: E402


# `cuttings train` as the console script runs it (``pipeline:cli``), in a child process.
_CLI = "import sys; from pipeline import cli; sys.argv[0] = 'cuttings'; cli()"


def train_as_user(models_dir: str, features: str, folds: int) -> dict:
    """`cuttings --db NEW train --models DIR [--features F --folds N]`, the slices on (the default):
    what a user runs, in a child process with the user's environment (``USER_ENVIRONMENT``: BLAS
    threads as they are, not the bench's one), from this tree, on a database that does not exist (the
    seed corpus alone), so process start, imports, the analyser and its analysis of the corpus count.
    Returns wall seconds, CPU seconds (user + system of the child and its threads), its printed lines
    and the model cards it wrote."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent.parent
    environment = {**USER_ENVIRONMENT, "PYTHONPATH": str(here)}
    environment.pop("CUTTINGS_HOME", None)  # a checkout's home: data/ (the seed corpus, the shipped configuration)
    command = [sys.executable, "-c", _CLI, "--db", str(Path(models_dir) / "none" / "none.db"), "train",
               "--models", models_dir, "--features", features, "--folds", str(folds)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(command, env=environment, cwd=here, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"`cuttings train` failed (exit {run.returncode}): {last}")
    cards = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(Path(models_dir).glob("*.json"))]
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "lines": run.stdout.strip().splitlines(), "cards": cards}


def bench_features(records: list[dict], scheme, features: str, folds: int, repeat: int, verbose: bool) -> dict:
    """Train (`cuttings train`, CV and held-out slices for the cards) and time prediction for one feature
    set; returns the summary row."""
    with tempfile.TemporaryDirectory() as models_dir:
        trained = train_as_user(models_dir, features, folds)
        train_seconds, train_cpu = trained["wall"], trained["cpu"]
        cards = trained["cards"]
        reports = {card["task"]: card["cross_validation"] for card in cards}
        if verbose:
            print(format_report(reports))
            print("\n".join(trained["lines"]))
            print(f"`cuttings train` (CV and leave-one-slice-out for the model cards, final fits, the analysis of "
                  f"the corpus, process start), {len(records)} articles, the user's thread settings: "
                  f"{train_seconds:.1f} s wall, {train_cpu:.1f} s CPU")
            for card in cards:
                print(f"  {card['model_version']}: {card['train_seconds']:.1f} s")
        classifier = Classifier.load(models_dir)
        docs = [record_document(record) for record in records]
        classifier.predict_many(docs[:10])  # warm up (loads the embedder)
        # Each copy of the corpus its own call: a call shares embeddings and text analysis among its
        # own documents only, so a copy must not reuse another's.
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(repeat):
            classifier.predict_many(docs)
        batch_rate = len(docs) * repeat / (time.perf_counter() - started)
        batch_cpu_rate = len(docs) * repeat / (time.process_time() - cpu_started)
        started = time.perf_counter()
        for doc in docs[:100]:
            classifier.predict(doc)
        single_rate = 100 / (time.perf_counter() - started)
        if verbose:
            print(f"prediction, one core: {batch_rate:.0f} articles/s with predict_many ({repeat} calls of "
                  f"{len(docs)} articles; {batch_cpu_rate:.0f}/s of CPU time), "
                  f"{single_rate:.0f} articles/s with predict one at a time\n")
    return {"features": features, "reports": reports, "train_seconds": train_seconds, "batch_rate": batch_rate,
            "train_cpu": train_cpu, "batch_cpu_rate": batch_cpu_rate}


# Run by ``bench_speed_against`` in a child process with PYTHONPATH set to one source tree, so the
# code of another revision predicts with the same models on the same documents. Only APIs that both
# trees have: Classifier.load, predict_many. Each copy of the corpus is a separate predict_many call,
# so no copy reuses another's embeddings or analysis (a call keeps them for its own documents only).
_SPEED_WORKER = """
import json, os, sys, time
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
from nlp.classify import Classifier
models_dir, docs_path, repeat, out_path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
docs = json.load(open(docs_path, encoding="utf-8"))
classifier = Classifier.load(models_dir)
classifier.predict_many(docs[:10])  # warm up (loads the embedder)
cpu = 0.0
for copy in range(repeat):
    started = time.process_time()
    results = [r for i in range(0, len(docs), batch) for r in classifier.predict_many(docs[i:i + batch])]
    cpu += time.process_time() - started
    if copy == 0:
        json.dump(results, open(out_path, "w", encoding="utf-8"), sort_keys=True)
import nlp.classify
print(json.dumps({"articles": len(docs) * repeat, "cpu": cpu, "code": nlp.classify.__file__}))
"""


# Run by ``bench_speed_against --train-each`` in a child process with PYTHONPATH set to one source
# tree: that tree's code trains its own models (2-fold CV for the cards, as the shared models are).
_TRAIN_WORKER = """
import os, sys
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
import inspect
from nlp.classify import train_models
from nlp.corpus import load_corpus
from nlp.scheme import load_scheme
scheme = load_scheme()
# only the models are wanted: no held-out-slice figure for the cards (older trees have no such option)
options = {"slices": False} if "slices" in inspect.signature(train_models).parameters else {}
train_models(load_corpus(scheme=scheme), scheme, sys.argv[1], folds=2, **options)
"""


def bench_speed_against(records: list[dict], scheme, revision: str, models_dir: str | None, repeat: int,
                        rounds: int, batch: int, train_each: bool = False) -> None:
    """Prediction throughput of the working tree against git ``revision``, side by side: the same
    models (trained here by the working tree unless ``models_dir``) and documents, the two trees
    alternating ``rounds`` times in child processes; checks that both predict the same.
    ``train_each``: each tree trains and uses its own models (for a revision that cannot read the
    working tree's), and the predictions are not compared."""
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        old_tree = scratch / "old"
        old_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(here), "archive", revision, "nlp"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        models_of: dict[str, str] = {}
        if train_each:
            for name, tree in ((revision, old_tree), ("working tree", here)):
                models_of[name] = str(scratch / f"models-{len(models_of)}")
                started = time.perf_counter()
                run = subprocess.run([sys.executable, "-c", _TRAIN_WORKER, models_of[name]], capture_output=True,
                                     text=True, cwd=scratch, env={**os.environ, "PYTHONPATH": str(tree)})
                if run.returncode != 0:
                    last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
                    raise SystemExit(f"{name} could not train: {last}")
                print(f"models trained by {name} ({time.perf_counter() - started:.0f} s, 2-fold CV cards)")
        elif models_dir is None:
            models_dir = str(scratch / "models")
            started = time.process_time()
            train_models(records, scheme, models_dir, folds=2, slices=False)
            print(f"models trained by the working tree ({time.process_time() - started:.0f} s CPU, 2-fold CV cards)")
        docs_path = scratch / "docs.json"
        docs_path.write_text(json.dumps([record_document(record) for record in records]), encoding="utf-8")
        rates: dict[str, list[float]] = {revision: [], "working tree": []}
        outputs = {}
        for round_ in range(rounds):
            for name, tree in ((revision, old_tree), ("working tree", here)):
                out_path = scratch / f"{len(outputs)}.json"
                env = {**os.environ, "PYTHONPATH": str(tree)}
                # Run from the scratch directory: ``python -c`` puts the working directory first on sys.path.
                run = subprocess.run([sys.executable, "-c", _SPEED_WORKER, models_of.get(name, models_dir),
                                      str(docs_path), str(repeat),
                                      str(out_path), str(batch)], env=env, capture_output=True, text=True, cwd=scratch)
                if run.returncode != 0:
                    last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
                    raise SystemExit(f"{name} could not predict with these models: {last} (models saved by the "
                                     f"working tree may use options {revision} does not know: compare with a "
                                     "revision that reads them, or give --models DIR trained for both)")
                figures = json.loads(run.stdout.strip().splitlines()[-1])
                if not Path(figures["code"]).resolve().is_relative_to(Path(tree).resolve()):
                    raise SystemExit(f"{name}: ran {figures['code']}, not the code of {tree}")
                rates[name].append(figures["articles"] / figures["cpu"])
                outputs.setdefault(name, out_path.read_text(encoding="utf-8"))
                print(f"round {round_ + 1}, {name}: {rates[name][-1]:.0f} articles per CPU second "
                      f"({figures['articles']} articles)")
        same = outputs[revision] == outputs["working tree"]
        print(f"\nprediction, one core, {len(records)} articles x {repeat} copies in calls of {batch}, "
              f"{rounds} rounds alternating:")
        for name, values in rates.items():
            print(f"  {name}: median {statistics.median(values):.0f} articles per CPU second "
                  f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")
        if train_each:
            print("  predictions not compared: each tree predicted with the models it trained")
            return
        print(f"  predictions identical (labels, probabilities, uncertain flags): {'yes' if same else 'NO'}")
        if not same:
            raise SystemExit(1)


# The label each task's target names besides the headline (issue 18: neutral stance, negative tone).
TARGET_LABELS = {"stance_governance": "neutral", "tone": "negative"}


def bench_learning_curve(records: list[dict], scheme, features: str, tasks: list[str] | None,
                         shares: list[float], seeds: list[int]) -> None:
    """Leave-one-slice-out with each split trained on ``shares`` of its training articles, drawn
    once per seed (share 1 is the protocol's figure, the same for every seed)."""
    wanted = [name for name in scheme.tasks if tasks is None or name in tasks]
    summaries: dict[float, dict] = {}
    for share in shares:
        runs = []
        for seed in (seeds if share < 1.0 else seeds[:1]):
            started = time.perf_counter()
            try:
                reports = cross_validate(records, scheme, features=features, split="slices", tasks=wanted, seed=seed,
                                         train_fraction=share)
            except (TrainingError, ValueError) as error:
                raise SystemExit(f"--learning-curve share {share:g}, seed {seed}: {error}") from None
            runs.append(reports)
            print(f"share {share:g}, seed {seed}: " + ", ".join(
                f"{name} {headline(report):.3f}" for name, report in reports.items())
                  + f" ({time.perf_counter() - started:.0f} s)", flush=True)
        summaries[share] = summarise_seeds(runs)
    print(f"\nleave-one-slice-out, each split trained on a share of its training articles "
          f"({len(records)} articles; seeds {', '.join(map(str, seeds))}; share 1 is the whole set):")
    print("| task | " + " | ".join(f"share {share:g}" for share in shares) + " |")
    print("| --- |" + " --- |" * len(shares))
    for name in wanted:
        cells = []
        for share in shares:
            summary = summaries[share].get(name)
            if summary is None:
                cells.append("-")
                continue
            cell = f"{summary['mean']:.3f}"
            if len(summary["values"]) > 1:
                cell += f" ({min(summary['values']):.3f}-{max(summary['values']):.3f})"
            label = TARGET_LABELS.get(name)
            if label in summary["per_label"]:
                cell += f"; {label} {summary['per_label'][label]['mean']:.3f}"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")


def set_param(assignment: str) -> None:
    """Apply ``PATH=JSON`` to ``nlp.classify.PARAMS`` (``PATH``: dot-separated keys of an existing entry
    or of a new key in an existing table); one clear line and exit 2 if malformed."""
    path, _, value = assignment.partition("=")
    keys = path.strip().split(".")
    table = PARAMS
    try:
        for key in keys[:-1]:
            table = table[key]
        if not isinstance(table, dict):
            raise KeyError(path)
        table[keys[-1]] = json.loads(value)
    except (KeyError, TypeError, ValueError) as error:
        raise SystemExit(f"--param {assignment!r}: expected PATH=JSON with PATH in nlp.classify.PARAMS ({error})")


def headline(task_report: dict) -> float:
    """The target metric of a task report: micro-F1 (multi-label) or macro-F1."""
    return task_report["micro_f1" if task_report["kind"] == "multi_label" else "macro_f1"]


def bench_seeds(records: list[dict], scheme, features: str, folds: int, seeds: list[int], verbose: bool) -> None:
    """Cross-validate once per fold seed; print per-seed scores, mean and spread per task."""
    scores: dict[str, list[float]] = {}
    per_label: dict[str, list[float]] = {}
    for seed in seeds:
        started = time.perf_counter()
        report = cross_validate(records, scheme, features=features, folds=folds, seed=seed)
        if verbose:
            print(format_report(report))
        for task, task_report in report.items():
            scores.setdefault(task, []).append(headline(task_report))
            for label, label_scores in task_report["per_label"].items():
                per_label.setdefault(f"{task}/{label}", []).append(label_scores["f1"])
            for entity_id, entity_scores in task_report.get("per_entity", {}).items():
                per_label.setdefault(f"{task}/{entity_id} (macro)", []).append(entity_scores["macro_f1"])
        print(f"seed {seed}: " + ", ".join(f"{t} {s[-1]:.3f}" for t, s in scores.items())
              + f" ({time.perf_counter() - started:.1f} s)")
    print(f"\n{features}, {folds}-fold CV, seeds {','.join(map(str, seeds))}:")
    print("| task | " + " | ".join(f"seed {seed}" for seed in seeds) + " | mean | spread |")
    print("| --- |" + " --- |" * (len(seeds) + 2))
    for name, values in [*scores.items(), *per_label.items()]:
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {name} | {cells} | {statistics.mean(values):.3f} | {max(values) - min(values):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--features", default=DEFAULT_FEATURES, help=f"comma-separated, among {', '.join(FEATURE_SETS)}"
    )
    parser.add_argument("--repeat", type=int, default=5, help="corpus copies for the throughput run")
    parser.add_argument("--quiet", action="store_true", help="print only the comparison table")
    parser.add_argument("--seeds", help="comma-separated fold seeds: cross-validate only, mean and spread per task")
    parser.add_argument("--protocol", action="store_true",
                        help="leave-one-slice-out + repeated CV (--seeds, default 0,1,2), intervals")
    parser.add_argument("--tasks", help="comma-separated tasks (default all)")
    parser.add_argument("--json-out", help="with --protocol: write the whole result as JSON here")
    parser.add_argument("--param", action="append", default=[], metavar="PATH=JSON",
                        help="override a hyper-parameter of nlp.classify.PARAMS for this run (a lever under test), "
                             "e.g. --param per_entity.C=1.0 --param single_label.two_stage.text.word_ngrams=[1,2]; "
                             "repeatable")
    parser.add_argument("--paired", nargs=2, metavar=("BASELINE", "CANDIDATE"),
                        help="compare two --protocol --json-out results: per task, the paired bootstrap difference "
                             "of the leave-one-slice-out score over the same held-out predictions (90%% interval), "
                             "the CV means and each fold seed's paired difference; trains nothing")
    parser.add_argument("--learning-curve", metavar="SHARES",
                        help="comma-separated shares of the training articles (e.g. 0.5,0.75,1): leave-one-slice-out "
                             "trained on each share, per --seeds seed (default 0,1,2)")
    parser.add_argument("--speed-against", metavar="REV",
                        help="prediction throughput of the working tree against git revision REV, side by side, "
                             "and a check that both predict the same")
    parser.add_argument("--models", help="with --speed-against: models directory to use (default: train one)")
    parser.add_argument("--train-each", action="store_true",
                        help="with --speed-against: each tree trains its own models (a revision that cannot read "
                             "the working tree's); predictions are then not compared")
    parser.add_argument("--rounds", type=int, default=3, help="with --speed-against: alternating rounds")
    parser.add_argument("--batch", type=int, default=0,
                        help="with --speed-against: articles per predict_many call (default: the whole corpus; "
                             "the classify stage uses 64)")
    args = parser.parse_args()

    if args.paired:
        results = []
        for path in args.paired:
            try:
                with open(path, encoding="utf-8") as handle:
                    results.append(json.load(handle))
            except (OSError, ValueError) as error:
                raise SystemExit(f"--paired: cannot read {path}: {error}") from None
        try:
            comparison = compare_protocols(*results)
        except (KeyError, TypeError, ValueError) as error:
            raise SystemExit(f"--paired: {error}") from None
        if not comparison:
            raise SystemExit("--paired: the two results share no task with held-out predictions")
        print(format_paired(comparison))
        return
    for assignment in args.param:
        set_param(assignment)
    scheme = load_scheme()
    records = load_corpus(scheme=scheme)
    tasks = [t.strip() for t in args.tasks.split(",")] if args.tasks else None
    unknown = [name for name in tasks or () if name not in scheme.tasks]
    if unknown:
        raise SystemExit(f"--tasks: unknown task {', '.join(map(repr, unknown))}; the scheme has: "
                         f"{', '.join(scheme.tasks)}")
    if args.speed_against:
        if args.train_each and args.models:
            raise SystemExit("--train-each and --models exclude each other: give one")
        bench_speed_against(records, scheme, args.speed_against, args.models, args.repeat, args.rounds,
                            args.batch or len(records), train_each=args.train_each)
        return
    if args.learning_curve:
        try:
            shares = [float(share) for share in args.learning_curve.split(",")]
        except ValueError:
            shares = []
        if not shares or not all(0.0 < share <= 1.0 for share in shares):
            raise SystemExit(f"--learning-curve {args.learning_curve!r}: expected comma-separated shares in (0, 1], "
                             "e.g. 0.5,0.75,1")
        bench_learning_curve(records, scheme, args.features.split(",")[0].strip(), tasks, shares,
                             [int(seed) for seed in (args.seeds or "0,1,2").split(",") if seed != ""])
        return
    if args.protocol:
        seeds = tuple(int(seed) for seed in (args.seeds or "0,1,2").split(",") if seed != "")
        for features in args.features.split(","):
            started = time.perf_counter()
            result = evaluate_protocol(records, scheme, features=features.strip(), folds=args.folds, seeds=seeds,
                                       tasks=tasks, progress=None if args.quiet else print)
            if not args.quiet:
                print(format_report(result["slices"]))
            print(f"\n{features}: {len(records)} articles, leave-one-slice-out and {args.folds}-fold CV "
                  f"({time.perf_counter() - started:.0f} s)")
            print(format_protocol(result))
            if args.json_out:
                with open(args.json_out, "w", encoding="utf-8") as handle:
                    json.dump(result, handle, indent=1, default=str)
        return
    if args.seeds:
        seeds = [int(seed) for seed in args.seeds.split(",")]
        for features in args.features.split(","):
            bench_seeds(records, scheme, features.strip(), args.folds, seeds, not args.quiet)
        return
    rows = []
    for features in args.features.split(","):
        try:
            rows.append(bench_features(records, scheme, features.strip(), args.folds, args.repeat, not args.quiet))
        except EmbeddingUnavailable as error:
            print(f"{features}: skipped: {error}")
    if rows:
        print(f"{args.folds}-fold CV, {len(records)} articles; train: `cuttings train` as the user runs it (held-out "
              "slices too), wall and CPU; prediction: one core:")
        print(format_comparison(
            {row["features"]: row["reports"] for row in rows},
            {row["features"]: {"train s": f"{row['train_seconds']:.1f}", "train CPU s": f"{row['train_cpu']:.1f}",
                               "articles/s": f"{row['batch_rate']:.0f}",
                               "articles/CPU s": f"{row['batch_cpu_rate']:.0f}"}
             for row in rows},
        ))


if __name__ == "__main__":
    main()
