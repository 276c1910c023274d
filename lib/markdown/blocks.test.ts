import { describe, expect, it } from "vitest";
import { splitBlocks } from "./blocks";

describe("splitBlocks", () => {
  it("splits paragraphs, headings and tables at blank lines", () => {
    const text = "# Title\n\nFirst paragraph\nstill first.\n\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nLast.";
    expect(splitBlocks(text)).toEqual(["# Title", "First paragraph\nstill first.", "| a | b |\n|---|---|\n| 1 | 2 |", "Last."]);
  });

  it("keeps a fenced code block with blank lines whole", () => {
    const code = "```ts\nconst a = 1;\n\n\nconst b = 2;\n```";
    expect(splitBlocks(`Intro\n\n${code}\n\nAfter`)).toEqual(["Intro", code, "After"]);
  });

  it("needs a closing fence of the same kind and at least the same length", () => {
    const code = "````md\n```\n\ninner\n```\n~~~\n\n````";
    expect(splitBlocks(`${code}\n\nAfter`)).toEqual([code, "After"]);
  });

  it("runs an unclosed fence to the end, as a streaming reply has it", () => {
    expect(splitBlocks("Here:\n\n```py\nprint(1)\n\n# more")).toEqual(["Here:", "```py\nprint(1)\n\n# more"]);
  });

  it("does not take inline code with backticks for a fence", () => {
    expect(splitBlocks("```a` b```\n\nnext")).toEqual(["```a` b```", "next"]);
  });

  it("keeps a loose list, and what is indented under its items, in one block", () => {
    const list = "1. Install:\n\n   ```bash\n   npm i\n\n   ```\n\n2. Run it\n\n   with care.\n\n- other";
    expect(splitBlocks(`Steps:\n\n${list}\n\nDone.`)).toEqual(["Steps:", list, "Done."]);
  });

  it("keeps a list that follows a paragraph directly with its later items", () => {
    expect(splitBlocks("Options:\n- a\n\n- b\n\nEnd")).toEqual(["Options:\n- a\n\n- b", "End"]);
  });

  it("keeps a blockquote with blank lines between quoted lines whole", () => {
    expect(splitBlocks("> one\n\n> two\n\nthree")).toEqual(["> one\n\n> two", "three"]);
  });

  it("handles CRLF line ends, and empty or blank input", () => {
    expect(splitBlocks("a\r\n\r\nb")).toEqual(["a", "b"]);
    expect(splitBlocks("")).toEqual([]);
    expect(splitBlocks("\n \n")).toEqual([]);
  });

  it("grows only its last block as text streams in", () => {
    const full = "Para one.\n\n- item\n- item two\n\n```js\nx()\n```\n\nThe end.";
    let previous: string[] = [];
    for (let n = 1; n <= full.length; n++) {
      const blocks = splitBlocks(full.slice(0, n));
      // Every block but the last is final once a later one starts.
      expect(blocks.slice(0, previous.length - 1)).toEqual(previous.slice(0, -1));
      previous = blocks;
    }
    expect(previous).toEqual(["Para one.", "- item\n- item two", "```js\nx()\n```", "The end."]);
  });
});
