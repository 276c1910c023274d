import type { Metadata } from "next";
import Link from "next/link";
import { ApiKeysManager } from "@/components/settings/api-keys-manager";

export const metadata: Metadata = { title: "API keys" };

export default function ApiKeysPage() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-xl font-semibold">API keys</h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Keys let programs use the BOT GPT API as you. Send one as <code>Authorization: Bearer bgpt_…</code>. See the{" "}
          <Link href="/docs/api" className="text-blue-700 underline dark:text-blue-400">
            API reference
          </Link>
          .
        </p>
      </header>
      <ApiKeysManager />
    </div>
  );
}
