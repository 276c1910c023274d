import { describe, expect, it } from "vitest";
import { bm25Idf, candidateBudget, candidateTerms, fuseRankings, quoteLexeme, rescorePool, type QueryTerm } from "./search";

const term = (name: string, df: number): QueryTerm => ({ term: name, qtf: 1, df, idf: bm25Idf(1000, df) });

describe("bm25Idf", () => {
  it("is Lucene's: ln(1 + (N − df + 0.5) / (df + 0.5)), positive even for a term in every chunk", () => {
    expect(bm25Idf(3, 2)).toBeCloseTo(Math.log(1.6), 12);
    expect(bm25Idf(10, 10)).toBeGreaterThan(0);
    expect(bm25Idf(1000, 1)).toBeGreaterThan(bm25Idf(1000, 100));
  });
});

describe("quoteLexeme", () => {
  it("quotes so that tsquery operators and quotes inside a lexeme stay literal", () => {
    expect(quoteLexeme("plain")).toBe("'plain'");
    expect(quoteLexeme("o'neil")).toBe("'o''neil'");
    expect(quoteLexeme("a\\b")).toBe("'a\\\\b'");
    expect(quoteLexeme("x & !y | (z):*")).toBe("'x & !y | (z):*'");
  });
});

describe("candidateTerms", () => {
  const terms = [term("rare", 10), term("uncommon", 300), term("common", 5_000), term("everywhere", 9_000)];

  it("takes the rarest terms while their postings fit the budget", () => {
    expect(candidateTerms(terms, 400).map((t) => t.term)).toEqual(["rare", "uncommon"]);
    expect(candidateTerms(terms, 100_000).map((t) => t.term)).toEqual(["rare", "uncommon", "common", "everywhere"]);
  });

  it("always keeps the rarest term, even over budget", () => {
    expect(candidateTerms([term("common", 5_000)], 100).map((t) => t.term)).toEqual(["common"]);
  });

  it("scales the budget with the searched chunks, within bounds", () => {
    expect(candidateBudget(100)).toBe(500);
    expect(candidateBudget(100_000)).toBe(5_000);
    expect(candidateBudget(1_000_000)).toBe(20_000);
    expect(rescorePool(6)).toBe(200);
    expect(rescorePool(100)).toBe(400);
  });
});

describe("fuseRankings", () => {
  it("adds 1 / (60 + rank) per ranking an item appears in", () => {
    const fused = fuseRankings([
      ["a", "b", "c"],
      ["c", "a"],
    ]);
    expect(fused.get("a")).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(fused.get("b")).toBeCloseTo(1 / 62, 12);
    expect(fused.get("c")).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect([...fused].sort((x, y) => y[1] - x[1]).map(([id]) => id)).toEqual(["a", "c", "b"]);
  });
});
