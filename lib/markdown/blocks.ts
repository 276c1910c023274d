/**
 * Splits Markdown into top-level blocks that each parse the same on their own, so a streaming reply
 * re-parses only its last block per token (the others are memoized by their source text).
 *
 * Blocks end at blank lines, except:
 * - inside a fenced code block (an unclosed fence runs to the end, as CommonMark has it);
 * - before an indented line (a list item's continuation, its fenced code, or indented code);
 * - between list items (a loose list stays one list, numbered once);
 * - between quoted lines (one blockquote stays one).
 * Joining the blocks with "\n\n" gives back the text up to blank-line runs.
 */
export function splitBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: { char: string; length: number } | null = null;
  let blankSeen = false;

  const flush = () => {
    if (current.length > 0) blocks.push(current.join("\n"));
    current = [];
  };

  for (const line of markdown.split(/\r?\n/)) {
    if (fence) {
      current.push(line);
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (line.trim() === "") {
      if (current.length > 0) blankSeen = true;
      continue;
    }
    if (blankSeen) {
      blankSeen = false;
      if (continuesBlock(current, line)) current.push("");
      else flush();
    }
    current.push(line);
    fence = opensFence(line);
  }
  flush();
  return blocks;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const LIST_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)/;
const QUOTE = /^ {0,3}>/;

function opensFence(line: string): { char: string; length: number } | null {
  const match = FENCE.exec(line);
  const marker = match?.[1];
  if (!marker) return null;
  // A backtick fence's info string cannot contain a backtick (that is inline code instead).
  if (marker.startsWith("`") && match[2]?.includes("`")) return null;
  return { char: marker.charAt(0), length: marker.length };
}

function closesFence(line: string, fence: { char: string; length: number }): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  const marker = match?.[1];
  return Boolean(marker && marker.startsWith(fence.char) && marker.length >= fence.length);
}

function continuesBlock(block: string[], next: string): boolean {
  if (/^\s/.test(next)) return true;
  // The block's last line that is not a continuation: a list may follow a paragraph directly.
  const last = block.findLast((line) => /^\S/.test(line) || LIST_ITEM.test(line)) ?? "";
  if (LIST_ITEM.test(last) && LIST_ITEM.test(next)) return true;
  return QUOTE.test(last) && QUOTE.test(next);
}
