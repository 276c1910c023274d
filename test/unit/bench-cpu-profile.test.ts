import { describe, expect, it } from "vitest";
import { aggregateProfile, categoryOf, EXCLUDED, mergeBreakdowns, packageOf, perTurnRows, type CallFrame, type CpuProfile } from "../../bench/lib/cpu-profile";

const frame = (functionName: string, url = ""): CallFrame => ({ functionName, url, lineNumber: 0, columnNumber: 0 });

/**
 * A profile of five nodes sampled every 100 µs from t = 1,000: samples name the node on top of
 * the stack at that moment (self time), whatever the tree above it.
 */
function profile(samples: number[]): CpuProfile {
  const nodes = [
    { id: 1, callFrame: frame("(root)"), children: [2, 3, 4, 5, 6] },
    { id: 2, callFrame: frame("(idle)") },
    { id: 3, callFrame: frame("(garbage collector)") },
    { id: 4, callFrame: frame("build", "file:///app/.next/server/chunks/a.js") },
    { id: 5, callFrame: frame("query", "file:///app/node_modules/pg/lib/client.js") },
    { id: 6, callFrame: frame("parse") },
  ];
  return { nodes, startTime: 1_000, endTime: 1_000 + samples.length * 100, samples, timeDeltas: samples.map(() => 100) };
}

describe("packageOf", () => {
  it("names the innermost package, scoped or nested, and groups a library's helper packages", () => {
    expect(packageOf("node_modules/drizzle-orm/pg-core/dialect.js")).toBe("drizzle-orm");
    expect(packageOf("../../../node_modules/%40ai-sdk/openai/node_modules/%40ai-sdk/provider-utils/dist/index.mjs")).toBe("ai / @ai-sdk");
    expect(packageOf("file:///srv/app/node_modules/pg-protocol/dist/parser.js")).toBe("pg");
    expect(packageOf("node_modules/next/dist/compiled/next-server/app-route.runtime.prod.js")).toBe("next");
    expect(packageOf("node_modules/sonic-boom/index.js")).toBe("pino");
    expect(packageOf("node_modules/left-pad/index.js")).toBe("left-pad");
  });

  it("splits our own code by lib folder and keeps route code and Node's modules apart", () => {
    expect(packageOf("lib/db/queries/messages.ts")).toBe("lib/db");
    expect(packageOf("/srv/app/lib/streams/runs.ts")).toBe("lib/streams");
    expect(packageOf("lib/env.ts")).toBe("lib (top level)");
    expect(packageOf("app/api/v1/conversations/route.ts")).toBe("app routes");
    expect(packageOf("node:internal/webstreams/readablestream")).toBe("node: streams (web and node)");
    expect(packageOf("node:internal/async_hooks")).toBe("node: async_hooks (async context)");
    expect(packageOf(".next/server/chunks/a.js")).toBe("app bundle (no source map)");
  });

  it("tells socket writes and the microtask queue from other native functions", () => {
    const none = () => null;
    expect(categoryOf(frame("writev"), none)).toBe("node: socket writes (native)");
    expect(categoryOf(frame("runMicrotasks"), none)).toBe("node: microtask queue (native)");
    expect(categoryOf(frame("parse"), none)).toBe("node: other native functions");
    expect(categoryOf(frame("(program)"), none)).toBe("V8 / native (unattributed)");
  });
});

describe("aggregateProfile", () => {
  const locate = (f: CallFrame) => (f.url.endsWith("a.js") ? "lib/db/queries/messages.ts" : null);

  it("gives each sample the time to the next one, by the source the locator names", () => {
    const result = aggregateProfile(profile([4, 4, 5, 6, 2, 3]), null, locate);
    expect(Object.fromEntries(result.selfUs)).toEqual({
      "lib/db": 200,
      pg: 100,
      "node: other native functions": 100,
      [EXCLUDED.idle]: 100,
      [EXCLUDED.gc]: 100, // the last sample: the profile's mean interval
    });
    expect(result.samples).toBe(6);
  });

  it("counts only the samples inside the window", () => {
    // Sample i is taken at 1,000 + 100·(i + 1): the window [1,250, 1,450] holds samples 2 and 3.
    const result = aggregateProfile(profile([4, 4, 5, 6, 2, 3]), { fromUs: 1_250, toUs: 1_450 }, locate);
    expect(Object.fromEntries(result.selfUs)).toEqual({ pg: 100, "node: other native functions": 100 });
    expect(result.windowUs).toBe(200);
  });

  it("reports ms per turn and shares of the time that counts (idle and GC left out of the shares)", () => {
    const merged = mergeBreakdowns([aggregateProfile(profile([4, 4, 5, 2]), null, locate), aggregateProfile(profile([5, 3]), null, locate)]);
    const rows = perTurnRows(merged, 2);
    expect(rows.map((r) => r.category)).toEqual(["lib/db", "pg", EXCLUDED.idle, EXCLUDED.gc]);
    expect(rows[0]).toEqual({ category: "lib/db", msPerTurn: 0.1, share: 0.5 });
    expect(rows[1]).toEqual({ category: "pg", msPerTurn: 0.1, share: 0.5 });
    expect(rows[2]!.share).toBeNull();
  });
});
