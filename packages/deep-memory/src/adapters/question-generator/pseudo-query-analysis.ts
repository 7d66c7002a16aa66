/** Text analysis for pseudo-queries: sentences, words, stop words, word salience, RAKE phrases. */

interface Word {
  text: string;
  lower: string;
  sentence: number;
  /** Index within its sentence. */
  index: number;
  stop: boolean;
}

export interface Phrase {
  words: string[];
  text: string;
  score: number;
  sentence: number;
}

export interface Analysis {
  sentences: string[][];
  words: Word[];
  salience: Map<string, number>;
  phrases: Phrase[];
  /** "sudden infant death syndrome (SIDS)" -> SIDS and its long form. */
  abbreviations: { short: string; long: string }[];
  tickers: string[];
  sentenceScores: number[];
}

const stopWords = new Set(
  (
    "a about above after again against all also although am among an and any are aren't as at be because been before being below " +
    "between both but by can cannot could did do does doing done down during each either else etc even ever every few for from " +
    "further had has have having he her here hers herself him himself his how however i if in into is it its itself just least " +
    "less let like made make makes many may me might more most much must my myself neither no nor not now of off often on once " +
    "one only or other others otherwise our ours ourselves out over own per rather same several shall she should since so some " +
    "such than that the their theirs them themselves then there therefore these they this those though through thus to too " +
    "toward towards under until up upon us use used uses using very via was we were what when where whether which while who " +
    "whom whose why will with within without would yet you your yours yourself " +
    // Reporting verbs and filler common in every domain: poor key phrases.
    "show shows showed shown suggest suggests suggested indicate indicates indicated demonstrate demonstrates demonstrated " +
    "found find finds report reports reported observed observe result results conclusion conclusions conclude concluded " +
    "study studies studied here present presented provide provides provided propose proposed describe described investigate " +
    "investigated examine examined evaluate evaluated assess assessed determine determined identify identified compared " +
    "obtained performed based including included include includes well new respectively significantly significant whereas " +
    "across along around beyond fully highly largely mainly mostly particularly previously recently relatively strongly " +
    "versus vs able unable thousand million billion trillion percent possible potential potentially important key novel first second two three four five data analysis analyses method methods " +
    "approach approaches aim aims objective objectives background purpose paper article work"
  ).split(" "),
);

/** Verbs end a key phrase ("interest rates reduce valuations" holds two topics, not one). */
const verbWords = new Set(
  (
    "allow allows allowed appear appears appeared achieve achieves achieved become becomes became beat beats bind binds bound " +
    "consist consists consisted contain contains contained display displays displayed encode encodes exhibit exhibits exhibited " +
    "exist exists existed fall falls fell gave give gives given involve involves lack lacks lacked mean means meant occur occurs " +
    "occurred produce produces remain remains remained reach reaches reached rise rises rose said say says seem seems share shares " +
    "take takes took taken grow grows grew grown sell sells sold buy buys bought measure measures measured move moves moved " +
    "drop drops dropped gain gains gained miss misses missed climb climbs climbed jump jumps jumped slide slides slid surge surges " +
    "surged plunge plunges plunged suggest suggests signal signals signaled signalled help helps helped makes works worked driven known seen done made written"
  ).split(" "),
);

/** Stripped from the start of a sentence so it reads like a claim, not like the paper talking about itself. */
/** Relation verbs, present and past: stop words for key phrases, the hinge of yes/no questions. */
export const presentVerbs = new Map([
  ["increases", "increase"], ["decreases", "decrease"], ["reduces", "reduce"], ["inhibits", "inhibit"], ["induces", "induce"],
  ["causes", "cause"], ["prevents", "prevent"], ["promotes", "promote"], ["improves", "improve"], ["regulates", "regulate"],
  ["activates", "activate"], ["suppresses", "suppress"], ["enhances", "enhance"], ["predicts", "predict"], ["affects", "affect"],
  ["requires", "require"], ["mediates", "mediate"], ["impairs", "impair"], ["blocks", "block"], ["drives", "drive"],
  ["lowers", "lower"], ["raises", "raise"], ["correlates", "correlate"], ["contributes", "contribute"], ["leads", "lead"],
  ["protects", "protect"], ["triggers", "trigger"], ["limits", "limit"], ["controls", "control"], ["modulates", "modulate"],
  ["outperforms", "outperform"], ["depends", "depend"], ["boosts", "boost"], ["hurts", "hurt"], ["lifts", "lift"],
]);
export const baseVerbs = new Set(presentVerbs.values());
export const pastVerbs = new Map(
  [...presentVerbs.values()].map((base) => [base.endsWith("e") ? `${base}d` : base === "lead" ? "led" : base === "drive" ? "drove" : `${base}ed`, base]),
);

export const discourseMarkers = [
  /^(?:however|moreover|furthermore|additionally|in addition|finally|thus|therefore|hence|consequently|importantly|notably|overall|together|taken together|collectively|in summary|in conclusion|in contrast|conversely|similarly|specifically|interestingly|surprisingly|indeed|here|to this end|in this study|in this paper|in this work|in this report|in this article)\s*,?\s+/i,
  /^(?:these|our|the|this)\s+(?:results|findings|data|studies|study|observations|analyses|experiments)\s+(?:suggest|indicate|show|demonstrate|reveal|support|imply|establish|provide evidence|confirm)(?:ed|s)?\s+(?:that\s+)?/i,
  /^(?:we|i)\s+(?:\w+ly\s+)?(?:found|find|show|showed|shown|demonstrate|demonstrated|report|reported|observed|observe|conclude|concluded|propose|proposed|identify|identified|reveal|revealed|establish|established|provide evidence|suggest|suggested|hypothesize|hypothesized|confirm|confirmed|describe|present)\s+(?:that\s+)?/i,
  /^(?:this|the present|the current|our)\s+(?:study|paper|work|review|article|report|trial)\s+(?:focuses on|focused on|examines|examined|investigates|investigated|describes|reports|addresses|explores|explored)\s+/i,
  /^(?:it\s+(?:is|was)\s+(?:found|shown|demonstrated|observed|concluded|suggested)\s+that\s+)/i,
  /^(?:background|methods?|results?|conclusions?|objectives?|purpose|aims?|context|design|findings|interpretation|significance)\s*[:.-]\s*/i,
];

const abbreviationsBeforePeriod = new Set(["e.g", "i.e", "et al", "al", "fig", "figs", "vs", "approx", "ca", "no", "dr", "mr", "mrs", "ms", "inc", "ltd", "co", "corp", "u.s", "st"]);

export function analyse(text: string): Analysis {
  const sentenceTexts = splitSentences(text);
  const sentences: string[][] = [];
  const words: Word[] = [];
  for (const sentence of sentenceTexts) {
    const tokens = tokenize(sentence);
    if (tokens.length === 0) continue;
    const s = sentences.length;
    sentences.push(tokens);
    tokens.forEach((token, index) => {
      const lower = token.toLowerCase();
      words.push({ text: token, lower, sentence: s, index, stop: isStop(token, lower) });
    });
  }

  // In-chunk TF times a rarity cue (long words, capitals, digits, symbols are rarer in general text).
  const tf = new Map<string, number>();
  for (const w of words) if (!w.stop) tf.set(w.lower, (tf.get(w.lower) ?? 0) + 1);
  const salience = new Map<string, number>();
  for (const w of words) {
    if (w.stop || salience.has(w.lower)) continue;
    let rarity = Math.min(w.lower.length, 12) / 6;
    if (/\d/.test(w.text)) rarity += 0.6;
    if (/^[A-Z$][A-Z0-9$-]{1,}$/.test(w.text)) rarity += 0.8;
    else if (/[A-Z]/.test(w.text.slice(1)) || (w.index > 0 && /^[A-Z]/.test(w.text))) rarity += 0.4;
    if (/-/.test(w.text)) rarity += 0.3;
    salience.set(w.lower, (1 + Math.log(tf.get(w.lower)!)) * rarity);
  }

  const phrases = rakePhrases(sentences, words, salience);
  const sentenceScores = sentences.map((tokens, s) => {
    const content = words.filter((w) => w.sentence === s && !w.stop);
    if (content.length < 3) return 0;
    const total = content.reduce((sum, w) => sum + (salience.get(w.lower) ?? 0), 0);
    // Favour informative sentences of ordinary length; very long ones make poor queries.
    const lengthPenalty = tokens.length > 45 ? 0.6 : 1;
    return (total / Math.sqrt(tokens.length)) * lengthPenalty;
  });

  const abbreviations: { short: string; long: string }[] = [];
  for (const match of text.matchAll(/((?:[\p{L}\p{N}-]+\s+){1,6}?[\p{L}\p{N}-]+)\s+\(([A-Z][A-Za-z0-9-]{1,9})\)/gu)) {
    const short = match[2]!;
    const long = longFormFor(match[1]!.trim(), short);
    if (long !== undefined) abbreviations.push({ short, long });
  }
  const shortForms = new Set(abbreviations.map((x) => x.short));
  const tickers = [
    ...new Set([
      ...[...text.matchAll(/\$[A-Z]{1,5}\b/g)].map((m) => m[0]),
      // "Tesla (TSLA)": capitals in parentheses that do not abbreviate the words before them.
      ...[...text.matchAll(/\(([A-Z]{2,5})\)/g)].map((m) => m[1]!).filter((t) => !shortForms.has(t)),
    ]),
  ];
  return { sentences, words, salience, phrases, abbreviations, tickers, sentenceScores };
}

function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)/)) {
    let start = 0;
    const flat = block.replace(/\s+/g, " ").trim();
    for (const match of flat.matchAll(/[.!?](?=\s+["'([]?[A-Z0-9])/g)) {
      const end = match.index + 1;
      const before = flat.slice(start, match.index).split(" ").pop()?.toLowerCase() ?? "";
      if (abbreviationsBeforePeriod.has(before.replace(/^\(/, "")) || /^[a-z]$/i.test(before)) continue;
      out.push(flat.slice(start, end).trim());
      start = end;
    }
    const rest = flat.slice(start).trim();
    if (rest !== "") out.push(rest);
  }
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s));
}

/** Words keep inner punctuation that carries meaning: IL-6, 3.5, p<0.05, U.S., $AAPL, 25%. */
function tokenize(sentence: string): string[] {
  return [...sentence.matchAll(/\$?[\p{L}\p{N}](?:[\p{L}\p{N}'’.%/+-]*[\p{L}\p{N}%])?|[,;:()]/gu)].map((m) => m[0]);
}

export function isStop(token: string, lower: string): boolean {
  if (/^[,;:()]$/.test(token)) return true;
  if (stopWords.has(lower) || verbWords.has(lower) || presentVerbs.has(lower) || pastVerbs.has(lower) || baseVerbs.has(lower)) return true;
  // Adverbs rarely make good key phrases ("significantly", "strongly").
  if (lower.length > 4 && lower.endsWith("ly") && !/^[A-Z]/.test(token)) return true;
  return lower.length < 2 && !/\d/.test(lower);
}

/** RAKE: runs of content words between stop words; words scored by degree / frequency, then by salience. */
function rakePhrases(sentences: string[][], words: Word[], salience: Map<string, number>): Phrase[] {
  const runs: { words: Word[]; sentence: number }[] = [];
  let current: Word[] = [];
  const flush = () => {
    if (current.length > 0) runs.push({ words: current, sentence: current[0]!.sentence });
    current = [];
  };
  let lastSentence = -1;
  for (const w of words) {
    if (w.sentence !== lastSentence) flush();
    lastSentence = w.sentence;
    // Figures are not topics ("grew 12%"); the figure questions use them.
    if (w.stop || /^\$?\d/.test(w.text)) flush();
    else current.push(w);
  }
  flush();
  // Long runs are usually two phrases glued by a verb; keep their last four words (the head noun usually ends an English noun phrase).
  const trimmed = runs
    .map((r) => {
      let phrase = r.words;
      // English noun phrases end in their noun: a trailing participle ("sequence enabled") belongs to the verb after it.
      while (phrase.length > 1 && /^[a-z]+(?:ed|ing)$/.test(phrase[phrase.length - 1]!.text)) phrase = phrase.slice(0, -1);
      while (phrase.length > 1 && /^[a-z]+ed$/.test(phrase[0]!.text)) phrase = phrase.slice(1);
      return { sentence: r.sentence, words: phrase.slice(-4) };
    })
    .filter((r) => r.words.length > 0);
  const frequency = new Map<string, number>();
  const degree = new Map<string, number>();
  for (const run of trimmed) {
    for (const w of run.words) {
      frequency.set(w.lower, (frequency.get(w.lower) ?? 0) + 1);
      degree.set(w.lower, (degree.get(w.lower) ?? 0) + run.words.length);
    }
  }
  const byText = new Map<string, Phrase>();
  for (const run of trimmed) {
    const text = run.words.map((w) => w.text).join(" ");
    const key = text.toLowerCase();
    const score = run.words.reduce(
      (sum, w) => sum + (degree.get(w.lower)! / frequency.get(w.lower)!) * 0.5 + (salience.get(w.lower) ?? 0),
      0,
    );
    const existing = byText.get(key);
    if (existing) existing.score += score * 0.5;
    else if (!looksLikeVerbPhrase(run.words)) byText.set(key, { words: run.words.map((w) => w.text), text, score, sentence: run.sentence });
  }
  void sentences;
  return [...byText.values()].sort((a, b) => b.score - a.score || a.text.localeCompare(b.text));
}

/** A lone past-tense or -ing word ("increased", "using") is a verb, not a topic. */
function looksLikeVerbPhrase(words: Word[]): boolean {
  if (words.length !== 1) return false;
  const w = words[0]!;
  // One short plain word is rarely a topic; a name, acronym or term with digits is.
  if (/^[a-z]{1,4}$/.test(w.text)) return true;
  return /^[a-z]+(?:ed|ing)$/.test(w.text) || w.text.length < 3;
}

function longFormFor(candidate: string, short: string): string | undefined {
  // Walk back from the parenthesis until the long form's initials spell the abbreviation
  // (inner stop words skipped, hyphenated parts counted: "allele-specific methylation" -> ASM).
  const words = candidate.split(/\s+/);
  const letters = short.replace(/[^A-Za-z]/g, "").toLowerCase();
  for (let take = 1; take <= Math.min(words.length, letters.length + 2); take++) {
    const slice = words.slice(-take);
    if (stopWords.has(slice[0]!.toLowerCase())) continue;
    const content = slice.filter((w) => !stopWords.has(w.toLowerCase()));
    const plain = content.map((w) => w[0]!.toLowerCase()).join("");
    const split = content.flatMap((w) => w.split("-").filter(Boolean)).map((w) => w[0]!.toLowerCase()).join("");
    if (plain === letters || split === letters) return slice.join(" ");
  }
  return undefined;
}


export function detokenize(tokens: string[]): string {
  return tokens
    .join(" ")
    .replace(/\s+([,;:)])/g, "$1")
    .replace(/\(\s+/g, "(")
    .trim();
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
