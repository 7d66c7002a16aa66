"""Prints the markdown tables of docs/alternatives.md from bench/reference/*.alternatives.json.

    python3 bench/python/tables.py [files...]      (standard library only)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KEYS = ["recall@1", "recall@3", "recall@5", "recall@10", "recall@50", "recall@100", "ndcg@10", "mrr@10"]


def seconds(row: dict) -> str:
    if row.get("trainingSeconds") is None:
        return "none"
    text = f"{row['trainingSeconds']:.1f} s"
    if row.get("reembedSeconds") is not None:
        text += f" + {row['reembedSeconds']:.0f} s re-embedding"
    return text


def table(result: dict) -> str:
    ds = result["dataset"]
    head = f"| {ds['name']} test ({ds['testQueries']} queries, {ds['documents']} documents) | " + " | ".join(KEYS) + " | training (2 shared cores) |"
    lines = [head, "|" + " --- |" * (len(KEYS) + 2)]
    for row in result["rows"]:
        lines.append(f"| {row['label']} | " + " | ".join(f"{row['test'][k]:.3f}" for k in KEYS) + f" | {seconds(row)} |")
    spreads = []
    for row in result["rows"]:
        runs = row.get("seedRuns")
        if runs:
            r = [x["recall@10"] for x in runs]
            n = [x["ndcg@10"] for x in runs]
            spreads.append(f"{row['label']}: over {len(runs)} seeds recall@10 {min(r):.3f}-{max(r):.3f}, nDCG@10 {min(n):.3f}-{max(n):.3f}")
    if spreads:
        lines.append("")
        lines.extend(f"- {s}" for s in spreads)
    return "\n".join(lines)


def main() -> None:
    files = sys.argv[1:] or sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "reference").glob("*.alternatives.json"))
    for path in files:
        print(table(json.loads(Path(path).read_text())))
        print()


if __name__ == "__main__":
    main()
