// Types for bpe-count.mjs (plain ESM so the ingestion worker can load it without a build step).
export type BpeEncoding = "o200k" | "cl100k";
export const MAX_PIECE_CHARS: number;
export const PIECE_CUT_ALLOWANCE: number;
export const DEFAULT_SLICE_MS: number;
export function countBpeTokens(name: BpeEncoding, text: string): number;
export function countBpeTokensYielding(name: BpeEncoding, text: string, sliceMs?: number): Promise<number>;
export function warmBpe(): void;
export function bpeBoundaries(name: BpeEncoding, text: string): { ends: Int32Array; tokens: Int32Array; length: number; total: number };
export function bpeBoundariesYielding(name: BpeEncoding, text: string, sliceMs?: number): Promise<{ ends: Int32Array; tokens: Int32Array; length: number; total: number }>;
