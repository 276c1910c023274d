"use client";

import { useRef, useState, type DragEvent, type ReactNode } from "react";

const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes("Files");

/** Accepts files dropped anywhere on its area, with an overlay while a drag is over it. */
export function FileDropZone({ onFiles, children, className = "" }: { onFiles: (files: File[]) => void; children: ReactNode; className?: string }) {
  const [dragging, setDragging] = useState(false);
  // dragenter/dragleave fire for every child crossed: count them to know when the drag really left.
  const depth = useRef(0);

  return (
    <div
      className={`relative ${className}`}
      onDragEnter={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        depth.current += 1;
        setDragging(true);
      }}
      onDragOver={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={(event) => {
        if (!carriesFiles(event)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setDragging(false);
      }}
      onDrop={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        depth.current = 0;
        setDragging(false);
        onFiles(Array.from(event.dataTransfer.files));
      }}
    >
      {children}
      {dragging ? (
        <div
          data-testid="drop-overlay"
          className="pointer-events-none absolute inset-2 z-40 flex items-center justify-center rounded-2xl border-2 border-dashed border-blue-500 bg-blue-50/90 dark:bg-blue-950/80"
        >
          <p className="px-6 text-center text-sm font-medium text-blue-900 dark:text-blue-100">Drop PDF, TXT or Markdown files to attach them to this chat</p>
        </div>
      ) : null}
    </div>
  );
}
