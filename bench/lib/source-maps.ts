import { existsSync, readFileSync, readdirSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CallFrame } from "./cpu-profile";

type Payload = { sources?: string[]; sections?: Array<{ map: Payload }> };

const sourcesOf = (payload: Payload): string[] => [...(payload.sources ?? []), ...(payload.sections ?? []).flatMap((s) => sourcesOf(s.map))];

/**
 * A package's own map composed into the chunk's can lose a level: drizzle-orm's `entity.js.map`
 * names `../src/entity.ts`, which the chunk's map then resolves to `node_modules/src/entity.ts`.
 * Such a path, under a node_modules folder that is no installed package, is given to the package
 * that has the compiled file (`node_modules/drizzle-orm/entity.js`), looking first among the
 * packages of the same map. Callers cache the answer per frame.
 */
function repairSource(root: string, source: string, mapSources: string[], mapDir: string): string {
  const match = /^(.*node_modules)\/([^/@][^/]*)\/(.+)$/.exec(source);
  if (!match || existsSync(path.join(root, match[1]!, match[2]!, "package.json"))) return source;
  const rest = match[3]!.replace(/\.tsx?$/, ".js");
  const packages = new Set(
    mapSources
      .map((s) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path.relative(root, path.resolve(mapDir, s)))?.[1])
      .filter((p): p is string => !!p),
  );
  // The map's own packages first; then any installed package (the chunk may hold only the one file).
  const installed = () => readdirSync(path.join(root, match[1]!)).flatMap((d) => (d.startsWith("@") ? readdirSync(path.join(root, match[1]!, d)).map((s) => `${d}/${s}`) : [d]));
  for (const names of [[...packages], installed()]) {
    for (const name of names) {
      const candidate = path.join(match[1]!, name, rest);
      if (existsSync(path.join(root, candidate))) return candidate;
    }
  }
  return source;
}

/**
 * The original source file of a profiled function, from the source map next to its bundled
 * chunk (`.next/server/**\/*.js.map`, which `next build` writes): a path relative to `root`, or
 * null when the script has no map (then the script's own path tells the package). Maps are parsed
 * once per file with Node's own SourceMap.
 */
export function sourceLocator(root: string): (frame: CallFrame) => string | null {
  const maps = new Map<string, { map: SourceMap; sources: string[] } | null>();
  const found = new Map<string, string | null>();
  const mapOf = (file: string) => {
    if (!maps.has(file)) {
      const mapFile = `${file}.map`;
      let map: { map: SourceMap; sources: string[] } | null = null;
      if (existsSync(mapFile)) {
        try {
          const payload = JSON.parse(readFileSync(mapFile, "utf8")) as Payload;
          map = { map: new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]), sources: sourcesOf(payload) };
        } catch {
          map = null; // unreadable map: fall back to the script's path
        }
      }
      maps.set(file, map);
    }
    return maps.get(file)!;
  };
  return (frame) => {
    if (!frame.url.startsWith("file://") && !frame.url.startsWith("/")) return null;
    const key = `${frame.url}:${frame.lineNumber}:${frame.columnNumber}`;
    if (found.has(key)) return found.get(key)!;
    const file = frame.url.startsWith("file://") ? fileURLToPath(frame.url) : frame.url;
    let source: string | null = path.relative(root, file);
    const map = file.endsWith(".js") ? mapOf(file) : null;
    if (map) {
      const entry = map.map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
      if (entry.originalSource) {
        const original = entry.originalSource.startsWith("file://") ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), decodeURIComponent(entry.originalSource));
        source = repairSource(root, path.relative(root, original), map.sources, path.dirname(file));
      }
    }
    found.set(key, source);
    return source;
  };
}
