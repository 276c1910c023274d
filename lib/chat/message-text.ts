/** An OpenAI-style message content: a string, or text parts (other part types are refused at the schema). */
export type MessageContent = string | Array<{ type: string; text?: string }> | null | undefined;

/** Text parts are joined as separate paragraphs: glued together, "Hello" and "world" would read "Helloworld". */
export const CONTENT_PART_SEPARATOR = "\n\n";

export function textOfContent(content: MessageContent): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((part) => part.text ?? "").join(CONTENT_PART_SEPARATOR);
}
