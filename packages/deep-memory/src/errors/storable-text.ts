export { isStorableText, storableText, storableTextMessage } from "@zip/deep-memory-protocol";

const loneSurrogates = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Makes model output storable: drops NULs, replaces unpaired surrogates with U+FFFD. */
export function toStorableText(value: string): string {
  return value.replaceAll("\u0000", "").replace(loneSurrogates, "\uFFFD");
}
