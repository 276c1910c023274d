"use client";

import { useId, useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";

type Props = {
  method: string;
  path: string;
  pathParams: string[];
  /** json: a JSON textarea; multipart: a file picker (uploads). */
  body: "none" | "json" | "multipart";
  exampleBody?: string;
};

/**
 * Sends a real request from the reference page: with the browser session when signed in, or with
 * an API key typed here (kept in this page's memory only). Streams are shown as they arrive.
 */
export function TryIt({ method, path, pathParams, body: bodyKind, exampleBody }: Props) {
  const hasBody = bodyKind !== "none";
  const id = useId();
  const [open, setOpen] = useState(false);
  const [result, setResult] = useState<{ status: string; headers: string; body: string } | null>(null);
  const [pending, setPending] = useState(false);

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let url = `/api/v1${path}`;
    for (const name of pathParams) url = url.replace(`{${name}}`, encodeURIComponent(String(data.get(name) ?? "")));
    const query = String(data.get("query") ?? "").trim().replace(/^\?/, "");
    if (query) url += `?${query}`;
    const headers: Record<string, string> = {};
    const key = String(data.get("key") ?? "").trim();
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | FormData | undefined;
    if (bodyKind === "json") {
      body = String(data.get("body") ?? "");
      headers["content-type"] = "application/json";
    } else if (bodyKind === "multipart") {
      // The browser writes the multipart boundary into Content-Type itself.
      body = new FormData();
      const file = data.get("file");
      if (file instanceof File && file.size > 0) body.set("file", file);
      const conversationId = String(data.get("conversation_id") ?? "").trim();
      if (conversationId) body.set("conversation_id", conversationId);
    }
    const idempotencyKey = String(data.get("idempotency") ?? "").trim();
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;

    setPending(true);
    setResult(null);
    try {
      const response = await fetch(url, { method: method.toUpperCase(), headers, body, credentials: key ? "omit" : "same-origin" });
      const shownHeaders = ["content-type", "x-request-id", "ratelimit-remaining", "retry-after", "idempotent-replayed"]
        .map((name) => [name, response.headers.get(name)] as const)
        .filter(([, value]) => value !== null)
        .map(([name, value]) => `${name}: ${value}`)
        .join("\n");
      const status = `${response.status} ${response.statusText}`;
      let text = "";
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      while (reader) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        setResult({ status, headers: shownHeaders, body: text });
      }
      const pretty = (response.headers.get("content-type") ?? "").includes("json") && text ? JSON.stringify(JSON.parse(text), null, 2) : text;
      setResult({ status, headers: shownHeaders, body: pretty });
    } catch (error) {
      setResult({ status: "network error", headers: "", body: error instanceof Error ? error.message : String(error) });
    } finally {
      setPending(false);
    }
  }

  if (!open) {
    return (
      <Button type="button" variant="secondary" onClick={() => setOpen(true)}>
        Try it
      </Button>
    );
  }
  const field = "w-full rounded border border-zinc-300 bg-white px-2 py-1 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900";
  return (
    <form onSubmit={send} className="space-y-2 rounded-lg bg-zinc-50 p-3 dark:bg-zinc-900" aria-label={`Try ${method.toUpperCase()} ${path}`}>
      {pathParams.map((name) => (
        <label key={name} className="block text-xs">
          {name}
          <input name={name} required className={field} />
        </label>
      ))}
      <label className="block text-xs">
        Query string
        <input name="query" placeholder="limit=20" className={field} />
      </label>
      {bodyKind === "multipart" ? (
        <>
          <label className="block text-xs">
            File (PDF, .txt, .md)
            <input name="file" type="file" accept=".pdf,.txt,.md,application/pdf,text/plain,text/markdown" className={field} />
          </label>
          <label className="block text-xs">
            conversation_id (optional)
            <input name="conversation_id" className={field} />
          </label>
        </>
      ) : null}
      {hasBody ? (
        <>
          {bodyKind === "json" ? (
            <>
              <label className="block text-xs" htmlFor={`${id}-body`}>
                JSON body
              </label>
              <textarea id={`${id}-body`} name="body" rows={5} defaultValue={exampleBody ?? "{}"} className={field} />
            </>
          ) : null}
          <label className="block text-xs">
            Idempotency-Key (optional)
            <input name="idempotency" className={field} />
          </label>
        </>
      ) : null}
      <label className="block text-xs">
        API key (leave empty to use your browser session)
        <input name="key" type="password" autoComplete="off" placeholder="bgpt_…" className={field} />
      </label>
      <Button type="submit" disabled={pending}>
        {pending ? "Sending…" : `Send ${method.toUpperCase()}`}
      </Button>
      {result ? (
        <div className="space-y-1" aria-live="polite">
          <p className="font-mono text-xs font-semibold">{result.status}</p>
          {result.headers ? <pre className="font-mono text-xs whitespace-pre-wrap text-zinc-500">{result.headers}</pre> : null}
          <pre className="max-h-80 overflow-auto rounded bg-zinc-900 p-2 font-mono text-xs whitespace-pre-wrap text-zinc-100" data-testid="try-it-response">
            {result.body}
          </pre>
        </div>
      ) : null}
    </form>
  );
}
