const MAX_TITLE_CHARS = 60;

/** A conversation title from the first message, without a model call. */
export function deriveTitle(firstMessage: string): string {
  const plain = firstMessage
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/[#>*_`~[\]()]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (!plain) return "New chat";
  if (plain.length <= MAX_TITLE_CHARS) return plain;
  const cut = plain.slice(0, MAX_TITLE_CHARS);
  const lastSpace = cut.lastIndexOf(" ");
  return `${(lastSpace > 20 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}
