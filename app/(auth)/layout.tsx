import { redirect } from "next/navigation";
import { getPageUser } from "@/lib/auth/current-user";

export const dynamic = "force-dynamic";

export default async function AuthLayout({ children }: { children: React.ReactNode }) {
  if (await getPageUser()) redirect("/");
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm space-y-6">
        <div className="text-center">
          <p className="text-2xl font-semibold tracking-tight">BOT GPT</p>
        </div>
        {children}
      </div>
    </main>
  );
}
