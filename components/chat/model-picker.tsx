"use client";

import { useEffect, useId, useState } from "react";
import { isOfflineModel } from "./message-item";

type ModelOption = { id: string; provider: string; context_window: number };

/** How a model is named in the picker; the built-in offline model always says what it is. */
function modelLabel(id: string): string {
  return isOfflineModel(id) ? `Offline model (not an AI) · ${id}` : id;
}

/**
 * The conversation's model, from the models this server can use now (`GET /api/v1/models`).
 * Until the list arrives (or if it cannot be loaded) it shows the current model alone.
 */
export function ModelPicker({ value, onChange, disabled }: { value: string; onChange: (model: string) => void; disabled?: boolean }) {
  const id = useId();
  const [models, setModels] = useState<ModelOption[] | null>(null);

  useEffect(() => {
    let live = true;
    fetch("/api/v1/models", { cache: "no-store" })
      .then((response) => (response.ok ? (response.json() as Promise<{ data: ModelOption[] }>) : null))
      .then((list) => {
        if (live && list) setModels(list.data);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const options = models?.some((m) => m.id === value) ? models : [{ id: value, provider: "", context_window: 0 }, ...(models ?? [])];
  return (
    <span className="inline-flex shrink-0 items-center">
      <label htmlFor={id} className="sr-only">
        Model
      </label>
      <select
        id={id}
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value)}
        data-testid="model-picker"
        className={`max-w-[16rem] truncate rounded-full border py-0.5 pr-6 pl-2 text-xs focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 disabled:opacity-60 ${isOfflineModel(value) ? "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" : "border-zinc-300 bg-white text-zinc-700 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300"}`}
      >
        {options.map((model) => (
          <option key={model.id} value={model.id}>
            {modelLabel(model.id)}
          </option>
        ))}
      </select>
    </span>
  );
}
