/**
 * Where a CPU profile's time went, by package: the aggregation behind the profile scenario
 * (bench/profile.ts). Pure: a `.cpuprofile` (what `node --cpu-prof` writes) and a function that
 * names the source file of a call frame go in; self time per package comes out. The source
 * files come from the build's source maps (bench/lib/source-maps.ts), since Next bundles `lib/`,
 * drizzle-orm, zod and the AI SDK into `.next/server` chunks.
 */

export type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
export type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
/** The Chrome DevTools / V8 CPU profile format; times in microseconds on the monotonic clock. */
export type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

/** V8's pseudo-frames: not code of any package. */
const IDLE = "(idle)";
const GC = "(garbage collector)";
const PROGRAM = "(program)";
const ROOT = "(root)";

/** libuv stream writes as V8 sees them (the syscall's time lands on these frames). */
const SOCKET_WRITES = /^(writev|writeBuffer|write(Utf8|Latin1|Ascii|Ucs2)String|shutdown)$/;

export const EXCLUDED = { idle: "idle (excluded)", gc: "garbage collection (excluded)" } as const;

/** Packages that belong together in the report (a library and the helpers it ships as packages). */
const GROUPS: Array<[RegExp, string]> = [
  [/^(ai|@ai-sdk\/.+)$/, "ai / @ai-sdk"],
  [/^(next|@next\/.+|styled-jsx|@swc\/helpers)$/, "next"],
  [/^(react|react-dom|react-server-dom-.+|scheduler)$/, "react / react-dom"],
  [/^(pg|pg-.+|postgres-.+|pgpass)$/, "pg"],
  [/^drizzle-orm$/, "drizzle-orm"],
  [/^zod$/, "zod"],
  [/^(pino|pino-.+|sonic-boom|thread-stream|on-exit-leak-free|atomic-sleep|quick-format-unescaped|fast-redact|safe-stable-stringify)$/, "pino"],
  [/^(prom-client|tdigest|bintrees)$/, "prom-client"],
  [/^(next-auth|jose|@panva\/hkdf|openid-client|oauth|cookie)$/, "next-auth / jose"],
  [/^@opentelemetry\/.+$/, "opentelemetry"],
  [/^(ioredis|@ioredis\/.+|redis-.+|cluster-key-slot|denque)$/, "ioredis"],
  [/^gpt-tokenizer$/, "gpt-tokenizer"],
];

/** Node's own modules, split where a turn's costs tend to sit. */
function nodeModuleGroup(path: string): string {
  if (/webstreams|internal\/streams|^node:stream/.test(path)) return "node: streams (web and node)";
  if (/async_hooks|async_local_storage|promise_hooks/.test(path)) return "node: async_hooks (async context)";
  if (/_http_|internal\/http|^node:http|^node:net|internal\/net|stream_base_commons|internal\/dns/.test(path)) return "node: http / net";
  if (/internal\/worker|internal\/per_context\/messageport/.test(path)) return "node: worker messaging";
  if (/internal\/deps\/undici|^node:internal\/fetch/.test(path)) return "node: fetch (undici)";
  if (/timers/.test(path)) return "node: timers";
  return "node: other";
}

/**
 * The report's name for a source file: the package of the innermost node_modules segment (grouped,
 * see GROUPS), our `lib/<folder>`, `app/` route code, Node's own `node:` modules, or "other".
 * `source` is a path relative to the project (or absolute, or a file:// URL).
 */
export function packageOf(source: string): string {
  const path = decodeURIComponent(source.replace(/^file:\/\//, "")).replace(/\\/g, "/");
  if (path.startsWith("node:") || /^internal\//.test(path)) return nodeModuleGroup(path);
  const marker = "node_modules/";
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const rest = path.slice(at + marker.length).split("/");
    const name = rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? "");
    return GROUPS.find(([pattern]) => pattern.test(name))?.[1] ?? name;
  }
  if (path.includes("turbopack")) return "next"; // the bundler's runtime inside the chunks
  if (/(?:^|\/)\.next\//.test(path)) return "app bundle (no source map)";
  const lib = /(?:^|\/)lib\/([^/]+)\//.exec(path);
  if (lib) return `lib/${lib[1]}`;
  if (/(?:^|\/)lib\/[^/]+\.[cm]?[tj]sx?$/.test(path)) return "lib (top level)";
  if (/(?:^|\/)(app|components)\//.test(path)) return "app routes";
  return "other";
}

/** The category of one call frame, given where its source really is (a source-map lookup). */
export function categoryOf(frame: CallFrame, locate: (frame: CallFrame) => string | null): string {
  if (frame.functionName === IDLE) return EXCLUDED.idle;
  if (frame.functionName === GC) return EXCLUDED.gc;
  if (frame.functionName === PROGRAM || frame.functionName === ROOT) return "V8 / native (unattributed)";
  // Builtins and native functions have no script: socket writes, the microtask queue, JSON, Buffer, crypto…
  if (!frame.url) {
    if (SOCKET_WRITES.test(frame.functionName)) return "node: socket writes (native)";
    if (frame.functionName === "runMicrotasks") return "node: microtask queue (native)";
    return "node: other native functions";
  }
  return packageOf(locate(frame) ?? frame.url);
}

export type Breakdown = {
  /** Self time per category in the window, µs. */
  selfUs: Map<string, number>;
  /** Self time per function ("category · name · source"), µs: for the raw results. */
  functionsUs: Map<string, number>;
  samples: number;
  windowUs: number;
};

/**
 * Self time per category over the samples taken in [fromUs, toUs] (the profile's clock, which is
 * CLOCK_MONOTONIC: process.hrtime in any process on the machine). A sample stands for the time
 * until the next one (the last sample of the profile for the mean interval).
 */
export function aggregateProfile(profile: CpuProfile, window: { fromUs: number; toUs: number } | null, locate: (frame: CallFrame) => string | null): Breakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const category = new Map<number, string>();
  const selfUs = new Map<string, number>();
  const functionsUs = new Map<string, number>();
  const from = window?.fromUs ?? -Infinity;
  const to = window?.toUs ?? Infinity;
  const meanInterval = profile.samples.length > 1 ? (profile.endTime - profile.startTime) / profile.samples.length : 0;
  let at = profile.startTime;
  let samples = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    const next = profile.timeDeltas[i + 1];
    const weight = next !== undefined && next >= 0 ? next : meanInterval;
    const id = profile.samples[i]!;
    const node = byId.get(id);
    if (!node) continue;
    let name = category.get(id);
    if (name === undefined) {
      name = categoryOf(node.callFrame, locate);
      category.set(id, name);
    }
    selfUs.set(name, (selfUs.get(name) ?? 0) + weight);
    const fn = `${name} · ${node.callFrame.functionName || "(anonymous)"} · ${locate(node.callFrame) ?? node.callFrame.url}`;
    functionsUs.set(fn, (functionsUs.get(fn) ?? 0) + weight);
    samples++;
  }
  const windowUs = Math.min(to, profile.endTime) - Math.max(from, profile.startTime);
  return { selfUs, functionsUs, samples, windowUs: Math.max(0, windowUs) };
}

/** Adds breakdowns of several profiles (one per process or thread of the app). */
export function mergeBreakdowns(parts: Breakdown[]): Breakdown {
  const merged: Breakdown = { selfUs: new Map(), functionsUs: new Map(), samples: 0, windowUs: 0 };
  for (const part of parts) {
    for (const [k, v] of part.selfUs) merged.selfUs.set(k, (merged.selfUs.get(k) ?? 0) + v);
    for (const [k, v] of part.functionsUs) merged.functionsUs.set(k, (merged.functionsUs.get(k) ?? 0) + v);
    merged.samples += part.samples;
    merged.windowUs = Math.max(merged.windowUs, part.windowUs);
  }
  return merged;
}

/** Rows of the report: category, ms per turn, share of the counted (non-excluded) time; largest first. */
export function perTurnRows(breakdown: Breakdown, turns: number): Array<{ category: string; msPerTurn: number; share: number | null }> {
  const excluded = new Set<string>(Object.values(EXCLUDED));
  const counted = [...breakdown.selfUs].filter(([k]) => !excluded.has(k)).reduce((sum, [, v]) => sum + v, 0);
  return [...breakdown.selfUs]
    .map(([category, us]) => ({ category, msPerTurn: us / 1000 / turns, share: excluded.has(category) || counted === 0 ? null : us / counted }))
    .sort((a, b) => Number(excluded.has(a.category)) - Number(excluded.has(b.category)) || b.msPerTurn - a.msPerTurn);
}
