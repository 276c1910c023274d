export const errorText = (error: unknown) => (error instanceof Error ? error.message : error);

/**
 * Runs `attempt`, and after a failure waits the next delay and runs it again; when the delays run
 * out the last failure is thrown. For writes that must survive a blip (a reply, a stream-log batch).
 */
export async function withBackoff<T>(
  attempt: () => Promise<T>,
  delaysMs: readonly number[],
  onRetry?: (error: unknown, delayMs: number) => void,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const delay = delaysMs[i];
      if (delay === undefined) throw error;
      onRetry?.(error, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
