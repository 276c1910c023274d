/**
 * The browser's side of next-auth's credentials flow, through the real /api/auth route handler:
 * fetch a CSRF token (and its cookie), then post the form the way next-auth's client does.
 */

type AuthRoute = { GET: AuthHandler; POST: AuthHandler };
type AuthHandler = (request: Request, context: { params: Promise<{ nextauth: string[] }> }) => Promise<Response>;

/** The `name=value` pairs a response sets, ready to send back as a Cookie header. */
export function cookiesSetBy(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => line.split(";")[0] ?? "");
}

async function send(route: AuthRoute, path: string[], init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  if (init.form) headers.set("content-type", "application/x-www-form-urlencoded");
  const request = new Request(`http://localhost/api/auth/${path.join("/")}`, {
    method: init.method ?? (init.form ? "POST" : "GET"),
    headers,
    body: init.form ? new URLSearchParams(init.form).toString() : undefined,
  });
  const handler = request.method === "POST" ? route.POST : route.GET;
  return handler(request, { params: Promise.resolve({ nextauth: path }) });
}

async function csrf(route: AuthRoute, headers: Record<string, string>): Promise<{ token: string; cookie: string }> {
  const response = await send(route, ["csrf"], { headers });
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  return { token: csrfToken, cookie: cookiesSetBy(response).join("; ") };
}

/**
 * Signs in as next-auth's client does (`json: true`). `cookie` is the session cookie when it
 * worked; `headers` can carry X-Forwarded-For, as the server's own request hook sets it.
 */
export async function signIn(route: AuthRoute, input: { email: string; password: string; headers?: Record<string, string> }) {
  const headers = input.headers ?? {};
  const token = await csrf(route, headers);
  const response = await send(route, ["callback", "credentials"], {
    headers: { ...headers, cookie: token.cookie },
    form: { csrfToken: token.token, email: input.email, password: input.password, json: "true", callbackUrl: "http://localhost/" },
  });
  const session = cookiesSetBy(response).find((c) => c.startsWith("next-auth.session-token="));
  return { response, cookie: session ?? null };
}

/** Signs out the browser holding `cookie`, as the Sign out button does. */
export async function signOut(route: AuthRoute, cookie: string): Promise<Response> {
  const token = await csrf(route, {});
  return send(route, ["signout"], { headers: { cookie: `${cookie}; ${token.cookie}` }, form: { csrfToken: token.token, json: "true" } });
}
