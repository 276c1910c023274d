"use client";

import type { Element } from "hast";
import { createContext, memo, useContext, useMemo, type ReactNode } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { splitBlocks } from "@/lib/markdown/blocks";
import { citationIndices, rehypeCitationMarkers, remarkLiteralHtml } from "@/lib/markdown/plugins";
import { isFragment, safeUrl } from "@/lib/markdown/safe-url";
import { CitationMarker } from "./citations";
import { CodeBlock } from "./code-block";
import type { Citation } from "./types";

/**
 * A reply's Markdown (GitHub-flavoured), rendered without ever trusting it: raw HTML shows as text,
 * links go only to http(s)/mailto and open in a new tab, images become links that load nothing
 * until clicked, and no HTML string is injected anywhere (react-markdown builds React elements).
 *
 * The text is split into top-level blocks, each memoized by its source: while a reply streams,
 * only its last block is parsed and rendered again per token.
 */
export function Markdown({ text, citations }: { text: string; citations: Citation[] }) {
  const blocks = splitBlocks(text);
  // A streaming reply brings a new citations array with every token; the markers re-render only
  // when the citations themselves change.
  const citationKey = citations.map((c) => `${c.index}:${c.chunk_id}`).join(",");
  // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed on what the citations are, not the array's identity
  const byIndex = useMemo(() => new Map(citations.map((c) => [c.index, c])), [citationKey]);
  return (
    <CitationsContext value={byIndex}>
      <div className="md min-w-0 space-y-3 break-words" data-testid="markdown">
        {blocks.map((block, i) => (
          // The index is the block's identity: blocks only ever grow at the end.
          <MarkdownBlock key={i} source={block} />
        ))}
      </div>
    </CitationsContext>
  );
}

const CitationsContext = createContext<ReadonlyMap<number, Citation>>(new Map());

const remarkPlugins = [remarkGfm, remarkLiteralHtml];
// lowlight's `common` set (about 35 languages); no auto-detection, so unlabelled code stays plain.
const rehypePlugins = [rehypeCitationMarkers, rehypeHighlight];

const MarkdownBlock = memo(function MarkdownBlock({ source }: { source: string }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} urlTransform={safeUrl} components={components}>
      {source}
    </ReactMarkdown>
  );
});

/** `[n]` found by rehypeCitationMarkers: source links when every index is a citation, else the literal text. */
function CitationMarkers({ node, children }: { node?: Element; children?: ReactNode }) {
  const byIndex = useContext(CitationsContext);
  const cited = citationIndices(node?.properties.dataCitation)?.map((n) => byIndex.get(n));
  if (!cited || cited.some((c) => !c)) return <span>{children}</span>;
  return <>{cited.map((c) => (c ? <CitationMarker key={c.index} citation={c} /> : null))}</>;
}

const linkClass = "font-medium text-blue-700 underline decoration-blue-700/30 underline-offset-2 hover:decoration-blue-700 dark:text-blue-300 dark:decoration-blue-300/30 dark:hover:decoration-blue-300";

// `href`/`src` have been through safeUrl already: absent means the URL was refused.
function SafeLink({ href, children }: { href?: string; children?: ReactNode }) {
  if (!href) return <span>{children}</span>;
  if (isFragment(href)) return <a href={href} className={linkClass}>{children}</a>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" className={linkClass}>
      {children}
    </a>
  );
}

/** An image in a reply is never fetched by itself (it could carry data out in its URL): it is a link. */
function ImageLink({ src, alt }: { src?: string | Blob; alt?: string }) {
  const label = alt?.trim() || "image";
  if (typeof src !== "string" || !src) return <span>[Image: {label}]</span>;
  return (
    <a href={src} target="_blank" rel="noopener noreferrer" title={src} className={linkClass}>
      <span aria-hidden="true">🖼 </span>
      Image: {label}
    </a>
  );
}

const components: Components = {
  a: ({ href, children }) => <SafeLink href={href}>{children}</SafeLink>,
  img: ({ src, alt }) => <ImageLink src={src} alt={alt} />,
  pre: ({ node, children }) => <CodeBlock node={node}>{children}</CodeBlock>,
  span: ({ node, children, className }) =>
    node?.properties.dataCitation !== undefined ? <CitationMarkers node={node}>{children}</CitationMarkers> : <span className={className}>{children}</span>,
  p: ({ children }) => <p className="leading-relaxed">{children}</p>,
  h1: ({ children }) => <h1 className="mt-5 mb-2 text-xl font-semibold first:mt-0">{children}</h1>,
  h2: ({ children }) => <h2 className="mt-5 mb-2 text-lg font-semibold first:mt-0">{children}</h2>,
  h3: ({ children }) => <h3 className="mt-4 mb-1.5 text-base font-semibold first:mt-0">{children}</h3>,
  h4: ({ children }) => <h4 className="mt-3 mb-1 font-semibold first:mt-0">{children}</h4>,
  h5: ({ children }) => <h5 className="mt-3 mb-1 font-semibold first:mt-0">{children}</h5>,
  h6: ({ children }) => <h6 className="mt-3 mb-1 font-semibold text-zinc-600 first:mt-0 dark:text-zinc-400">{children}</h6>,
  ul: ({ children, className }) => (
    <ul className={`space-y-1 ${className === "contains-task-list" ? "list-none pl-1" : "list-disc pl-6 marker:text-zinc-500"} [&_ol]:mt-1 [&_ul]:mt-1`}>{children}</ul>
  ),
  ol: ({ children, start }) => (
    <ol start={start} className="list-decimal space-y-1 pl-6 marker:text-zinc-500 [&_ol]:mt-1 [&_ul]:mt-1">
      {children}
    </ol>
  ),
  li: ({ children, className }) => <li className={`pl-1 ${className === "task-list-item" ? "flex items-start gap-2" : ""} [&>p]:my-1`}>{children}</li>,
  input: ({ type, checked }) =>
    type === "checkbox" ? <input type="checkbox" checked={checked} disabled className="mt-1 size-3.5 accent-blue-600" aria-label={checked ? "Done" : "Not done"} /> : null,
  blockquote: ({ children }) => (
    <blockquote className="border-l-4 border-zinc-300 pl-3 text-zinc-600 dark:border-zinc-600 dark:text-zinc-400 [&>*+*]:mt-2">{children}</blockquote>
  ),
  hr: () => <hr className="my-4 border-zinc-200 dark:border-zinc-700" />,
  table: ({ children }) => (
    <div className="my-3 overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-700">
      <table className="w-full border-collapse text-left text-[0.8125rem]">{children}</table>
    </div>
  ),
  thead: ({ children }) => <thead className="bg-zinc-50 dark:bg-zinc-800/60">{children}</thead>,
  th: ({ children, style }) => (
    <th style={style} className="border-b border-zinc-200 px-3 py-2 font-semibold whitespace-nowrap dark:border-zinc-700">
      {children}
    </th>
  ),
  td: ({ children, style }) => (
    <td style={style} className="border-t border-zinc-200 px-3 py-2 align-top dark:border-zinc-700">
      {children}
    </td>
  ),
  strong: ({ children }) => <strong className="font-semibold">{children}</strong>,
  del: ({ children }) => <del className="text-zinc-500 dark:text-zinc-400">{children}</del>,
};
