import type { Metadata } from "next";
import { UsageReport } from "@/components/settings/usage-report";

export const metadata: Metadata = { title: "Usage" };

export default function UsagePage() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-xl font-semibold">Usage</h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Tokens and cost of your model calls: replies, conversation summaries and document embeddings, whether from this app or your API keys.
        </p>
      </header>
      <UsageReport />
    </div>
  );
}
