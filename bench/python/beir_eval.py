"""BEIR-layout loading and the retrieval metrics of `pnpm bench`, in Python.

The definitions match packages/deep-memory/src/evaluation/metrics.ts: recall@k =
|relevant in top k| / |relevant|, nDCG@10 with binary gains, MRR@10, each the
mean over the split's queries that have at least one relevant document.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

TOP_K = (1, 3, 5, 10, 50, 100)


@dataclass
class BeirDataset:
    name: str
    doc_ids: list[str]
    # Title and text joined the way sentence-transformers/MTEB (and bench/src/beir.ts) embed BEIR documents.
    doc_texts: list[str]
    queries: dict[str, str]
    # split -> query id -> relevant doc ids (score > 0), in the qrels file's order
    qrels: dict[str, dict[str, list[str]]]
    corpus_sha256: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_beir(directory: str | Path) -> BeirDataset:
    root = Path(directory)
    doc_ids: list[str] = []
    doc_texts: list[str] = []
    with (root / "corpus.jsonl").open(encoding="utf8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            title = (doc.get("title") or "").strip()
            text = (doc.get("text") or "").strip()
            doc_ids.append(str(doc["_id"]))
            doc_texts.append(f"{title} {text}" if title else text)
    queries: dict[str, str] = {}
    with (root / "queries.jsonl").open(encoding="utf8") as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                queries[str(q["_id"])] = q["text"]
    qrels: dict[str, dict[str, list[str]]] = {}
    for split in ("train", "dev", "test"):
        path = root / "qrels" / f"{split}.tsv"
        if not path.exists():
            continue
        table: dict[str, list[str]] = {}
        with path.open(encoding="utf8") as f:
            for i, row in enumerate(csv.reader(f, delimiter="\t")):
                if not row or (i == 0 and row[0] == "query-id"):
                    continue
                qid, did = row[0], row[1]
                if float(row[2] if len(row) > 2 else 1) <= 0:
                    continue
                docs = table.setdefault(qid, [])
                if did not in docs:
                    docs.append(did)
        qrels[split] = table
    if "test" not in qrels:
        raise FileNotFoundError(f"{root}/qrels/test.tsv not found")
    return BeirDataset(root.name, doc_ids, doc_texts, queries, qrels, sha256_file(root / "corpus.jsonl"))


def train_pairs(data: BeirDataset, split: str = "train") -> list[tuple[str, str]]:
    """(query text, first relevant doc id) per query, in the qrels file's order: one example per
    query, as LlamaIndex's fine-tuning engines build them (`relevant_docs[query_id][0]`)."""
    pairs = []
    for qid, rel in data.qrels[split].items():
        if qid in data.queries:
            pairs.append((data.queries[qid], rel[0]))
    return pairs


def ndcg_at(ranking: list[str], relevant: set[str], k: int) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranking[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def mrr_at(ranking: list[str], relevant: set[str], k: int) -> float:
    for i, d in enumerate(ranking[:k]):
        if d in relevant:
            return 1 / (i + 1)
    return 0.0


def retrieval_metrics(rankings: list[list[str]], relevant: list[set[str]]) -> dict[str, float]:
    sums: dict[str, float] = {}
    n = 0
    for ranking, rel in zip(rankings, relevant):
        if not rel:
            continue
        n += 1
        for k in TOP_K:
            sums[f"recall@{k}"] = sums.get(f"recall@{k}", 0.0) + sum(d in rel for d in ranking[:k]) / len(rel)
        sums["ndcg@10"] = sums.get("ndcg@10", 0.0) + ndcg_at(ranking, rel, 10)
        sums["mrr@10"] = sums.get("mrr@10", 0.0) + mrr_at(ranking, rel, 10)
    keys = [f"recall@{k}" for k in TOP_K] + ["ndcg@10", "mrr@10"]
    return {key: (sums.get(key, 0.0) / n if n else 0.0) for key in keys}


def reciprocal_rank_fusion(lists: list[list[str]], k: int = 60, depth: int = 100) -> list[str]:
    """RRF (Cormack et al. 2009): score(d) = sum over lists of 1 / (k + rank), rank from 1; equal weights.
    Ties keep the order in which documents were first seen, so the result is deterministic."""
    scores: dict[str, float] = {}
    for ranking in lists:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda d: -scores[d])[:depth]
