/** Query makers for pseudo-queries. Each returns undefined when the chunk offers nothing of its kind. */

import { type Analysis, type Phrase, baseVerbs, capitalise, detokenize, discourseMarkers, isStop, pastVerbs, presentVerbs } from "./pseudo-query-analysis.js";

/** Longest query a maker returns, in words. */
export const maxQueryWords = 20;

type Random = () => number;

function pickWeighted<T>(items: readonly T[], weight: (item: T) => number, random: Random): T | undefined {
  const weights = items.map((item) => Math.max(weight(item), 0));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  let r = random() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}

/** Inverse Cloze Task: a salient sentence, cleaned of discourse markers and cropped to query length. */
export function claimQuery(a: Analysis, random: Random): string | undefined {
  const s = pickWeighted(a.sentences.map((_, i) => i), (i) => a.sentenceScores[i]! ** 2, random);
  if (s === undefined) return undefined;
  let sentence = detokenize(a.sentences[s]!);
  for (let pass = 0; pass < 3; pass++) for (const marker of discourseMarkers) sentence = sentence.replace(marker, "");
  sentence = sentence.replace(/[.;:,\s]+$/, "");
  const tokens = sentence.split(" ");
  if (tokens.filter((t) => !isStop(t, t.toLowerCase())).length < 3) return undefined;
  const cropped = tokens.length > maxQueryWords ? bestWindow(tokens, maxQueryWords, a, random) : tokens;
  return capitalise(cropped.join(" "));
}

/** Contriever-style random crop: a short contiguous span that starts and ends on content words. */
export function cropQuery(a: Analysis, random: Random): string | undefined {
  const content = a.words.filter((w) => !w.stop);
  if (content.length < 4) return undefined;
  const length = 5 + Math.floor(random() * 8);
  const sentence = pickWeighted(a.sentences.map((_, i) => i), (i) => a.sentences[i]!.length, random)!;
  const tokens = a.sentences[sentence]!.filter((t) => !/^[,;:()]$/.test(t));
  if (tokens.length < 4) return undefined;
  const start = Math.floor(random() * Math.max(tokens.length - length + 1, 1));
  let span = tokens.slice(start, start + length);
  while (span.length > 0 && isStop(span[0]!, span[0]!.toLowerCase())) span = span.slice(1);
  while (span.length > 0 && isStop(span[span.length - 1]!, span[span.length - 1]!.toLowerCase())) span = span.slice(0, -1);
  if (span.filter((t) => !isStop(t, t.toLowerCase())).length < 3) return undefined;
  return span.join(" ");
}

/** A search-box query: the chunk's top key phrases, as people type them. */
export function keywordQuery(a: Analysis, random: Random): string | undefined {
  const top = a.phrases.slice(0, 8);
  if (top.length < 2) return undefined;
  const chosen = new Set<Phrase>();
  const want = Math.min(2 + Math.floor(random() * 2), top.length);
  for (let guard = 0; chosen.size < want && guard < 20; guard++) {
    const p = pickWeighted(top, (x) => (chosen.has(x) ? 0 : x.score), random);
    if (p) chosen.add(p);
  }
  const words = [...new Map([...chosen].flatMap((p) => p.words).map((w) => [w.toLowerCase(), w])).values()];
  return words.length >= 2 ? words.join(" ") : undefined;
}

const questionTemplates: readonly ((x: string, y: string | undefined) => string | undefined)[] = [
  (x) => `What is ${x}?`,
  (x, y) => (y ? `How does ${x} affect ${y}?` : undefined),
  (x, y) => (y ? `What is the role of ${x} in ${y}?` : `What is the role of ${x}?`),
  (x, y) => (y ? `How is ${x} related to ${y}?` : undefined),
  (x) => `What is known about ${x}?`,
  (x, y) => (y ? `What effect does ${x} have on ${y}?` : undefined),
  (x) => `Why does ${x} matter?`,
];

/** Template questions over key phrases, abbreviations, tickers and reported figures. */
export function keyPhraseQuestion(a: Analysis, random: Random): string | undefined {
  const roll = random();
  if (a.abbreviations.length > 0 && roll < 0.2) {
    const abbr = a.abbreviations[Math.floor(random() * a.abbreviations.length)]!;
    return random() < 0.5 ? `What does ${abbr.short} stand for?` : `What is ${abbr.long} (${abbr.short})?`;
  }
  if (a.tickers.length > 0 && roll < 0.4) {
    const ticker = a.tickers[Math.floor(random() * a.tickers.length)]!;
    return random() < 0.5 ? `What happened to ${ticker}?` : `How did ${ticker} perform?`;
  }
  if (roll < 0.55) {
    const figure = figureQuestion(a, random);
    if (figure) return figure;
  }
  const top = a.phrases.slice(0, 10);
  const x = pickWeighted(top, (p) => p.score, random);
  if (!x) return undefined;
  // A partner from the same sentence makes a relational question the chunk actually answers.
  const partners = a.phrases.filter((p) => p !== x && p.sentence === x.sentence && !overlaps(p, x));
  const y = pickWeighted(partners.slice(0, 6), (p) => p.score, random);
  const template = questionTemplates[Math.floor(random() * questionTemplates.length)]!;
  return template(x.text, y?.text) ?? `What is ${x.text}?`;
}

const unitPattern = /^(?:%|percent|mg|g|kg|ml|l|mm|cm|km|m|h|hours?|days?|weeks?|months?|years?|minutes?|seconds?|s|fold|times|patients|subjects|participants|cases|people|million|billion|thousand|usd|eur|dollars?|points?|bps|x)$/i;

/** "a response rate of 45%" -> "What was the response rate?"; "rose 3%" keeps its subject phrase. */
function figureQuestion(a: Analysis, random: Random): string | undefined {
  const figures: { sentence: number; index: number }[] = [];
  a.sentences.forEach((tokens, s) =>
    tokens.forEach((t, i) => {
      if (/\d/.test(t) && (/%$/.test(t) || unitPattern.test(tokens[i + 1] ?? "") || /^\$\d/.test(t))) figures.push({ sentence: s, index: i });
    }),
  );
  const figure = figures[Math.floor(random() * figures.length)];
  if (!figure) return undefined;
  const tokens = a.sentences[figure.sentence]!;
  // The phrase the figure measures usually sits just before it: "<phrase> of|was|were|to|by <figure>".
  let end = figure.index - 1;
  while (end >= 0 && /^(?:of|was|were|is|are|to|by|at|reached|approximately|about|nearly|only|over|under|than|rose|fell|increased|decreased|in)$/i.test(tokens[end]!)) end--;
  const phraseWords: string[] = [];
  for (let i = end; i >= 0 && phraseWords.length < 4; i--) {
    if (isStop(tokens[i]!, tokens[i]!.toLowerCase())) break;
    phraseWords.unshift(tokens[i]!);
  }
  if (!phraseWords.some((w) => /^[\p{L}][\p{L}-]{2,}$/u.test(w))) return undefined;
  while (/\d/.test(phraseWords[0]!)) phraseWords.shift();
  const measured = phraseWords.join(" ");
  const context = a.phrases.find((p) => p.sentence === figure.sentence && !p.text.includes(measured) && !measured.includes(p.text));
  return context ? `What was the ${measured} for ${context.text}?` : `What was the ${measured}?`;
}

const relationVerbs: readonly [RegExp, (subject: string, object: string, plural: boolean) => string][] = [
  [/^(?:is|are)\s+(?:\w+ly\s+)?(associated with|linked to|related to|correlated with|required for|involved in|necessary for|sufficient for|responsible for|essential for|critical for|important for)\b/i,
    (s, o, plural) => `${plural ? "Are" : "Is"} ${s} ${o}?`],
  [/^(?:was|were)\s+(?:\w+ly\s+)?(associated with|linked to|related to|correlated with|required for|involved in|higher|lower|increased|decreased|reduced|elevated)\b/i,
    (s, o, plural) => `${plural ? "Were" : "Was"} ${s} ${o}?`],
];

/** "A increases B" -> "Does A increase B?"; "A was associated with B" -> "Was A associated with B?". */
export function yesNoQuestion(a: Analysis, random: Random): string | undefined {
  const candidates: { sentence: number; index: number }[] = [];
  a.sentences.forEach((tokens, s) =>
    tokens.forEach((t, i) => {
      const lower = t.toLowerCase();
      // A base form counts only after a plural noun ("rates reduce"), where it is the verb, not a noun ("an increase").
      const pluralVerb = baseVerbs.has(lower) && /^[a-z]{3,}s$/i.test(tokens[i - 1] ?? "");
      if (i > 0 && (presentVerbs.has(lower) || pastVerbs.has(lower) || pluralVerb || /^(?:is|are|was|were)$/.test(lower))) {
        candidates.push({ sentence: s, index: i });
      }
    }),
  );
  for (let tries = 0; tries < 4 && candidates.length > 0; tries++) {
    const c = candidates[Math.floor(random() * candidates.length)]!;
    const tokens = a.sentences[c.sentence]!;
    const subject = clauseBefore(tokens, c.index);
    if (!subject) continue;
    const lower = tokens[c.index]!.toLowerCase();
    const rest = tokens.slice(c.index + 1);
    if (presentVerbs.has(lower) || pastVerbs.has(lower) || baseVerbs.has(lower)) {
      const object = clauseAfter(rest);
      if (!object) continue;
      const base = presentVerbs.get(lower) ?? pastVerbs.get(lower) ?? lower;
      const aux = pastVerbs.has(lower) ? "Did" : baseVerbs.has(lower) ? "Do" : "Does";
      return `${aux} ${subject} ${base} ${object}?`;
    }
    const tail = detokenize(tokens.slice(c.index));
    for (const [pattern, build] of relationVerbs) {
      const match = tail.match(pattern);
      if (!match) continue;
      const object = clauseAfter(tail.slice(match[0].length).trim().split(" "));
      if (!object) continue;
      const plural = /^(?:are|were)$/i.test(lower);
      return build(subject, `${match[1]} ${object}`, plural);
    }
  }
  return undefined;
}

function clauseBefore(tokens: string[], index: number): string | undefined {
  const words: string[] = [];
  let first = index;
  for (let i = index - 1; i >= 0 && words.length < 9; i--) {
    const t = tokens[i]!;
    if (/^[,;:()]$/.test(t) || /^(?:that|which|who|whereas|while|because|although|and|but|we|our|these|this|it|here)$/i.test(t)) break;
    words.unshift(t);
    first = i;
  }
  while (words.length > 0 && /^(?:the|a|an)$/i.test(words[0]!)) {
    words.shift();
    first++;
  }
  const last = words[words.length - 1];
  // A subject ends in a noun, not in "of" or a verb: anything else means the clause was misread.
  if (last === undefined || isStop(last, last.toLowerCase()) || /^[a-z]+(?:ing|ed)$/.test(last)) return undefined;
  if (words.filter((w) => !isStop(w, w.toLowerCase())).length < 1 || /^[a-z]+(?:ing|ed)$/.test(words[0]!)) return undefined;
  // A capital that only marks the start of the sentence is dropped mid-question.
  if (first === 0 && /^[A-Z][a-z]+$/.test(words[0]!)) words[0] = words[0]!.toLowerCase();
  return detokenize(words);
}

function clauseAfter(tokens: string[]): string | undefined {
  const words: string[] = [];
  for (const t of tokens) {
    if (/^[,;:()]$/.test(t) || /^(?:which|whereas|while|because|although|but)$/i.test(t) || words.length >= 10) break;
    words.push(t.replace(/[.;:,]+$/, ""));
  }
  while (words.length > 0 && isStop(words[words.length - 1]!, words[words.length - 1]!.toLowerCase())) words.pop();
  if (words.filter((w) => !isStop(w, w.toLowerCase())).length < 1) return undefined;
  return detokenize(words);
}

// ---------------------------------------------------------------------------
// Small helpers.

/** The window of `size` tokens with the most salient content, ties broken at random. */
function bestWindow(tokens: string[], size: number, a: Analysis, random: Random): string[] {
  let best = 0;
  let bestScore = -Infinity;
  for (let start = 0; start + size <= tokens.length; start++) {
    const window = tokens.slice(start, start + size);
    // The sentence's own start reads best; a window starting mid-clause must earn its place.
    const startBonus = start === 0 ? 2 : /[,;:]$/.test(tokens[start - 1]!) ? 1 : 0;
    const score = window.reduce((sum, t) => sum + (a.salience.get(t.toLowerCase().replace(/[.,;:()]+$/, "")) ?? 0), 0) + startBonus + random() * 0.5;
    if (score > bestScore) {
      bestScore = score;
      best = start;
    }
  }
  return cropWords(tokens, best, size);
}

export function cropWords(tokens: string[], start: number, size: number): string[] {
  let span = tokens.slice(start, start + size);
  // Never end inside a parenthesis: "... in preterm (n" loses the "(n".
  const open = span.findLastIndex((t) => t.includes("("));
  if (open > 0 && !span.slice(open).some((t) => t.includes(")"))) span = span.slice(0, open);
  while (span.length > 1 && isStop(span[span.length - 1]!.replace(/[.,;:]+$/, ""), span[span.length - 1]!.toLowerCase())) span = span.slice(0, -1);
  return span;
}

function overlaps(p: Phrase, q: Phrase): boolean {
  const words = new Set(p.words.map((w) => w.toLowerCase()));
  return q.words.some((w) => words.has(w.toLowerCase()));
}
