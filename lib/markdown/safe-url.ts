const ALLOWED_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/**
 * The URL a link or image from model output may point to, or undefined when it must not be one.
 * Only absolute http(s) and mailto URLs pass: javascript:, data:, vbscript:, file: and the rest are
 * refused, and so are relative and protocol-relative URLs (a reply must not steer the user to this
 * app's own pages or to a host it leaves unnamed). A same-page fragment (footnotes) is kept.
 * The URL is parsed the way the browser will parse it, so "java\tscript:" or " JavaScript:" fail too.
 */
export function safeUrl(url: string): string | undefined {
  const trimmed = url.trim();
  if (/^#[\w-]*$/.test(trimmed)) return trimmed;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return undefined;
  }
  return ALLOWED_PROTOCOLS.has(parsed.protocol) ? parsed.href : undefined;
}

/** A same-page link (a footnote), which opens in place rather than in a new tab. */
export const isFragment = (href: string) => href.startsWith("#");
