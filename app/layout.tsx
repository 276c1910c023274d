import type { Metadata, Viewport } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "BOT GPT", template: "%s · BOT GPT" },
  description: "Self-hostable conversational AI with a public API.",
};

// Every page renders per request: its scripts carry the nonce of that response's CSP (proxy.ts),
// which a page prerendered at build time could not know.
export const dynamic = "force-dynamic";

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="h-full bg-white font-sans text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        {children}
      </body>
    </html>
  );
}
