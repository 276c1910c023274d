import { describe, expect, it } from "vitest";
import { deriveTitle } from "./title";

describe("deriveTitle", () => {
  it("strips markdown and whitespace", () => {
    expect(deriveTitle("  # Hello **world**\n\n  again ")).toBe("Hello world again");
  });
  it("cuts long messages at a word boundary", () => {
    const title = deriveTitle("Explain the difference between optimistic and pessimistic locking in relational databases please");
    expect(title.length).toBeLessThanOrEqual(61);
    expect(title.endsWith("…")).toBe(true);
    expect(title).toBe("Explain the difference between optimistic and pessimistic…");
  });
  it("falls back when nothing is left", () => {
    expect(deriveTitle("```\ncode only\n```")).toBe("New chat");
  });
});
