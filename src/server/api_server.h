// The DeepSeek/OpenAI-compatible API over HTTP: routes, API keys, rate
// limits, CORS, metrics and logs around the generation of chat and
// completion answers. Everything model-facing goes through the Scheduler
// (one engine thread, continuous batching); this class only turns requests
// into GenerationRequests and events back into API responses, streamed
// (server-sent events) or whole.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/prefix_cache.h"
#include "engine/scheduler.h"
#include "server/api_request.h"
#include "server/auth.h"
#include "server/http/http_server.h"
#include "server/metrics.h"
#include "server/prompt_builder.h"
#include "server/rate_limiter.h"
#include "server/text_model.h"
#include "server/token_constraint.h"

namespace dseek::server {

struct ApiServerOptions {
  HttpServerOptions http;
  RequestLimits limits;
  std::string model_id = "dseek";  // the name /v1/models lists; deepseek-chat and deepseek-reasoner are aliases
  bool log_content = false;        // prompts and answers in the log (off: never)
  bool log_requests = true;        // one line per request (no content)
  std::vector<std::string> cors_origins;  // empty: no CORS; "*": any origin
  int64_t requests_per_minute = 0;        // per API key (or client address without keys); 0: no limit
  int64_t tokens_per_minute = 0;
  std::chrono::milliseconds keepalive_interval{10'000};  // SSE comment while a streamed request waits
};

class ApiServer {
 public:
  // The scheduler, text model and prefix cache (may be null) must outlive the server.
  ApiServer(Scheduler& scheduler, const TextModel& text, ApiKeys keys, ApiServerOptions options,
            const PrefixCache* prefix_cache);
  ~ApiServer();

  Status start();
  int port() const { return http_ ? http_->port() : 0; }
  void stop();

 private:
  struct Caller {
    std::string label;      // for logs: "key 2" or the client address (never the key)
    std::string rate_key;   // rate-limit bucket
    std::string cache_ns;   // prefix-cache namespace
  };
  struct Outcome;  // what a handler did, for the log line and metrics
  struct Generation;

  void handle(const HttpRequest& request, ResponseWriter& writer);
  int route(const HttpRequest& request, ResponseWriter& writer, Outcome& outcome, const HttpHeaders& cors);
  int chat(const HttpRequest& request, ResponseWriter& writer, const Caller& caller, Outcome& outcome,
           const HttpHeaders& cors);
  int completion(const HttpRequest& request, ResponseWriter& writer, const Caller& caller, Outcome& outcome,
                 const HttpHeaders& cors);
  int run(Generation& g, ResponseWriter& writer, const Caller& caller, Outcome& outcome, const HttpHeaders& cors);
  int send_error(ResponseWriter& writer, const ApiError& error, const HttpHeaders& cors, HttpHeaders extra = {});
  std::optional<ApiError> check_model(const std::string& name) const;
  int64_t fit_max_tokens(const SamplingFields& request, size_t prompt_tokens) const;
  // The parts of a generation that chat and completions fill the same way.
  void fill_common(Generation& g, const SamplingFields& request, std::vector<int32_t> prompt_tokens,
                   const Caller& caller) const;
  HttpHeaders cors_headers(const HttpRequest& request) const;
  bool host_allowed(const HttpRequest& request) const;

  Scheduler& scheduler_;
  const TextModel& text_;
  ApiKeys keys_;
  ApiServerOptions options_;
  const PrefixCache* prefix_cache_;
  ModelTraits traits_;
  std::shared_ptr<const VocabIndex> vocab_;
  ToolCallFormat tool_format_;
  RateLimiter limiter_;
  Metrics metrics_;
  std::mutex log_mutex_;
  std::unique_ptr<HttpServer> http_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace dseek::server
