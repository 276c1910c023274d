/** What the sidebar needs of a conversation (a subset of the API's conversation object). */
export type ConversationSummary = {
  id: string;
  title: string;
  pinned: boolean;
  archived: boolean;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
};

/** One row of the virtual list: a group heading or a conversation. */
export type SidebarRow =
  | { kind: "heading"; key: string; label: string }
  | { kind: "conversation"; key: string; conversation: ConversationSummary };

const DAY_MS = 86_400_000;
const monthFormat = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric" });

/** The date a conversation is filed under: its last message, else its last change. */
export function activityDate(conversation: ConversationSummary): Date {
  return new Date(conversation.last_message_at ?? conversation.updated_at ?? conversation.created_at);
}

function startOfDay(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

/**
 * The group a date falls in, seen from `now` in the viewer's time zone, with a rank that orders
 * groups newest first: Today, Yesterday, Previous 7 days, Previous 30 days, then calendar months.
 */
export function dateGroup(date: Date, now: Date): { label: string; rank: number } {
  // Calendar days between the two midnights; rounding absorbs a DST hour.
  const days = Math.round((startOfDay(now).getTime() - startOfDay(date).getTime()) / DAY_MS);
  if (days <= 0) return { label: "Today", rank: 0 };
  if (days === 1) return { label: "Yesterday", rank: 1 };
  if (days <= 7) return { label: "Previous 7 days", rank: 2 };
  if (days <= 30) return { label: "Previous 30 days", rank: 3 };
  // Later months rank lower: 4 + how many months back from now.
  const monthsBack = (now.getFullYear() - date.getFullYear()) * 12 + (now.getMonth() - date.getMonth());
  return { label: monthFormat.format(date), rank: 4 + monthsBack };
}

/**
 * The rows of the list: pinned conversations under "Pinned" (in the order given), the rest under
 * date headings. The server orders by activity, which can disagree with the date a conversation
 * is filed under (a renamed empty chat), so rows are stably sorted by group to keep each heading
 * once.
 */
export function buildRows(input: { pinned: ConversationSummary[]; rest: ConversationSummary[]; now: Date }): SidebarRow[] {
  const rows: SidebarRow[] = [];
  if (input.pinned.length > 0) {
    rows.push({ kind: "heading", key: "h:pinned", label: "Pinned" });
    for (const conversation of input.pinned) rows.push({ kind: "conversation", key: conversation.id, conversation });
  }
  const filed = input.rest.map((conversation, order) => ({ conversation, order, group: dateGroup(activityDate(conversation), input.now) }));
  filed.sort((a, b) => a.group.rank - b.group.rank || a.order - b.order);
  let label: string | null = null;
  for (const { conversation, group } of filed) {
    if (group.label !== label) {
      label = group.label;
      rows.push({ kind: "heading", key: `h:${label}`, label });
    }
    rows.push({ kind: "conversation", key: conversation.id, conversation });
  }
  return rows;
}
