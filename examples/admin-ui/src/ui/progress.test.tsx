import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Progress } from "./progress.js";

/** The progressbar's ARIA attributes as rendered: what screen readers announce and the browser tests poll. */
function aria(markup: string): Record<string, string> {
  const bar = /<div[^>]*role="progressbar"[^>]*>/.exec(markup)?.[0] ?? "";
  return Object.fromEntries([...bar.matchAll(/(aria-[a-z]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe("Progress", () => {
  it("is a labelled progressbar announcing a whole-number percentage", () => {
    const attrs = aria(renderToStaticMarkup(<Progress value={41.6} label="Generating training data" />));
    expect(attrs).toMatchObject({ "aria-label": "Generating training data", "aria-valuenow": "42", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuetext": "42%" });
  });

  it("announces the given value text instead of the bare percentage", () => {
    const attrs = aria(renderToStaticMarkup(<Progress value={40} label="Training" valueText="40%, 34 of 85 chunks" />));
    expect(attrs["aria-valuetext"]).toBe("40%, 34 of 85 chunks");
  });

  it("keeps values that a stream can report (above 100, below 0, NaN) inside 0..100", () => {
    expect(aria(renderToStaticMarkup(<Progress value={130} label="x" />))["aria-valuenow"]).toBe("100");
    expect(aria(renderToStaticMarkup(<Progress value={-5} label="x" />))["aria-valuenow"]).toBe("0");
    expect(aria(renderToStaticMarkup(<Progress value={Number.NaN} label="x" />))["aria-valuenow"]).toBe("0");
  });
});
