import { describe, expect, it } from "vitest";
import { groupedInserts } from "./log";

const row = (messageId: string, firstId = 1) => ({ messageId, firstId, lastId: firstId, chunks: ["{}"], done: false });

/** An insert function that records each call's rows and finishes when told to. */
function recorder(fail: (ids: string[]) => boolean = () => false) {
  const calls: string[][] = [];
  const finish: Array<() => void> = [];
  const insert = (rows: Array<{ messageId: string }>) => {
    const ids = rows.map((r) => r.messageId);
    calls.push(ids);
    return new Promise<void>((resolve, reject) => finish.push(() => (fail(ids) ? reject(new Error(`failed ${ids.join(",")}`)) : resolve())));
  };
  return { calls, finish, insert };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("stream log group commit", () => {
  it("inserts a lone row at once, and rows that arrive during an insert together in the next", async () => {
    const r = recorder();
    const insert = groupedInserts(r.insert);
    const first = insert(row("a"));
    expect(r.calls).toEqual([["a"]]);
    const waiting = [insert(row("b")), insert(row("c")), insert(row("d"))];
    await tick();
    expect(r.calls).toHaveLength(1);
    r.finish.shift()!();
    await first;
    await tick();
    expect(r.calls).toEqual([["a"], ["b", "c", "d"]]);
    r.finish.shift()!();
    await Promise.all(waiting);
  });

  it("splits a batch over maxRows", async () => {
    const r = recorder();
    const insert = groupedInserts(r.insert, 2);
    const all = [insert(row("a")), insert(row("b")), insert(row("c")), insert(row("d"))];
    for (let i = 0; i < 3; i++) {
      await tick();
      r.finish.shift()?.();
    }
    await Promise.all(all);
    expect(r.calls).toEqual([["a"], ["b", "c"], ["d"]]);
  });

  it("retries a failed batch row by row, so only the bad row's append fails", async () => {
    const r = recorder((ids) => ids.includes("bad"));
    const insert = groupedInserts(r.insert);
    const first = insert(row("a"));
    const good = insert(row("b"));
    const bad = insert(row("bad"));
    r.finish.shift()!();
    await first;
    await tick();
    expect(r.calls.at(-1)).toEqual(["b", "bad"]);
    r.finish.shift()!(); // the pair fails
    await tick();
    expect(r.calls.slice(-2)).toEqual([["b"], ["bad"]]);
    r.finish.splice(0).forEach((f) => f());
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow("failed bad");
  });
});
