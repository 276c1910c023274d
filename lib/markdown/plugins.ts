import type { Element, ElementContent, Root as HastRoot, Text } from "hast";
import type { Parent as MdastParent, Root as MdastRoot } from "mdast";

/**
 * Raw HTML in model output is shown as the text it is, never rendered: `<script>` reads as
 * `<script>`. A block of HTML becomes a paragraph of that text; inline HTML stays inline.
 */
export function remarkLiteralHtml() {
  return (tree: MdastRoot) => literalHtml(tree);
}

const FLOW_PARENTS = new Set(["root", "blockquote", "listItem", "footnoteDefinition"]);

function literalHtml(parent: MdastParent) {
  parent.children = parent.children.map((child) => {
    if (child.type === "html") {
      const text = { type: "text" as const, value: child.value, position: child.position };
      return FLOW_PARENTS.has(parent.type) ? { type: "paragraph" as const, children: [text], position: child.position } : text;
    }
    if ("children" in child) literalHtml(child);
    return child;
  });
}

/** `[1]` or `[1, 3]`: the markers a grounded answer cites its passages with. */
const MARKERS = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

/** Elements whose text is code or already a link: markers there are left alone. */
const SKIPPED = new Set(["code", "pre", "a"]);

/**
 * Wraps each citation marker in the text in `<span data-citation="1,3">[1, 3]</span>`. Which of
 * them name a passage the server sent is the renderer's call; this only finds them.
 */
export function rehypeCitationMarkers() {
  return (tree: HastRoot) => markCitations(tree);
}

function markCitations(parent: HastRoot | Element) {
  const children: ElementContent[] = [];
  for (const child of parent.children) {
    if (child.type === "text") children.push(...splitMarkers(child));
    else if (child.type === "element") {
      if (!SKIPPED.has(child.tagName)) markCitations(child);
      children.push(child);
    } else if (child.type !== "doctype") children.push(child);
  }
  parent.children = children;
}

function splitMarkers(node: Text): ElementContent[] {
  const parts: ElementContent[] = [];
  let last = 0;
  for (const match of node.value.matchAll(MARKERS)) {
    if (match.index > last) parts.push({ type: "text", value: node.value.slice(last, match.index) });
    const indices = (match[1] ?? "").split(",").map((n) => Number(n.trim()));
    parts.push({
      type: "element",
      tagName: "span",
      properties: { dataCitation: indices.join(",") },
      children: [{ type: "text", value: match[0] }],
    });
    last = match.index + match[0].length;
  }
  if (last === 0) return [node];
  if (last < node.value.length) parts.push({ type: "text", value: node.value.slice(last) });
  return parts;
}

/** Indices from a marker's `data-citation` property. */
export function citationIndices(value: unknown): number[] | null {
  if (typeof value !== "string" || !/^\d+(,\d+)*$/.test(value)) return null;
  return value.split(",").map(Number);
}

/** The text of a hast node (a code block's source, for copying). */
export function hastText(node: ElementContent | Element): string {
  if (node.type === "text") return node.value;
  if (node.type === "element") return node.children.map(hastText).join("");
  return "";
}
