/** Every series issue 8 names, with its Prometheus type: the unit of "the endpoint serves them all". */
export const ISSUE_SERIES = [
  ["botgpt_http_request_duration_seconds", "histogram"],
  ["botgpt_model_ttft_seconds", "histogram"],
  ["botgpt_model_call_duration_seconds", "histogram"],
  ["botgpt_model_tokens_total", "counter"],
  ["botgpt_model_cost_usd_total", "counter"],
  ["botgpt_model_retries_total", "counter"],
  ["botgpt_model_fallbacks_total", "counter"],
  ["botgpt_circuit_breaker_state", "gauge"],
  ["botgpt_circuit_breaker_transitions_total", "counter"],
  ["botgpt_response_cache_hits_total", "counter"],
  ["botgpt_response_cache_misses_total", "counter"],
  ["botgpt_retrieval_duration_seconds", "histogram"],
  ["botgpt_ingestion_duration_seconds", "histogram"],
  ["botgpt_ingestion_queue_depth", "gauge"],
  ["botgpt_active_streams", "gauge"],
  ["botgpt_rate_limit_rejections_total", "counter"],
] as const;
