import { describe, expect, it, vi } from "vitest";
import { createDeepMemoryRouter } from "./index.js";
import express from "express";
import { createTrainer, routerContract } from "@zip/deep-memory-server/test-support";
import { expressMount } from "./test-utils/express-mount.js";

const express4 = vi.hoisted(() => ({ routersMade: 0 }));

// Every `import express from "express"` in this file's module graph (the router's own included) gets Express 4.
vi.mock("express", async () => {
  const actual = await vi.importActual<{ default: ((...args: unknown[]) => unknown) & { Router: (...args: unknown[]) => unknown } }>("express4");
  const real = actual.default;
  const counted = Object.assign((...args: unknown[]) => real(...args), real, {
    Router: (...args: unknown[]) => {
      express4.routersMade++;
      return real.Router(...args);
    },
  });
  return { ...actual, default: counted };
});

describe("createDeepMemoryRouter on Express 4", () => {
  it("builds its router with the host's Express 4", async () => {
    const before = express4.routersMade;
    const { trainer } = createTrainer();
    createDeepMemoryRouter({ trainer, getUserId: () => "alice" });
    expect(express4.routersMade).toBe(before + 1);
    await trainer.close();
  });

  it("runs on Express 4", () => {
    // Express 5's path syntax rejects a bare "*", Express 4's accepts it.
    expect(() => express.Router().get("/x*", () => {})).not.toThrow();
  });

  routerContract(expressMount);
});
