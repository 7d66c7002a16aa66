"""python -m unittest discover -s bench/python   (no model or data set needed)"""

import json
import math
import tempfile
import unittest
from pathlib import Path

from beir_eval import load_beir, ndcg_at, reciprocal_rank_fusion, retrieval_metrics, train_pairs


class MetricsTest(unittest.TestCase):
    def test_recall_ndcg_mrr_match_the_typescript_definitions(self):
        rankings = [["a", "x", "b"], ["y", "z"]]
        relevant = [{"a", "b"}, {"q"}]
        m = retrieval_metrics(rankings, relevant)
        self.assertAlmostEqual(m["recall@1"], (0.5 + 0) / 2)
        self.assertAlmostEqual(m["recall@3"], (1.0 + 0) / 2)
        self.assertAlmostEqual(m["mrr@10"], (1.0 + 0) / 2)
        ideal = 1 + 1 / math.log2(3)
        self.assertAlmostEqual(m["ndcg@10"], ((1 + 1 / math.log2(4)) / ideal + 0) / 2)

    def test_queries_without_relevant_documents_are_not_counted(self):
        m = retrieval_metrics([["a"], ["b"]], [{"a"}, set()])
        self.assertEqual(m["recall@1"], 1.0)

    def test_ndcg_is_one_for_a_perfect_ranking(self):
        self.assertAlmostEqual(ndcg_at(["a", "b", "c"], {"a", "b"}, 10), 1.0)


class FusionTest(unittest.TestCase):
    def test_rrf_rewards_documents_found_by_both_lists(self):
        fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]], k=60)
        self.assertEqual(fused[:2], ["a", "c"])  # equal scores (1/61 + 1/63): first seen first
        self.assertEqual(fused[2:], ["b", "d"])  # 1/62 each
        self.assertEqual(len(fused), 4)

    def test_rrf_keeps_depth(self):
        self.assertEqual(len(reciprocal_rank_fusion([[str(i) for i in range(300)]], depth=100)), 100)


class LoaderTest(unittest.TestCase):
    def test_reads_beir_layout_with_title_joined_and_zero_scores_dropped(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "qrels").mkdir()
            (root / "corpus.jsonl").write_text(
                json.dumps({"_id": 1, "title": "T", "text": "body"}) + "\n" + json.dumps({"_id": "2", "title": "", "text": "x"}) + "\n"
            )
            (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "what"}) + "\n")
            (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t2\t1\nq1\t1\t0\n")
            (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t2\t1\nq1\t1\t1\n")
            data = load_beir(root)
            self.assertEqual(data.doc_ids, ["1", "2"])
            self.assertEqual(data.doc_texts, ["T body", "x"])
            self.assertEqual(data.qrels["test"], {"q1": ["2"]})
            self.assertEqual(train_pairs(data), [("what", "2")])  # one pair per query: its first relevant document

    def test_missing_test_split_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "corpus.jsonl").write_text("")
            (root / "queries.jsonl").write_text("")
            with self.assertRaises(FileNotFoundError):
                load_beir(root)


if __name__ == "__main__":
    unittest.main()
