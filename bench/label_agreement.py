"""How often alike stories carry the same labels, within one gathering slice and across slices.

For every pair of labelled articles whose headline-and-lead static embeddings are at least
``--min-similarity`` alike (the similarity `cuttings label` shows its precedents by), the share of
pairs whose labels agree, per task: topics (the same set), stance (the same label) and tone (the
same label for each body both articles were labelled for, counted per body). Pairs within one slice
(the id prefix) and pairs across two slices are counted apart. Leave-one-slice-out scores a model
trained on the other slices against a slice's labels: where alike stories agree within slices but
part across them, the held-out figure is bounded by the slices' conventions, not by the model.

Read the figures with two cautions: pairs within a slice are more often reports of the same event (a
slice gathered a story's run), which agree for that reason alone; and headline-and-lead similarity is
coarse (an article about a consultation on fire governance can sit next to one about fire deaths).
The listed pairs are for reading and ruling on, one by one.

    PYTHONPATH=. .venv/bin/python bench/label_agreement.py [--corpus data/corpus] [--min-similarity 0.88]
        [--pairs 10]

``--pairs N`` lists the N most alike cross-slice pairs that disagree, per task (to read and rule on).
"""
import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cuttings.labelling import Precedents  # noqa: E402
from nlp.classify import slice_of  # noqa: E402
from nlp.corpus import load_corpus  # noqa: E402
from nlp.scheme import load_scheme  # noqa: E402


def agreements(record_a: dict, record_b: dict, tasks) -> dict[str, list[bool]]:
    """Per task, whether the two records' labels agree (tone: one entry per body labelled in both)."""
    result: dict[str, list[bool]] = {}
    for task in tasks:
        a, b = record_a.get(task.name), record_b.get(task.name)
        if task.kind == "per_entity":
            shared = sorted(set(a or {}) & set(b or {}))
            if shared:
                result[task.name] = [a[entity] == b[entity] for entity in shared]
        elif a is not None and b is not None:
            result[task.name] = [set(a) == set(b)] if task.kind == "multi_label" else [a == b]
    return result


def label_agreement(records: list[dict], tasks, min_similarity: float) -> dict:
    """{"pairs": {"within"/"across": n}, "agree": {task: {"within"/"across": (agreeing, compared)}},
    "disagreeing": {task: [(similarity, id_a, id_b), ...] across slices, most alike first]}}."""
    precedents = Precedents([{**record, "source": record["id"]} for record in records], list(tasks))
    ids = [entry[0] for entry in precedents.entries]
    by_id = {record["id"]: record for record in records}
    similarity = precedents.matrix @ precedents.matrix.T
    pairs = {"within": 0, "across": 0}
    agree: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"within": [0, 0], "across": [0, 0]})
    disagreeing: dict[str, list] = defaultdict(list)
    for i, j in zip(*np.nonzero(np.triu(similarity >= min_similarity, k=1))):
        where = "within" if slice_of(ids[i]) == slice_of(ids[j]) else "across"
        pairs[where] += 1
        for task, outcomes in agreements(by_id[ids[i]], by_id[ids[j]], tasks).items():
            agree[task][where][0] += sum(outcomes)
            agree[task][where][1] += len(outcomes)
            if where == "across" and not all(outcomes):
                disagreeing[task].append((float(similarity[i, j]), ids[i], ids[j]))
    return {"pairs": pairs, "agree": {task: {where: tuple(counts) for where, counts in value.items()}
                                      for task, value in agree.items()},
            "disagreeing": {task: sorted(found, reverse=True) for task, found in disagreeing.items()}}


def _share(counts: tuple[int, int]) -> str:
    agreeing, compared = counts
    return f"{agreeing}/{compared} ({agreeing / compared:.2f})" if compared else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="labelled corpus directory (default data/corpus)")
    parser.add_argument("--min-similarity", type=float, default=0.88,
                        help="cosine of the headline-and-lead embeddings for a pair to count (default 0.88)")
    parser.add_argument("--pairs", type=int, default=0, help="list this many disagreeing cross-slice pairs per task")
    args = parser.parse_args()
    if not 0.0 < args.min_similarity < 1.0:
        raise SystemExit(f"--min-similarity {args.min_similarity}: expected a number between 0 and 1")
    scheme = load_scheme()
    records = load_corpus(args.corpus, scheme)
    tasks = list(scheme.tasks.values())
    result = label_agreement(records, tasks, args.min_similarity)
    print(f"pairs at cosine >= {args.min_similarity:g}: {result['pairs']['within']} within a slice, "
          f"{result['pairs']['across']} across slices")
    print("| task | agree within a slice | agree across slices |")
    print("| --- | --- | --- |")
    for task in tasks:
        counts = result["agree"].get(task.name, {"within": (0, 0), "across": (0, 0)})
        print(f"| {task.name} | {_share(counts['within'])} | {_share(counts['across'])} |")
    by_id = {record["id"]: record for record in records}
    for task in tasks:
        for similarity, first, second in result["disagreeing"].get(task.name, [])[: args.pairs]:
            print(f"\n{task.name} {similarity:.2f}: {first} {by_id[first][task.name]} | {second} "
                  f"{by_id[second][task.name]}\n  {by_id[first]['title']}\n  {by_id[second]['title']}")


if __name__ == "__main__":
    main()
