/** Deterministic scripted text for benchmarks, so every run sees the same conversation. */

/** A seeded linear congruential generator: numbers in [0, 1). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const WORDS =
  "the a of to and in is that for it on with as was this be by are at from or an have not but we can which their more model context window token budget summary message reply user assistant question answer document page passage search index retrieval conversation latency stream provider cache price request response error limit server client database query result function variable string number array object parse schema validate".split(
    " ",
  );

/** `words` words of chat-like prose, with sentences and now and then a paragraph break. */
export function prose(next: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    out.push(WORDS[Math.floor(next() * WORDS.length)] ?? "the");
    if (i % 14 === 13) out.push(next() < 0.3 ? ".\n\n" : ".");
  }
  return out.join(" ");
}
