import { MockLlmServer } from "./server";

/** `npm run mock-llm` (or the e2e set-up): serves the mock on MOCK_LLM_PORT (default 4010). */
async function main() {
  const port = Number(process.env.MOCK_LLM_PORT ?? 4010);
  const server = new MockLlmServer();
  if (process.env.MOCK_LLM_CHUNK_DELAY_MS) server.settings.chunkDelayMs = Number(process.env.MOCK_LLM_CHUNK_DELAY_MS);
  const defaults = { ...server.settings };
  const url = await server.listen(port);
  // /__mock/reset should return to the configured pacing, not the library default.
  const reset = server.reset.bind(server);
  server.reset = () => {
    reset();
    server.settings = { ...defaults };
  };
  console.log(`mock LLM listening on ${url} (OpenAI: ${url}/v1, Groq: ${url}/groq/openai/v1)`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void server.close().then(() => process.exit(0)));
  }
}

void main();
