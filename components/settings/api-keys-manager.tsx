"use client";

import { useEffect, useId, useState, type FormEvent } from "react";
import { ApiError, apiCall } from "@/components/api-client";
import { formatWhen } from "@/components/chat/format";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { toast } from "@/components/ui/toaster";

const SCOPES = ["conversations:read", "conversations:write", "documents:read", "documents:write"] as const;

type ApiKey = { id: string; name: string; prefix: string; scopes: string[]; created_at: string; last_used_at: string | null; expires_at: string | null };

const formatDate = (value: string | null) => (value ? formatWhen(value) : "—");

async function fetchKeys(): Promise<ApiKey[]> {
  return (await apiCall<{ data: ApiKey[] }>("/api-keys", { fallback: "Could not load your API keys." })).data;
}

export function ApiKeysManager() {
  // null until the first load answers; an empty list is then "no keys yet".
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [pending, setPending] = useState(false);
  const scopesLegend = useId();

  // Bumped after a change or a retry; the effect below refetches the list.
  const [version, setVersion] = useState(0);
  const load = () => setVersion((v) => v + 1);

  useEffect(() => {
    let cancelled = false;
    fetchKeys()
      .then((data) => {
        if (!cancelled) setKeys(data);
      })
      .catch(() => {
        if (!cancelled) toast({ message: "Could not load your API keys.", tone: "error", action: { label: "Retry", onClick: () => setVersion((v) => v + 1) } });
      });
    return () => {
      cancelled = true;
    };
  }, [version]);

  async function submitKey(body: object, form: HTMLFormElement) {
    setPending(true);
    setError(null);
    try {
      const result = await apiCall<ApiKey & { key: string }>("/api-keys", { method: "POST", body, fallback: "Could not create the key." });
      setCreated({ name: result.name, key: result.key });
      setCopied(false);
      form.reset();
      load();
    } catch (e) {
      // Refused (validation, scope…): say why by the form. Not sent at all: a toast to retry.
      if (e instanceof ApiError && e.status > 0) {
        setError(e.message);
        return;
      }
      toast({ message: "Could not create the key. Check your connection.", tone: "error", action: { label: "Retry", onClick: () => void submitKey(body, form) } });
    } finally {
      setPending(false);
    }
  }

  function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const expires = String(data.get("expires") ?? "");
    void submitKey(
      {
        name: String(data.get("name") ?? ""),
        scopes: SCOPES.filter((scope) => data.get(scope) === "on"),
        ...(expires ? { expires_at: new Date(`${expires}T23:59:59`).toISOString() } : {}),
      },
      form,
    );
  }

  async function revokeKey(key: ApiKey) {
    try {
      await apiCall(`/api-keys/${key.id}`, { method: "DELETE", accept: [404], fallback: "Could not revoke the key." });
    } catch {
      toast({ message: `Could not revoke “${key.name}”.`, tone: "error", action: { label: "Retry", onClick: () => void revokeKey(key) } });
    }
    load();
  }

  function revoke(key: ApiKey) {
    if (window.confirm(`Revoke "${key.name}"? Programs using it stop working at once.`)) void revokeKey(key);
  }

  return (
    <div className="space-y-8">
      {created ? (
        <section aria-labelledby="new-key" className="space-y-2 rounded-xl border border-amber-300 bg-amber-50 p-4 dark:border-amber-700 dark:bg-amber-950">
          <h2 id="new-key" className="font-medium">
            Your new key “{created.name}”
          </h2>
          <p className="text-sm">Copy it now: it is shown only once and cannot be recovered.</p>
          <div className="flex items-center gap-2">
            <code data-testid="new-api-key" className="flex-1 overflow-x-auto rounded bg-white px-2 py-1 font-mono text-sm dark:bg-zinc-900">
              {created.key}
            </code>
            <Button
              type="button"
              variant="secondary"
              onClick={async () => {
                await navigator.clipboard.writeText(created.key);
                setCopied(true);
              }}
            >
              {copied ? "Copied" : "Copy"}
            </Button>
          </div>
          <Button type="button" variant="ghost" onClick={() => setCreated(null)}>
            Done
          </Button>
        </section>
      ) : null}

      <form onSubmit={create} method="post" className="space-y-4 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800" aria-label="Create an API key">
        <h2 className="font-medium">Create a key</h2>
        <Field label="Name" name="name" required maxLength={100} placeholder="e.g. CI bot" />
        <fieldset aria-labelledby={scopesLegend} className="space-y-1">
          <legend id={scopesLegend} className="text-sm font-medium">
            Scopes
          </legend>
          {SCOPES.map((scope) => (
            <label key={scope} className="flex items-center gap-2 text-sm">
              <input type="checkbox" name={scope} defaultChecked={scope.startsWith("conversations")} /> {scope}
            </label>
          ))}
        </fieldset>
        <Field label="Expires on (optional)" name="expires" type="date" />
        {error ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        ) : null}
        <Button type="submit" disabled={pending}>
          {pending ? "Creating…" : "Create key"}
        </Button>
      </form>

      <section aria-labelledby="your-keys" className="space-y-2">
        <h2 id="your-keys" className="font-medium">
          Your keys
        </h2>
        {keys === null ? (
          <div aria-busy="true" className="space-y-2" data-testid="api-keys-loading">
            <span className="sr-only">Loading your keys</span>
            {[0, 1].map((n) => (
              <div key={n} className="h-16 animate-pulse rounded-xl bg-zinc-100 dark:bg-zinc-800/60" />
            ))}
          </div>
        ) : keys.length === 0 ? (
          <div className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center dark:border-zinc-700">
            <p className="text-sm font-medium">No API keys yet</p>
            <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Create one above to call the API from a script or another app.</p>
          </div>
        ) : null}
        <ul className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 empty:hidden dark:divide-zinc-800 dark:border-zinc-800" data-testid="api-key-list">
          {(keys ?? []).map((key) => (
            <li key={key.id} className="flex flex-wrap items-center gap-3 p-3 text-sm">
              <div className="min-w-0 flex-1">
                <p className="font-medium">{key.name}</p>
                <p className="font-mono text-xs text-zinc-500 dark:text-zinc-400">{key.prefix}…</p>
                <p className="text-xs text-zinc-500 dark:text-zinc-400">
                  {key.scopes.join(", ")} · created {formatDate(key.created_at)} · last used {formatDate(key.last_used_at)} · expires {formatDate(key.expires_at)}
                </p>
              </div>
              <Button type="button" variant="danger" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
