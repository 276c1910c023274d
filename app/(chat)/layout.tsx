import { KeyboardShortcuts } from "@/components/shortcuts/keyboard-shortcuts";
import { Sidebar } from "@/components/sidebar/sidebar";
import { Toaster } from "@/components/ui/toaster";
import { requirePageUser } from "@/lib/auth/current-user";

export const dynamic = "force-dynamic";

export default async function ChatLayout({ children }: { children: React.ReactNode }) {
  const user = await requirePageUser();
  return (
    <div className="flex h-dvh">
      <Sidebar userEmail={user.email} />
      <main className="flex min-w-0 flex-1 flex-col">{children}</main>
      <KeyboardShortcuts />
      <Toaster />
    </div>
  );
}
