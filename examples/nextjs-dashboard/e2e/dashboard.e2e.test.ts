import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRoot, chromiumArgs, ensureProductionBuild, findChromium, missingPrerequisite, startApp, type RunningApp } from "./support";

/** Full-page screenshots of each step, for a person to look at (git-ignored). */
const artifacts = join(appRoot, "test-artifacts", "e2e");
const screenshot = (p: Page, name: string) => p.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

const missing = missingPrerequisite();
if (missing && process.env.REQUIRE_BROWSER === "1") throw new Error(`REQUIRE_BROWSER=1 but the Next.js dashboard's browser tests cannot run: ${missing}`);
if (missing) console.warn(`[nextjs-dashboard e2e] SKIPPING browser tests: ${missing}. Set REQUIRE_BROWSER=1 to make this a failure.`);

describe.skipIf(missing !== null)("the Next.js dashboard in Chromium against `next start`", () => {
  const temp = mkdtempSync(join(tmpdir(), "nextjs-dashboard-e2e-"));
  let app: RunningApp;
  let browser: Browser;
  let first: BrowserContext;
  let page: Page;
  let firstRunId = "";
  // Console errors in any page (a hydration mismatch, a failed request the page did not expect) fail the run.
  const consoleErrors: string[] = [];
  const watch = (p: Page) => {
    p.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${p.url()}: ${message.text()}`);
    });
    p.on("pageerror", (error) => consoleErrors.push(`${p.url()}: ${error.message}`));
    return p;
  };

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    await ensureProductionBuild();
    // Paces generation (as rate limiting would) so there is time to reload mid-job: ~85 chunks x 60 ms.
    app = await startApp({ DEEP_MEMORY_DATA_DIR: join(temp, "pglite"), GENERATION_DELAY_MS: "60" });
    browser = await chromium.launch({ executablePath: findChromium()!, headless: true, args: chromiumArgs });
    first = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = watch(await first.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(temp, { recursive: true, force: true });
    // Checked after cleaning up, so a failure here leaves no server running.
    expect(consoleErrors).toEqual([]);
    // The server logged no error (Next marks them with "⨯").
    expect(app?.output() ?? "").not.toMatch(/⨯|Error:/);
  });

  /** Signs a fresh local user in from the login page; the dashboard opens. */
  async function signIn(p: Page) {
    await p.goto(`${app.url}/dashboard/deep-memory`);
    await p.waitForURL(/\/login$/);
    await p.getByRole("button", { name: "Start a local session" }).click();
    await p.waitForURL(/\/dashboard\/deep-memory$/);
    await expect.poll(() => p.getByTestId("status-badge").innerText()).toContain("Disabled");
  }

  async function ask(p: Page, message: string) {
    const before = await p.getByTestId("chat-exchange").count();
    await p.getByRole("textbox", { name: "Message" }).fill(message);
    await p.getByRole("button", { name: "Ask" }).click();
    const exchange = p.getByTestId("chat-exchange").nth(before);
    await exchange.waitFor();
    return exchange;
  }

  it("generate -> progress (through a reload) -> review -> train -> metrics -> toggle -> the chat uses deep memory", async () => {
    await signIn(page);
    await expect.poll(() => page.getByTestId("new-chunks").innerText()).toBe("85 new chunks since last training");
    expect(await (await ask(page, "How is VWAP computed?")).getByTestId("chat-deep-memory").innerText()).toBe("Plain search");

    await page.getByRole("button", { name: "Generate training data" }).click();
    const generating = page.getByRole("progressbar", { name: "Generating training data" });
    await generating.waitFor();
    await expect.poll(async () => Number(await generating.getAttribute("aria-valuenow")), { timeout: 30_000 }).toBeGreaterThan(5);
    const beforeReload = Number(await generating.getAttribute("aria-valuenow"));
    expect(beforeReload).toBeLessThan(100);
    await screenshot(page, "1-generating");

    // A reload mid-job: the page finds the active run and follows its event stream again, from where it is now.
    await page.reload();
    await generating.waitFor();
    const afterReload = Number(await generating.getAttribute("aria-valuenow"));
    expect(afterReload).toBeGreaterThanOrEqual(beforeReload);
    await expect.poll(async () => Number(await generating.getAttribute("aria-valuenow"))).toBeGreaterThan(afterReload);

    const summary = page.getByTestId("generated-summary");
    await summary.waitFor({ timeout: 60_000 });
    await expect.poll(() => summary.innerText()).toMatch(/\d+ training pairs from 85 chunks/);
    const review = page.getByTestId("review");
    expect(await review.getByRole("row").count()).toBeGreaterThan(5);
    expect(await review.innerText()).toContain("Questions per chunk");
    await screenshot(page, "2-review");

    await page.getByRole("button", { name: "Start training" }).click();
    await page.getByRole("progressbar", { name: "Training deep memory" }).waitFor();
    const result = page.getByTestId("training-result");
    await result.waitFor({ timeout: 120_000 });
    expect(await result.innerText()).toContain("Beats plain search");
    expect(await page.getByTestId("recall-table").innerText()).toMatch(/Deep memory\s+\d/);
    await expect.poll(() => page.getByTestId("history").innerText()).toContain("Completed");

    const toggle = page.getByRole("switch", { name: "Use deep memory" });
    await toggle.click();
    await expect.poll(() => toggle.getAttribute("aria-checked")).toBe("true");
    await expect.poll(() => page.getByTestId("status-badge").innerText()).toContain("Enabled");
    await expect.poll(() => page.getByTestId("new-chunks").innerText()).toBe("0 new chunks since last training");
    expect(await page.getByTestId("pair-count").innerText()).toMatch(/^\d[\d,]*$/);

    const exchange = await ask(page, "How is VWAP computed?");
    expect(await exchange.getByTestId("chat-deep-memory").innerText()).toBe("Deep memory used");
    expect(await exchange.innerText()).toContain("VWAP");
    await screenshot(page, "3-trained-enabled-chat");

    const runs = (await (await page.request.get(`${app.url}/api/deep-memory/runs`)).json()) as { runs: { id: string }[] };
    firstRunId = runs.runs[0]!.id;
  });

  it("a second user sees nothing of the first", async () => {
    expect(firstRunId).not.toBe("");
    const second = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const other = watch(await second.newPage());
      await signIn(other);
      await expect.poll(() => other.getByText("No runs yet").count()).toBe(1);
      expect(await other.getByTestId("new-chunks").innerText()).toBe("85 new chunks since last training");
      expect(await other.getByTestId("last-trained").innerText()).toBe("never");
      expect(await other.getByRole("switch", { name: "Use deep memory" }).getAttribute("aria-checked")).toBe("false");
      expect((await other.request.get(`${app.url}/api/deep-memory/runs/${firstRunId}`)).status()).toBe(404);
      expect(await (await ask(other, "How is VWAP computed?")).getByTestId("chat-deep-memory").innerText()).toBe("Plain search");
      // A path Next cannot decode still gets the API's JSON error (middleware.ts), not Next's HTML 400 page.
      const malformed = await other.request.get(`${app.url}/api/deep-memory/runs/%ZZ`);
      expect(malformed.status()).toBe(400);
      expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
      // Without a session the API answers 401, never another user's data.
      expect((await (await browser.newContext()).request.get(`${app.url}/api/deep-memory/runs`)).status()).toBe(401);
    } finally {
      await second.close();
    }
  });

  it("is usable at a phone's width (375 px): nothing cut off, wide tables scroll inside their card", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    try {
      await phone.addCookies(await first.cookies());
      const small = watch(await phone.newPage());
      await small.goto(`${app.url}/dashboard/deep-memory`);
      await small.getByTestId("training-result").waitFor();
      await expect.poll(() => small.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      // Every element lies within the screen, unless it sits in a box that scrolls sideways.
      const cutOff = await small.evaluate(() => {
        const scrolls = (el: Element | null): boolean => {
          for (let e = el; e; e = e.parentElement) if (["auto", "scroll"].includes(getComputedStyle(e).overflowX) && e !== document.documentElement) return true;
          return false;
        };
        return [...document.querySelectorAll("body *")]
          .filter((el) => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5) && !scrolls(el.parentElement) && !el.closest(".sr-only");
          })
          .map((el) => `${el.tagName.toLowerCase()}.${el.className}`.slice(0, 120));
      });
      expect(cutOff).toEqual([]);
      const historyRegion = small.getByTestId("history").locator("xpath=..");
      await expect.poll(() => historyRegion.getAttribute("data-scrollable")).toBe("true");
      const toggle = small.getByRole("switch", { name: "Use deep memory" });
      expect(await toggle.isVisible()).toBe(true);
      expect(await (await ask(small, "What is a stop-limit order?")).getByTestId("chat-deep-memory").innerText()).toBe("Deep memory used");
      await screenshot(small, "4-phone");
    } finally {
      await phone.close();
    }
  });
});
