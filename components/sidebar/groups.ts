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
function activityDate(conversation: ConversationSummary): Date {
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
  const rank = groupRank(date, now, startOfDay(now).getTime());
  return { label: groupLabel(rank, date), rank };
}

/** `todayStart`: midnight of `now`, worked out once per list rather than once per row. */
function groupRank(date: Date, now: Date, todayStart: number): number {
  // Calendar days between the two midnights; rounding absorbs a DST hour.
  const days = Math.round((todayStart - startOfDay(date).getTime()) / DAY_MS);
  if (days <= 0) return 0;
  if (days === 1) return 1;
  if (days <= 7) return 2;
  if (days <= 30) return 3;
  // Later months rank lower: 4 + how many months back from now.
  return 4 + (now.getFullYear() - date.getFullYear()) * 12 + (now.getMonth() - date.getMonth());
}

const recentLabels = ["Today", "Yesterday", "Previous 7 days", "Previous 30 days"];

function groupLabel(rank: number, date: Date): string {
  return recentLabels[rank] ?? monthFormat.format(date);
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
  const todayStart = startOfDay(input.now).getTime();
  const filed = input.rest.map((conversation, order) => {
    const date = activityDate(conversation);
    return { conversation, order, date, rank: groupRank(date, input.now, todayStart) };
  });
  filed.sort((a, b) => a.rank - b.rank || a.order - b.order);
  let rank: number | null = null;
  for (const { conversation, date, rank: groupOf } of filed) {
    // A heading (and its label, a month name to format) only where the group changes.
    if (groupOf !== rank) {
      rank = groupOf;
      const label = groupLabel(groupOf, date);
      rows.push({ kind: "heading", key: `h:${label}`, label });
    }
    rows.push({ kind: "conversation", key: conversation.id, conversation });
  }
  return rows;
}
