/** The browser's calls to the public API (`/api/v1`): one place for JSON in, JSON out and problems. */

export type Problem = {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: Array<{ path: string; message: string }>;
};

/** A call the API answered with a problem (status > 0), or one that never reached it (status 0). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem: Problem | null = null,
  ) {
    super(message);
  }
}

/** What a person reads for a problem: its detail (or title) and each field that failed validation. */
export function problemMessage(problem: Problem | null, fallback: string): string {
  const fields = (problem?.errors ?? []).map((e) => `${e.path}: ${e.message}`);
  return [problem?.detail || problem?.title || "", ...fields].filter(Boolean).join(" ") || fallback;
}

export async function readProblem(response: Response, fallback: string): Promise<ApiError> {
  const problem = (await response.json().catch(() => null)) as Problem | null;
  return new ApiError(problemMessage(problem, fallback), response.status, problem);
}

type CallOptions = {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  /** Lets the request outlive the page (a delete sent on unload). */
  keepalive?: boolean;
  /** Statuses that count as done although not 2xx (a DELETE of what is already gone: 404). */
  accept?: number[];
  /** The message when the answer carries no problem to show. */
  fallback: string;
};

/**
 * `path` is under /api/v1. A 2xx answer's JSON is returned (undefined for 204 or an accepted
 * status); any other answer throws ApiError with the problem's text; a network failure throws
 * ApiError with status 0.
 */
export async function apiCall<T = void>(path: string, options: CallOptions): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: options.method ?? "GET",
      cache: "no-store",
      signal: options.signal,
      keepalive: options.keepalive,
      ...(options.body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(options.body) }),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(options.fallback, 0);
  }
  if (response.ok && response.status !== 204) return (await response.json()) as T;
  if (response.ok || options.accept?.includes(response.status)) return undefined as T;
  throw await readProblem(response, options.fallback);
}
