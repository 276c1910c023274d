import { describe, expect, it } from "vitest";
import { buildRows, dateGroup, type ConversationSummary } from "@/components/sidebar/groups";

// Local-time dates, so the boundaries hold in whatever time zone the tests run.
const now = new Date(2026, 10, 21, 14, 30); // 21 November 2026, 14:30
const label = (date: Date) => dateGroup(date, now).label;

function conversation(id: string, at: Date | null, extra: Partial<ConversationSummary> = {}): ConversationSummary {
  const iso = (at ?? new Date(2026, 0, 1)).toISOString();
  return { id, title: id, pinned: false, archived: false, created_at: iso, updated_at: iso, last_message_at: at ? iso : null, ...extra };
}

describe("sidebar date groups", () => {
  it("splits today from yesterday at local midnight", () => {
    expect(label(new Date(2026, 10, 21, 0, 0))).toBe("Today");
    expect(label(new Date(2026, 10, 21, 23, 59))).toBe("Today");
    expect(label(new Date(2026, 10, 20, 23, 59, 59))).toBe("Yesterday");
    expect(label(new Date(2026, 10, 20, 0, 0))).toBe("Yesterday");
    // A clock slightly ahead of ours files under today, not nowhere.
    expect(label(new Date(2026, 10, 22, 1, 0))).toBe("Today");
  });

  it("counts the previous 7 and 30 days in calendar days", () => {
    expect(label(new Date(2026, 10, 19, 23, 59))).toBe("Previous 7 days");
    expect(label(new Date(2026, 10, 14, 0, 0))).toBe("Previous 7 days"); // 7 days back
    expect(label(new Date(2026, 10, 13, 23, 59))).toBe("Previous 30 days"); // 8 days back
    expect(label(new Date(2026, 9, 22, 0, 0))).toBe("Previous 30 days"); // 30 days back
    expect(label(new Date(2026, 9, 21, 23, 59))).toBe("October 2026"); // 31 days back
  });

  it("files older conversations by month and year, newest month first", () => {
    expect(label(new Date(2026, 9, 1))).toBe("October 2026");
    expect(label(new Date(2026, 0, 31))).toBe("January 2026");
    expect(label(new Date(2025, 11, 31))).toBe("December 2025");
    expect(dateGroup(new Date(2026, 9, 1), now).rank).toBeLessThan(dateGroup(new Date(2026, 8, 30), now).rank);
    expect(dateGroup(new Date(2026, 0, 5), now).rank).toBeLessThan(dateGroup(new Date(2025, 11, 5), now).rank);
  });

  it("builds pinned first, then one heading per group in order", () => {
    const rows = buildRows({
      now,
      pinned: [conversation("p1", new Date(2025, 3, 1), { pinned: true })],
      rest: [
        conversation("today", new Date(2026, 10, 21, 9)),
        // Last message long ago, but renamed today: filed by its last message.
        conversation("old-renamed", new Date(2026, 8, 2), { updated_at: now.toISOString() }),
        conversation("yesterday", new Date(2026, 10, 20, 9)),
        // No messages: filed by its last change.
        conversation("empty", null, { updated_at: new Date(2026, 10, 21, 8).toISOString() }),
        conversation("sept", new Date(2026, 8, 1)),
      ],
    });
    expect(rows.map((r) => (r.kind === "heading" ? `# ${r.label}` : r.conversation.id))).toEqual([
      "# Pinned",
      "p1",
      "# Today",
      "today",
      "empty",
      "# Yesterday",
      "yesterday",
      "# September 2026",
      "old-renamed",
      "sept",
    ]);
    expect(buildRows({ now, pinned: [], rest: [] })).toEqual([]);
  });
});
