import type { Metadata } from "next";
import { SignOutButton } from "@/components/settings/sign-out-button";
import { requirePageUser } from "@/lib/auth/current-user";

export const metadata: Metadata = { title: "Profile" };

export default async function ProfilePage() {
  const user = await requirePageUser();
  const rows = [
    { label: "Name", value: user.name ?? "—" },
    { label: "Email", value: user.email },
    { label: "Member since", value: user.createdAt.toLocaleDateString("en", { dateStyle: "long", timeZone: "UTC" }) },
  ];
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-xl font-semibold">Profile</h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">The account you are signed in with.</p>
      </header>
      <dl className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 px-4 text-sm dark:divide-zinc-800 dark:border-zinc-800">
        {rows.map(({ label, value }) => (
          <div key={label} className="flex flex-wrap justify-between gap-x-4 gap-y-1 py-3">
            <dt className="font-medium">{label}</dt>
            <dd className="break-all text-zinc-700 dark:text-zinc-300">{value}</dd>
          </div>
        ))}
      </dl>
      <section aria-labelledby="session-heading" className="flex flex-wrap items-center justify-between gap-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
        <div className="space-y-1">
          <h2 id="session-heading" className="text-sm font-medium">
            Session
          </h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Sign out of BOT GPT in this browser.</p>
        </div>
        <SignOutButton />
      </section>
    </div>
  );
}
