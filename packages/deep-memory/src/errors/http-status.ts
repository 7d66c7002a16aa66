import { httpStatusByCode, type WireErrorCode } from "@zip/deep-memory-protocol";
import type { ErrorCode } from "./errors.js";

export { httpStatusByCode };

// The table lives in the protocol package (clients read codes from it); both
// directions are checked here so the core's codes and the table stay equal.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const codesMatchTable: Same<ErrorCode, WireErrorCode> = true;
void codesMatchTable;

export function httpStatusFor(code: ErrorCode): number {
  return httpStatusByCode[code];
}
