/** Grey placeholders shown while a route's server component loads; the label is for screen readers. */

function Bar({ className, width }: { className: string; width?: string }) {
  return <div className={`animate-pulse rounded-md bg-zinc-200/80 motion-reduce:animate-none dark:bg-zinc-800 ${className}`} style={width ? { width } : undefined} />;
}

const BUBBLES = [
  { user: true, lines: ["w-40"] },
  { user: false, lines: ["w-72", "w-64", "w-48"] },
  { user: true, lines: ["w-56"] },
  { user: false, lines: ["w-80", "w-60"] },
];

/** The shape of a conversation: a header and alternating message bubbles. */
export function ConversationSkeleton({ label = "Loading conversation" }: { label?: string }) {
  return (
    <div aria-busy="true" className="flex h-full min-h-0 flex-col" data-testid="conversation-skeleton">
      <span role="status" className="sr-only">
        {label}
      </span>
      <div className="flex items-center gap-3 border-b border-zinc-200 py-3 pr-4 pl-20 md:pl-4 dark:border-zinc-800">
        <Bar className="h-5 w-48" />
      </div>
      <div aria-hidden="true" className="min-h-0 flex-1 overflow-hidden px-4 py-6">
        <ul className="mx-auto max-w-3xl space-y-4">
          {BUBBLES.map((bubble, index) => (
            <li key={index} className={`flex ${bubble.user ? "justify-end" : "justify-start"}`}>
              <div className={`max-w-[85%] space-y-2 rounded-2xl px-4 py-3 ${bubble.user ? "bg-zinc-100 dark:bg-zinc-900" : "bg-zinc-100/60 dark:bg-zinc-900/60"}`}>
                {bubble.lines.map((width, line) => (
                  <Bar key={line} className={`h-3 max-w-full ${width}`} />
                ))}
              </div>
            </li>
          ))}
        </ul>
      </div>
      <div aria-hidden="true" className="border-t border-zinc-200 p-3 dark:border-zinc-800">
        <Bar className="mx-auto h-10 max-w-3xl rounded-xl" />
      </div>
    </div>
  );
}

/** A settings page: a heading, a line of text and two cards. */
export function SettingsSkeleton() {
  return (
    <div aria-busy="true" className="space-y-6">
      <span role="status" className="sr-only">
        Loading settings
      </span>
      <div aria-hidden="true" className="space-y-6">
        <div className="space-y-2">
          <Bar className="h-6 w-40" />
          <Bar className="h-4 w-80 max-w-full" />
        </div>
        <Bar className="h-32 w-full rounded-xl" />
        <Bar className="h-20 w-full rounded-xl" />
      </div>
    </div>
  );
}

/** The sidebar's list while its first page loads: a heading and a few rows of varied length. */
export function SidebarSkeleton() {
  return (
    <div aria-busy="true" aria-label="Loading conversations" role="status" className="space-y-1 px-2 pt-3" data-testid="sidebar-skeleton">
      <Bar className="mx-2.5 mb-3 h-3 w-16" />
      {[72, 56, 84, 64, 48, 76].map((width) => (
        <div key={width} className="flex h-9 items-center px-2.5">
          <Bar className="h-3.5" width={`${width}%`} />
        </div>
      ))}
    </div>
  );
}
