import * as z from "zod";

/**
 * PostgreSQL text cannot hold U+0000, and an unpaired UTF-16 surrogate has no
 * UTF-8 form: a store would fail (NUL) or silently change the text (the
 * surrogate). Text that reaches a store is checked at the boundary instead.
 */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const loneSurrogates = new RegExp(loneSurrogate.source, "g");

export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !loneSurrogate.test(value);
}

export const storableTextMessage = "must not contain NUL characters (\\u0000) or unpaired UTF-16 surrogates";

/** A string schema that refuses text no store can keep as it is. */
export function storableText(): z.ZodString {
  return z.string().refine(isStorableText, storableTextMessage);
}

/** Makes model output storable: drops NULs, replaces unpaired surrogates with U+FFFD. */
export function toStorableText(value: string): string {
  return value.replaceAll("\u0000", "").replace(loneSurrogates, "\uFFFD");
}
