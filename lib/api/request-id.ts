const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The caller's X-Request-Id when it is sane (no log injection, bounded), else a fresh one. */
export function requestIdFrom(incoming: string | null | undefined): string {
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}
