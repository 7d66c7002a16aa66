import { Tensor, type PreTrainedTokenizer } from "@huggingface/transformers";

/** How many special tokens the tokenizer puts before and after a single text ([CLS] … [SEP] for BERT: 1 and 1). */
export interface SpecialTokenLayout {
  prefix: number;
  suffix: number;
}

export function specialTokenLayout(tokenizer: PreTrainedTokenizer): SpecialTokenLayout {
  const plain = tokenizer.encode("hello", { add_special_tokens: false });
  const wrapped = tokenizer.encode("hello", { add_special_tokens: true });
  const at = indexOfRun(wrapped, plain);
  if (plain.length === 0 || at < 0) return { prefix: 0, suffix: wrapped.length - plain.length };
  return { prefix: at, suffix: wrapped.length - at - plain.length };
}

/**
 * Cuts one encoded text to `maxLength` tokens the way Hugging Face's Python
 * tokenizers do: the text is shortened and the closing special tokens kept.
 * (transformers.js slices the end off instead, dropping [SEP], which moves
 * long texts' vectors away from the ones sentence-transformers makes.)
 */
export function truncateKeepingSpecials<T>(ids: readonly T[], maxLength: number, layout: SpecialTokenLayout): T[] {
  if (ids.length <= maxLength) return [...ids];
  const keepHead = Math.max(maxLength - layout.suffix, 0);
  return [...ids.slice(0, keepHead), ...ids.slice(ids.length - layout.suffix)].slice(0, maxLength);
}

export interface EncodedBatch {
  input_ids: Tensor;
  attention_mask: Tensor;
  token_type_ids?: Tensor;
}

/** Tokenizes, truncates as above, and right-pads to the longest text of the batch. */
export function encodeBatch(tokenizer: PreTrainedTokenizer, texts: string[], maxLength: number, layout: SpecialTokenLayout): EncodedBatch {
  const encoded = tokenizer(texts, { padding: false, truncation: false, return_tensor: false }) as unknown as Record<
    string,
    number[][] | undefined
  >;
  const ids = (encoded.input_ids ?? []).map((row) => truncateKeepingSpecials(row, maxLength, layout));
  const types = encoded.token_type_ids?.map((row) => truncateKeepingSpecials(row, maxLength, layout));
  const width = Math.max(1, ...ids.map((row) => row.length));
  const pad = tokenizer.pad_token_id ?? 0;
  const tensor = (rows: number[][], fill: number) => {
    const data = new BigInt64Array(rows.length * width).fill(BigInt(fill));
    rows.forEach((row, r) => row.forEach((value, c) => (data[r * width + c] = BigInt(value))));
    return new Tensor("int64", data, [rows.length, width]);
  };
  return {
    input_ids: tensor(ids, pad),
    attention_mask: tensor(
      ids.map((row) => row.map(() => 1)),
      0,
    ),
    ...(types === undefined ? {} : { token_type_ids: tensor(types, 0) }),
  };
}

function indexOfRun(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
