"""The retrieval methods a user would pick instead of deep memory, each as its usual library runs it.

- dense: all-MiniLM-L6-v2 (fp32, sentence-transformers, mean pooling, normalised), exact cosine.
- bm25: bm25s with a Snowball English stemmer (PyStemmer) and English stopwords, k1 1.5, b 0.75.
- linear adapter: LlamaIndex's EmbeddingAdapterFinetuneEngine + LinearLayer, re-implemented line for line
  (identity start, no bias, in-batch negatives over cosine x 20, AdamW, linear warmup 10% then decay,
  gradient norm clipped at 1) so that its defaults and a tuned variant run without LlamaIndex installed.
- full fine-tune: LlamaIndex's SentenceTransformersFinetuneEngine, i.e. sentence-transformers' pre-v3
  `fit` loop (`old_fit`) with MultipleNegativesRankingLoss, batch 10, warmup 10%, no shuffling.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn


def load_model(model_dir: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_dir, device="cpu")


def embed(model, texts: list[str], batch_size: int = 64) -> np.ndarray:
    vectors = model.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def dense_rank(query_vectors: np.ndarray, doc_vectors: np.ndarray, doc_ids: list[str], depth: int = 100) -> list[list[str]]:
    """Exact cosine top-`depth` (rows of both matrices are unit length, or are normalised here)."""
    q = query_vectors / np.maximum(np.linalg.norm(query_vectors, axis=1, keepdims=True), 1e-12)
    out: list[list[str]] = []
    for start in range(0, len(q), 256):
        scores = q[start : start + 256] @ doc_vectors.T
        top = np.argpartition(-scores, min(depth, scores.shape[1] - 1), axis=1)[:, :depth]
        for row, candidates in zip(scores, top):
            # Stable order on equal scores: by document index.
            order = candidates[np.lexsort((candidates, -row[candidates]))]
            out.append([doc_ids[i] for i in order])
    return out


class BM25Index:
    def __init__(self, doc_texts: list[str], k1: float = 1.5, b: float = 0.75):
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(doc_texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25(k1=k1, b=b)
        self.retriever.index(tokens, show_progress=False)
        self.size = len(doc_texts)

    def rank(self, queries: list[str], doc_ids: list[str], depth: int = 100) -> list[list[str]]:
        """Top-`depth` per query; documents that share no term with the query (score 0) are left out,
        as a search engine's BM25 would not return them."""
        tokens = self._bm25s.tokenize(queries, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)
        out: list[list[str]] = []
        for query_tokens in tokens:
            if not query_tokens:
                out.append([])
                continue
            docs, scores = self.retriever.retrieve([query_tokens], k=min(depth, self.size), show_progress=False)
            out.append([doc_ids[int(d)] for d, s in zip(docs[0], scores[0]) if s > 0])
        return out


def _linear_warmup_decay(optimizer, warmup_steps: int, total_steps: int):
    def factor(step: int) -> float:
        if step < warmup_steps:
            return step / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_linear_adapter(
    query_vectors: np.ndarray,
    doc_vectors: np.ndarray,
    *,
    batch_size: int,
    lr: float,
    epochs: int,
    shuffle: bool,
    seed: int,
) -> tuple[np.ndarray, float]:
    """Returns (W, seconds). The query transform is q -> W q; documents are left as they are."""
    torch.manual_seed(seed)
    dim = query_vectors.shape[1]
    layer = nn.Linear(dim, dim, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(dim))
    queries = torch.from_numpy(query_vectors)
    docs = torch.from_numpy(doc_vectors)
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(queries, docs), batch_size=batch_size, shuffle=shuffle, generator=generator
    )
    optimizer = torch.optim.AdamW(layer.parameters(), lr=lr)  # torch's default weight decay 0.01, as LlamaIndex
    total = len(loader) * epochs
    scheduler = _linear_warmup_decay(optimizer, int(len(loader) * epochs * 0.1), total)
    loss_fn = nn.CrossEntropyLoss()
    started = time.perf_counter()
    for _ in range(epochs):
        for q, d in loader:
            scores = nn.functional.cosine_similarity(layer(q)[:, None, :], d[None, :, :], dim=-1) * 20.0
            loss = loss_fn(scores, torch.arange(len(q)))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()
    seconds = time.perf_counter() - started
    return layer.weight.detach().numpy().copy(), seconds


def apply_linear(query_vectors: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(query_vectors @ weight.T, dtype=np.float32)


def fine_tune(model, pairs: list[tuple[str, str]], *, batch_size: int = 10, epochs: int = 1, seed: int = 42) -> float:
    """Fine-tunes `model` in place on (query, document text) pairs; returns the training seconds."""
    from sentence_transformers import InputExample, losses

    torch.manual_seed(seed)
    examples = [InputExample(texts=[q, d]) for q, d in pairs]
    loader = torch.utils.data.DataLoader(examples, batch_size=batch_size)
    loss = losses.MultipleNegativesRankingLoss(model)
    started = time.perf_counter()
    model.old_fit(
        train_objectives=[(loader, loss)],
        epochs=epochs,
        warmup_steps=int(len(loader) * epochs * 0.1),
        show_progress_bar=False,
    )
    return time.perf_counter() - started
