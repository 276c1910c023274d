"use client";

import { Chat as ChatSession, useChat } from "@ai-sdk/react";
import { DefaultChatTransport, type ChatInit } from "ai";
import { useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { createConversation, updateConversation } from "@/components/documents/api";
import { DocumentsPanel } from "@/components/documents/documents-panel";
import { FileDropZone } from "@/components/documents/file-drop-zone";
import { isIndexing, type ConversationMode, type DocumentResource } from "@/components/documents/types";
import { useConversationDocuments } from "@/components/documents/use-conversation-documents";
import { fetchConversation, refusalOf } from "./api";
import { Composer } from "./composer";
import { ContextGauge, ConversationTotals, SummaryMarker } from "./conversation-meters";
import { announceConversationsChanged } from "./events";
import { MessageActionsProvider, type MessageActionsValue } from "./message-actions";
import { MessageItem } from "./message-item";
import { MessageList } from "./message-list";
import { ModelPicker } from "./model-picker";
import { EmptyThread, RefusalText } from "./thread-notes";
import { useOlderMessages } from "./use-older-messages";
import { latestContext, summaryMarkerIndex, textOf, usageOf, withStoredMetadata, type ChatMessage, type ConversationUsage } from "./types";

type Props = {
  conversationId: string | null;
  initialMessages: ChatMessage[];
  model: string;
  title: string;
  mode?: ConversationMode;
  documents?: DocumentResource[];
  usage?: ConversationUsage | null;
  /** The server's limit on a message's length. */
  maxMessageChars: number;
  /** Where the messages before `initialMessages` continue (the page opened on the newest ones). */
  olderCursor?: string | null;
};

const DOCUMENTS_PANEL_ID = "documents-panel";
/** A streaming reply redraws at most this often (20 per second), however fast tokens arrive. */
const STREAM_RENDER_MS = 50;
/** The rolling summary is written in the background just after a reply; look again this much later. */
const SUMMARY_RECHECK_MS = 1_500;

export function Chat({ conversationId, initialMessages, model: initialModel, title, mode: initialMode = "open", documents: initialDocuments = [], usage: initialUsage = null, olderCursor: initialOlderCursor = null, maxMessageChars }: Props) {
  const [input, setInput] = useState("");
  const [startError, setStartError] = useState<string | null>(null);
  const [panelOpen, setPanelOpen] = useState(() => initialDocuments.some((d) => isIndexing(d) || d.status === "failed"));
  const [usage, setUsage] = useState(initialUsage);
  // Bumped on every send: the thread scrolls to the newest message.
  const [followKey, setFollowKey] = useState(0);
  // What a screen reader hears when a reply is done (the list itself is not live: tokens would drown it).
  const [finishedNote, setFinishedNote] = useState("");
  // The text of the last send, put back in the composer if the server refuses it.
  const lastSent = useRef("");
  const recheckTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const [model, setModel] = useState(initialModel);
  // The title as the server has it: named from the first message after the first turn, or renamed
  // in the sidebar (which refreshes the page, so a new prop wins over what was fetched before).
  const [shownTitle, setShownTitle] = useState({ prop: title, shown: title });
  if (shownTitle.prop !== title) setShownTitle({ prop: title, shown: title });
  // The model a conversation created by the first send starts with.
  const chosenModel = useRef(initialModel);

  // The conversation id lives in this closure: the transport reads it when a message is sent, and
  // a first upload and a first message racing each other create one conversation, not two.
  const [target] = useState(() => {
    let id = conversationId;
    let creating: Promise<string> | null = null;
    // The reply a reconnect follows (a reply still being written when the page opened, or one
    // whose stream broke off): the server keeps generating it whether or not anyone reads.
    let replyId: string | null = null;
    const transport = new DefaultChatTransport<ChatMessage>({
      api: "/api/v1/conversations",
      // The browser uses the public API: one message per request, history lives on the server.
      // Regenerate (the Chat's regenerate) and edit (sendMessage with the edited message's id) go
      // to their own endpoints and stream the new reply the same way.
      prepareSendMessagesRequest: ({ messages, trigger, messageId }) => {
        const last = messages.at(-1);
        const content = last ? textOf(last) : "";
        const base = `/api/v1/conversations/${id}/messages`;
        if (trigger === "regenerate-message" && messageId) return { api: `${base}/${messageId}/regenerate`, body: { stream: true } };
        if (trigger === "submit-message" && messageId) return { api: `${base}/${messageId}/edit`, body: { content, stream: true } };
        return { api: base, body: { content, stream: true } };
      },
      prepareReconnectToStreamRequest: () => ({ api: `/api/v1/conversations/${id}/messages/${replyId}/stream` }),
    });
    const ensure = (mode: ConversationMode): Promise<string> => {
      if (id) return Promise.resolve(id);
      creating ??= createConversation({ ...(mode === "grounded" ? { mode } : {}), model: chosenModel.current })
        .then((conversation) => {
          id = conversation.id;
          window.history.replaceState(null, "", `/c/${conversation.id}`);
          announceConversationsChanged();
          return conversation.id;
        })
        .finally(() => {
          creating = null;
        });
      return creating;
    };
    return { transport, getId: () => id, ensure, follow: (reply: string) => (replyId = reply) };
  });

  // A reply the server was still writing when the page opened: its stream is replayed from the
  // start (replacing the partial text the page was rendered with) and followed live to its end.
  const [streamingAtLoad] = useState(() => {
    const last = initialMessages.at(-1);
    return last?.role === "assistant" && last.metadata?.status === "streaming" ? last.id : null;
  });

  const docs = useConversationDocuments({
    initialDocuments,
    initialMode,
    ensureConversation: target.ensure,
    getConversationId: target.getId,
  });

  // The Chat is built here rather than by useChat so it keeps the transport itself: a resumed
  // stream is a replay from the reply's start, and the transport tells the Chat so (it then
  // starts the message afresh instead of appending to what was shown).
  const handlers = useRef<ChatHandlers>({});
  const [chat] = useState(
    // The forwarded callbacks read the ref on stream events, never during render.
    // eslint-disable-next-line react-hooks/refs
    () =>
      new ChatSession<ChatMessage>({
        id: conversationId ?? undefined,
        messages: initialMessages,
        transport: target.transport,
        ...forwardTo(handlers),
      }),
  );
  const { messages, setMessages, sendMessage, regenerate, resumeStream, status, stop, error, clearError } = useChat<ChatMessage>({ chat, experimental_throttle: STREAM_RENDER_MS });
  const older = useOlderMessages({ initialCursor: initialOlderCursor, getConversationId: target.getId, setMessages });

  // Problems the server reported inside the stream (as opposed to a connection that broke).
  const serverProblem = useRef(false);
  // Stop was pressed before the reply had an id.
  const stopWanted = useRef(false);
  // The request in flight regenerates or edits (a refusal then restores the thread, not the composer).
  const rewinding = useRef(false);
  const [actionError, setActionError] = useState<string | null>(null);
  // The newest message, for handlers that run outside render (stop, reconnect).
  const latest = useRef<ChatMessage | undefined>(undefined);
  const reconnects = useRef(new Map<string, number>());
  useEffect(() => () => clearTimeout(recheckTimer.current), []);

  useEffect(() => {
    latest.current = messages.at(-1);
  });

  const resumed = useRef(false);
  useEffect(() => {
    if (!streamingAtLoad || resumed.current) return;
    resumed.current = true;
    target.follow(streamingAtLoad);
    void resumeStream();
  }, [streamingAtLoad, target, resumeStream]);

  // The connection broke (the server reported no problem): the server kept writing the reply, so
  // reconnect to it — a few times, backing off — and let the replay redraw it whole.
  function reconnect() {
    const reply = latest.current;
    if (serverProblem.current || reply?.role !== "assistant") return;
    const attempt = (reconnects.current.get(reply.id) ?? 0) + 1;
    if (attempt > 3) return;
    reconnects.current.set(reply.id, attempt);
    target.follow(reply.id);
    setTimeout(() => void resumeStream(), 500 * attempt);
  }

  // Stop asks the server to stop the reply (closing the connection would not: replies outlive
  // their readers). Pressed before the reply has an id, it is sent as soon as the reply starts.
  async function stopReply() {
    const id = target.getId();
    const reply = latest.current;
    if (!id || reply?.role !== "assistant") {
      stopWanted.current = true;
      return;
    }
    stopWanted.current = false;
    const response = await fetch(`/api/v1/conversations/${id}/messages/${reply.id}/stop`, { method: "POST" }).catch(() => null);
    // The server could not be asked: at least stop reading.
    if (!response?.ok) void stop();
  }
  const replyId = messages.at(-1)?.role === "assistant" ? messages.at(-1)?.id : undefined;
  useEffect(() => {
    if (replyId && stopWanted.current) void stopReply();
  });

  /** Totals, summary and the stored rows' usage and context, after a turn. */
  async function refreshConversation() {
    const id = target.getId();
    if (!id) return;
    const stored = await fetchConversation(id).catch(() => null);
    if (!stored) return;
    setUsage(usageOf(stored.conversation));
    setShownTitle((current) => ({ ...current, shown: stored.conversation.title }));
    setMessages((shown) => withStoredMetadata(shown, stored.messages));
  }
  /** A regenerate or edit was refused and nothing changed on the server: show its thread again, with why. */
  function restoreAfterRefusal(reason: string) {
    clearError();
    setActionError(reason);
    const id = target.getId();
    if (!id) return;
    // The thread as the server has it: its newest page, with the older ones reachable again.
    void older.reloadNewest();
  }

  useEffect(() => {
    handlers.current = {
      onData: (part) => {
        if (part.type === "data-problem") serverProblem.current = true;
      },
      onFinish: ({ message, isError }) => {
        stopWanted.current = false;
        if (!isError && message.role === "assistant") setFinishedNote(`Reply: ${textOf(message).slice(0, 500)}`);
        announceConversationsChanged();
        void refreshConversation();
        clearTimeout(recheckTimer.current);
        if (!isError) recheckTimer.current = setTimeout(() => void refreshConversation(), SUMMARY_RECHECK_MS);
      },
      onError: (e) => {
        announceConversationsChanged();
        const refused = refusalOf(e);
        if (!refused) {
          reconnect();
          return;
        }
        if (rewinding.current) {
          restoreAfterRefusal(refused.detail ?? refused.title ?? "The request was refused.");
          return;
        }
        // Refused before anything was saved: the message leaves the thread and goes back to the composer.
        const draft = lastSent.current;
        setMessages((shown) => (shown.at(-1)?.role === "user" ? shown.slice(0, -1) : shown));
        setInput((current) => (current.trim() ? current : draft));
      },
    };
  });


  const busy = status === "submitted" || status === "streaming";
  const grounded = docs.mode === "grounded";
  const indexing = docs.documents.some(isIndexing) || docs.uploads.some((u) => u.error === null);
  const attachedCount = docs.documents.length;
  const context = latestContext(messages);
  const markerAfter = summaryMarkerIndex(messages, usage?.summary_through_seq ?? null);
  const refusal = refusalOf(error);

  // Changes as the thread grows (a new message, a streamed token); refreshed metadata alone does not.
  const last = messages.at(-1);
  const growKey = `${messages.length}:${last?.parts.reduce((n, p) => n + (p.type === "text" ? p.text.length : 1), 0) ?? 0}`;

  async function submit() {
    const text = input.trim();
    if (!text || busy) return;
    setStartError(null);
    clearError();
    try {
      await target.ensure(docs.mode);
    } catch (e) {
      setStartError(e instanceof Error ? e.message : "Could not start a conversation.");
      return;
    }
    lastSent.current = text;
    setInput("");
    setFollowKey((k) => k + 1);
    serverProblem.current = false;
    stopWanted.current = false;
    rewinding.current = false;
    setActionError(null);
    await sendMessage({ text });
  }

  /** Asks the question behind a reply that failed, stopped or was interrupted again, as a new turn. */
  async function retry(replyIndex: number) {
    const asked = messages.slice(0, replyIndex).findLast((m) => m.role === "user");
    const question = asked ? textOf(asked) : "";
    if (!question || busy) return;
    clearError();
    serverProblem.current = false;
    stopWanted.current = false;
    lastSent.current = question;
    setFollowKey((k) => k + 1);
    rewinding.current = false;
    await sendMessage({ text: question });
  }

  /** Later replies come from `next`; an existing conversation is updated on the server first. */
  async function chooseModel(next: string) {
    const previous = model;
    setModel(next);
    chosenModel.current = next;
    const id = target.getId();
    if (!id) return;
    try {
      await updateConversation(id, { model: next });
      setStartError(null);
    } catch (e) {
      setModel(previous);
      chosenModel.current = previous;
      setStartError(e instanceof Error ? e.message : "Could not change the model.");
    }
  }

  /** Replaces the last reply with a new one (POST …/regenerate), streamed in its place. */
  async function regenerateReply(messageId: string) {
    if (busy) return;
    beginRewind();
    await regenerate({ messageId });
  }

  /** Changes a user message and reruns from it (POST …/edit): later messages leave the thread. */
  async function editMessage(messageId: string, text: string) {
    if (busy || !text.trim()) return;
    beginRewind();
    await sendMessage({ text, messageId });
  }

  function beginRewind() {
    clearError();
    setActionError(null);
    serverProblem.current = false;
    stopWanted.current = false;
    rewinding.current = true;
    setFollowKey((k) => k + 1);
  }

  const rewindActions = useRef({ regenerate: regenerateReply, edit: editMessage });
  useEffect(() => {
    rewindActions.current = { regenerate: regenerateReply, edit: editMessage };
  });
  // Made once (the calls read the ref when clicked), so the context changes only with the thread.
  const [stableActions] = useState(() => ({
    regenerate: (messageId: string) => void rewindActions.current.regenerate(messageId),
    edit: (messageId: string, text: string) => void rewindActions.current.edit(messageId, text),
  }));
  const idsKey = messages.map((m) => m.id).join(" ");
  const messageActions = useMemo<MessageActionsValue>(
    () => ({ getConversationId: target.getId, ids: idsKey ? idsKey.split(" ") : [], busy, ...stableActions }),
    [idsKey, busy, stableActions, target],
  );

  function addFiles(files: File[]) {
    if (files.length === 0) return;
    setPanelOpen(true);
    docs.addFiles(files);
  }

  return (
    <FileDropZone onFiles={addFiles} className="flex h-full min-h-0 flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-200 py-3 pr-4 pl-20 md:pl-4 dark:border-zinc-800">
        <h1 className="min-w-0 flex-1 truncate text-base font-medium">{shownTitle.shown}</h1>
        <button
          type="button"
          aria-expanded={panelOpen}
          aria-controls={DOCUMENTS_PANEL_ID}
          onClick={() => setPanelOpen((v) => !v)}
          className={`inline-flex shrink-0 items-center gap-1.5 rounded-full border px-2.5 py-0.5 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 ${grounded ? "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100" : "border-zinc-300 text-zinc-700 hover:bg-zinc-100 dark:border-zinc-700 dark:text-zinc-300 dark:hover:bg-zinc-800"}`}
        >
          Documents
          {attachedCount > 0 ? <span className="rounded-full bg-zinc-900/10 px-1.5 dark:bg-white/15">{attachedCount}</span> : null}
          <span data-testid="mode-label" className="text-[0.7rem] font-normal opacity-80">
            · {grounded ? "grounded" : "open"}
          </span>
          {indexing ? <span aria-hidden="true" className="size-1.5 animate-pulse rounded-full bg-blue-500" /> : null}
        </button>
        <ModelPicker value={model} onChange={(next) => void chooseModel(next)} disabled={busy} />
        {usage && messages.length > 0 ? <ConversationTotals usage={usage} /> : null}
        {context ? <ContextGauge context={context} /> : null}
      </header>
      <DocumentsPanel id={DOCUMENTS_PANEL_ID} open={panelOpen} controller={docs} />
      <p aria-live="polite" className="sr-only">
        {docs.announcement}
      </p>
      <p aria-live="polite" className="sr-only">
        {finishedNote}
      </p>
      <MessageActionsProvider value={messageActions}>
        <MessageList
          messages={messages}
          growKey={growKey}
          followKey={followKey}
          hasOlder={older.hasOlder}
          loadingOlder={older.loading}
          onLoadOlder={() => void older.loadOlder()}
          renderMessage={(message, index) => (
            <>
              <MessageItem message={message} onRetry={!busy && index === messages.length - 1 ? () => void retry(index) : undefined} />
              {index === markerAfter && usage?.summary_through_seq ? <SummaryMarker throughSeq={usage.summary_through_seq} summary={usage.summary} /> : null}
            </>
          )}
          empty={<EmptyThread grounded={grounded} onPick={(text) => setInput(text)} />}
          footer={
            actionError || error || startError || older.failed ? (
              <p role="alert" className="mx-auto mb-4 max-w-3xl rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
                {actionError ? (
                  actionError
                ) : older.failed && !error && !startError ? (
                  <>
                    Could not load earlier messages.{" "}
                    <button type="button" className="font-medium underline" onClick={() => void older.loadOlder()}>
                      Try again
                    </button>
                  </>
                ) : startError ? (
                  startError
                ) : refusal ? (
                  <RefusalText problem={refusal} />
                ) : (
                  `${error?.message ?? "Something went wrong."} Your message was saved; try again in a moment.`
                )}
              </p>
            ) : null
          }
        />
      </MessageActionsProvider>
      <Composer
        value={input}
        onChange={setInput}
        onSubmit={() => void submit()}
        onStop={() => void stopReply()}
        onFiles={addFiles}
        busy={busy}
        maxChars={maxMessageChars}
        placeholder={grounded ? "Ask about your documents" : "Send a message"}
        note={grounded && indexing ? "A document is still being indexed; answers wait until it is ready." : undefined}
      />
    </FileDropZone>
  );
}

type ChatHandlers = Pick<ChatInit<ChatMessage>, "onData" | "onFinish" | "onError">;

/** Callbacks for a Chat made once that always call the component's latest handlers. */
function forwardTo(handlers: RefObject<ChatHandlers>): ChatHandlers {
  return {
    onData: (part) => handlers.current.onData?.(part),
    onFinish: (event) => handlers.current.onFinish?.(event),
    onError: (e) => handlers.current.onError?.(e),
  };
}
