"use client";

import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { Button } from "@/components/ui/button";
import { announceConversationsChanged } from "./events";
import { isOfflineModel, MessageItem } from "./message-item";
import type { ChatMessage } from "./types";

type Props = {
  conversationId: string | null;
  initialMessages: ChatMessage[];
  model: string;
  title: string;
};

async function createConversation(): Promise<string> {
  const response = await fetch("/api/v1/conversations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const body = (await response.json()) as { conversation?: { id: string }; detail?: string };
  if (!response.ok || !body.conversation) throw new Error(body.detail ?? "Could not start a conversation.");
  return body.conversation.id;
}

export function Chat({ conversationId, initialMessages, model, title }: Props) {
  const [input, setInput] = useState("");
  const [startError, setStartError] = useState<string | null>(null);
  const listEnd = useRef<HTMLDivElement>(null);

  // The conversation id lives in this closure: the transport reads it when a message is sent.
  const [target] = useState(() => {
    let id = conversationId;
    const transport = new DefaultChatTransport<ChatMessage>({
      api: "/api/v1/conversations",
      // The browser uses the public API: one message per request, history lives on the server.
      prepareSendMessagesRequest: ({ messages }) => {
        const last = messages.at(-1);
        const content = last?.parts.map((p) => (p.type === "text" ? p.text : "")).join("") ?? "";
        return { api: `/api/v1/conversations/${id}/messages`, body: { content, stream: true } };
      },
    });
    return { transport, getId: () => id, setId: (value: string) => void (id = value) };
  });

  const { messages, sendMessage, status, stop, error, clearError } = useChat<ChatMessage>({
    id: conversationId ?? undefined,
    messages: initialMessages,
    transport: target.transport,
    onFinish: () => announceConversationsChanged(),
    onError: () => announceConversationsChanged(),
  });

  const busy = status === "submitted" || status === "streaming";

  useEffect(() => {
    listEnd.current?.scrollIntoView({ block: "end" });
  }, [messages]);

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    const text = input.trim();
    if (!text || busy) return;
    setStartError(null);
    clearError();
    try {
      if (!target.getId()) {
        const id = await createConversation();
        target.setId(id);
        window.history.replaceState(null, "", `/c/${id}`);
        announceConversationsChanged();
      }
    } catch (e) {
      setStartError(e instanceof Error ? e.message : "Could not start a conversation.");
      return;
    }
    setInput("");
    await sendMessage({ text });
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  }

  return (
    <div className="flex h-full flex-col">
      <header className="flex items-center gap-3 border-b border-zinc-200 py-3 pr-4 pl-20 md:pl-4 dark:border-zinc-800">
        <h1 className="truncate text-base font-medium">{title}</h1>
        <span className="ml-auto shrink-0 rounded-full border border-zinc-300 px-2 py-0.5 text-xs text-zinc-600 dark:border-zinc-700 dark:text-zinc-400" data-testid="model-label">
          {isOfflineModel(model) ? `Offline model (not an AI) · ${model}` : model}
        </span>
      </header>
      <div className="flex-1 overflow-y-auto px-4 py-6">
        {messages.length === 0 ? (
          <p className="mx-auto mt-16 max-w-md text-center text-zinc-500">Ask anything to start a conversation.</p>
        ) : null}
        <ol role="log" aria-live="polite" aria-label="Messages" className="mx-auto flex max-w-3xl flex-col gap-4">
          {messages.map((message) => (
            <MessageItem key={message.id} message={message} />
          ))}
        </ol>
        {error || startError ? (
          <p role="alert" className="mx-auto mt-4 max-w-3xl rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
            {startError ?? error?.message ?? "Something went wrong."} Your message was saved; try again in a moment.
          </p>
        ) : null}
        <div ref={listEnd} />
      </div>
      <form onSubmit={submit} className="border-t border-zinc-200 p-3 dark:border-zinc-800">
        <div className="mx-auto flex max-w-3xl items-end gap-2">
          <label htmlFor="chat-input" className="sr-only">
            Message
          </label>
          <textarea
            id="chat-input"
            value={input}
            onChange={(e) => setInput(e.target.value)}
            onKeyDown={onKeyDown}
            rows={1}
            maxLength={32_000}
            placeholder="Send a message"
            className="max-h-48 min-h-10 flex-1 resize-none rounded-xl border border-zinc-300 bg-white px-3 py-2 text-sm outline-none focus:border-blue-500 focus:ring-2 focus:ring-blue-500/30 dark:border-zinc-700 dark:bg-zinc-900"
          />
          {busy ? (
            <Button type="button" variant="secondary" onClick={() => void stop()}>
              Stop
            </Button>
          ) : (
            <Button type="submit" disabled={!input.trim()}>
              Send
            </Button>
          )}
        </div>
      </form>
    </div>
  );
}
