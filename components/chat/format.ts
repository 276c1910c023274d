/** Numbers as the chat shows them: short token counts, dollars to a sensible precision. */

/** 950, 2.1k, 12.4k, 128k, 1.05M */
export function formatTokens(n: number): string {
  if (n < 1_000) return String(Math.round(n));
  if (n < 1_000_000) return `${trimZeros((n / 1_000).toFixed(n < 100_000 ? 1 : 0))}k`;
  return `${trimZeros((n / 1_000_000).toFixed(2))}M`;
}

/** Every digit, for detail views: 12,345 */
export const formatCount = (n: number) => n.toLocaleString("en-US");

/**
 * $0 for free (offline model, cache hits); $1.23 from a dollar up; below that, three significant
 * digits so a single cheap reply is still readable ($0.000123, $0.0031, $0.25).
 */
export function formatUsd(n: number): string {
  if (n <= 0) return "$0";
  if (n >= 1) return `$${n.toFixed(2)}`;
  if (n < 0.000001) return "<$0.000001";
  const decimals = Math.max(2, 2 - Math.floor(Math.log10(n)));
  const fixed = n.toFixed(decimals);
  // Keep at least cents: $0.50, not $0.5.
  return `$${fixed.replace(/(\.\d{2}\d*?)0+$/, "$1")}`;
}

/** A moment in the reader's time zone and locale: "Nov 21, 2026, 3:04 PM". */
export function formatWhen(at: string | Date): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** 340 ms, 1.2 s */
export function formatDuration(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${trimZeros((ms / 1_000).toFixed(1))} s`;
}

function trimZeros(fixed: string): string {
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}
