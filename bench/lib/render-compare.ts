import { cell, scenarioSection } from "./render";
import type { BenchResults, Figure } from "./report";

/**
 * The before/after part of docs/benchmarks.md's generated block: every headline figure of a
 * baseline results file (`bench/results/<date>-before.json`, written by `npm run bench -- --label
 * before` before a change lands) beside the same figure in the results shown above it, with its
 * calibration and the load average each was measured at. Scenarios that only the baseline has
 * are printed in full, so their tables are on the page until the "after" run replaces them.
 */

/** A scenario's figures; a scenario without any gives its goals instead. */
function figuresOf(record: BenchResults["scenarios"][string] | undefined): Figure[] {
  if (!record || record.status !== "ok") return [];
  const out = record.output;
  if (out.figures?.length) return out.figures;
  return out.goals.map((g) => ({
    name: g.name,
    value: g.measured,
    unit: g.unit,
    goal: `${g.comparison === "<=" ? "≤" : g.comparison === ">=" ? "≥" : "≈"} ${g.goal}${g.unit ? ` ${g.unit}` : ""}`,
    calibration: g.calibration ?? null,
  }));
}

const valueText = (f: Figure | undefined) => (f ? (f.value === null ? "–" : `${cell(f.value)}${f.unit ? ` ${f.unit}` : ""}`) : "–");
const calibrationText = (f: Figure | undefined) => (f?.calibration === undefined || f.calibration === null ? "–" : cell(f.calibration));

export function renderComparison(baseline: BenchResults, baselinePath: string, current: BenchResults, currentPath: string): string {
  const ids = Object.keys(baseline.scenarios);
  const measuredAfter = ids.filter((id) => current.scenarios[id]?.status === "ok" && current.date >= baseline.date && current !== baseline);
  const parts = [
    "## Before and after",
    "",
    `Before: \`${baseline.command}\` on ${baseline.date} ([\`${baselinePath}\`](${baselinePath})), machine probes at the start: load average ${cell(baseline.calibration.before.load_average_1m)}, SHA-256 of 32 MiB ${cell(baseline.calibration.before.cpu_sha256_32mib_ms)} ms.`,
    measuredAfter.length
      ? `After: the run above ([\`${currentPath}\`](${currentPath})), load average ${cell(current.calibration.before.load_average_1m)}, SHA-256 of 32 MiB ${cell(current.calibration.before.cpu_sha256_32mib_ms)} ms.`
      : "After: not measured yet — `npm run bench` after the changes fills this column.",
    "Every figure is the median over the scenario's rounds; \"load\" is the 1-minute load average while it was measured. Compare by the calibration beside each figure as much as by the figure.",
  ];
  for (const id of ids) {
    const before = figuresOf(baseline.scenarios[id]);
    const after = measuredAfter.includes(id) ? figuresOf(current.scenarios[id]) : [];
    const names = [...new Set([...before.map((f) => f.name), ...after.map((f) => f.name)])];
    if (names.length === 0) continue;
    parts.push("", `**\`${id}\`**`, "", "| figure | before | after | goal | calibration before | calibration after | load before | load after |", "|---|---|---|---|---|---|---|---|");
    for (const name of names) {
      const b = before.find((f) => f.name === name);
      const a = after.find((f) => f.name === name);
      const goalText = a?.goal ?? b?.goal ?? "";
      const note = a?.note ?? b?.note;
      parts.push(
        `| ${cell(name)}${note ? ` (${cell(note)})` : ""} | ${valueText(b)} | ${valueText(a)} | ${cell(goalText) || "–"} | ${calibrationText(b)} | ${calibrationText(a)} | ${cell(b?.load)} | ${cell(a?.load)} |`,
      );
    }
  }
  const onlyBefore = ids.filter((id) => !current.scenarios[id] || current === baseline);
  if (onlyBefore.length) {
    parts.push("", "### The before run's scenarios, in full");
    for (const id of onlyBefore) parts.push("", scenarioSection(id, baseline.scenarios[id]!, ` (before, ${baseline.date})`));
  }
  return parts.join("\n");
}
