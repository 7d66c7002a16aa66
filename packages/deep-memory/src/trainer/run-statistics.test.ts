import { describe, expect, it } from "vitest";
import type { TrainingPair } from "../domain/run.js";
import { questionQuality, samplePairs } from "./run-statistics.js";

/** Pseudo-queries the offline generator made for the example knowledge base: what a reviewer should and should not be shown first. */
const wellFormed = [
  "What does VWAP stand for?",
  "Does stop at 95 on a stock bought at 100 limit the planned loss to about 5?",
  "Execution desks benchmark large orders against it: buying below VWAP counts as good execution",
  "A stop-loss order becomes a market order once the price trades at or through the stop price, capping the loss",
  "The spread is the gap between the highest bid and the lowest ask",
  "How does volume curve affect quiet periods?",
];
const garbled = [
  "price the sum of price times",
  "desks benchmark large orders good execution",
  "order instead at the risk of",
  "percentage Trailing stops",
  "spread bid-ask",
  "slippage stop-limit order avoids Stop-loss orders",
  "A 10 percent trailing stop on a stock that rallies from 50 to 80 ends with its stop at 72,",
  "detect Randomising child sizes Time-weighted average price",
];

function pair(i: number, chunkId: string, question: string): TrainingPair {
  return { id: `pair-${i}`, runId: "run", userId: "u", chunkId, question, createdAt: new Date(0) };
}

describe("questionQuality", () => {
  it("scores every well-formed question above every garbled fragment", () => {
    const worstGood = Math.min(...wellFormed.map(questionQuality));
    const bestBad = Math.max(...garbled.map(questionQuality));
    expect(worstGood, JSON.stringify(Object.fromEntries([...wellFormed, ...garbled].map((q) => [q, questionQuality(q)])))).toBeGreaterThan(bestBad);
  });
});

describe("samplePairs", () => {
  it("shows the best-formed questions, best first, spread over chunks among equals, the same every time", () => {
    const pairs = [
      ...garbled.map((q, i) => pair(i, `chunk-${i % 4}`, q)),
      ...wellFormed.map((q, i) => pair(100 + i, `chunk-${i % 3}`, q)),
    ];
    const sample = samplePairs(pairs, 4, 42);
    expect(sample).toHaveLength(4);
    expect(sample.every((p) => wellFormed.includes(p.question))).toBe(true);
    // Equally good questions from chunks not shown yet come first.
    const spread = samplePairs([pair(1, "a", "What is VWAP?"), pair(2, "a", "What is TWAP?"), pair(3, "b", "What is a spread?")], 2, 42);
    expect(spread.map((p) => p.chunkId).sort()).toEqual(["a", "b"]);
    expect(sample.map((p) => questionQuality(p.question))).toEqual([...sample.map((p) => questionQuality(p.question))].sort((a, b) => b - a));
    expect(samplePairs([...pairs].reverse(), 4, 42)).toEqual(sample);
    expect(samplePairs(pairs, 100, 42)).toHaveLength(pairs.length);
  });
});
