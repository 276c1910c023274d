import { describe, expect, it } from "vitest";
import { normalizeCommand } from "@/scripts/cli/argv";

describe("admin CLI command names", () => {
  it("reads noun:verb and two-word spellings, singular or plural, as one command", () => {
    const flags = ["--user", "a@example.test"];
    for (const spelling of [["user:disable"], ["users:disable"], ["user", "disable"], ["users", "disable"], ["Users", "Disable"]]) {
      expect(normalizeCommand([...spelling, ...flags]), spelling.join(" ")).toEqual({ command: "user:disable", args: flags });
    }
    for (const noun of ["key", "keys", "api-key", "api-keys"]) {
      expect(normalizeCommand([noun, "revoke", "--key", "k"])).toEqual({ command: "key:revoke", args: ["--key", "k"] });
    }
    expect(normalizeCommand(["docs", "reindex", "--all"])).toEqual({ command: "document:reindex", args: ["--all"] });
    expect(normalizeCommand(["budgets:set", "--user", "u"])).toEqual({ command: "budget:set", args: ["--user", "u"] });
  });

  it("leaves one-word commands and a noun followed by a flag alone", () => {
    expect(normalizeCommand(["prune", "--dry-run"])).toEqual({ command: "prune", args: ["--dry-run"] });
    expect(normalizeCommand(["users", "--json"])).toEqual({ command: "users", args: ["--json"] });
    expect(normalizeCommand([])).toEqual({ command: undefined, args: [] });
  });
});
