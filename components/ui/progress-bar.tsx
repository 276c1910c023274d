type Tone = "neutral" | "success" | "danger";

const tones: Record<Tone, string> = {
  neutral: "bg-blue-600 dark:bg-blue-400",
  success: "bg-emerald-600 dark:bg-emerald-400",
  danger: "bg-red-600 dark:bg-red-400",
};

/** A determinate progress bar: value is 0–100, valueText is what a screen reader says instead. */
export function ProgressBar({ label, value, valueText, tone = "neutral", className = "" }: { label: string; value: number; valueText?: string; tone?: Tone; className?: string }) {
  const clamped = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={clamped}
      aria-valuetext={valueText}
      className={`h-1.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-700 ${className}`}
    >
      <div className={`h-full rounded-full transition-[width] duration-300 motion-reduce:transition-none ${tones[tone]}`} style={{ width: `${clamped}%` }} />
    </div>
  );
}
