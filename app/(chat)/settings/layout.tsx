import { SettingsTabs } from "@/components/settings/settings-tabs";

export default function SettingsLayout({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex-1 overflow-y-auto px-4 pt-16 pb-10 md:pt-6">
      <div className="mx-auto max-w-3xl space-y-6">
        <div className="border-b border-zinc-200 dark:border-zinc-800">
          <p className="pb-2 text-sm font-medium text-zinc-500 dark:text-zinc-400">Settings</p>
          <SettingsTabs />
        </div>
        {children}
      </div>
    </div>
  );
}
