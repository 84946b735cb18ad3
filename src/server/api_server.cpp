#include "server/api_server.h"

#include <cstdio>
#include <random>

#include "server/output_assembler.h"
#include "server/tool_calls.h"

namespace dseek::server {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

uint64_t random_u64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

std::string random_id(const char* prefix) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%016llx%08llx", prefix, static_cast<unsigned long long>(random_u64()),
                static_cast<unsigned long long>(random_u64() & 0xffffffffull));
  return buf;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json logprob_json(const TokenLogprob& t) {
  json j = {{"token", t.token}, {"logprob", t.logprob}, {"bytes", t.bytes}};
  return j;
}

json chat_logprobs(const std::vector<TokenLogprob>& tokens) {
  json content = json::array();
  for (const TokenLogprob& t : tokens) {
    json j = logprob_json(t);
    json top = json::array();
    for (const TokenLogprob& alt : t.top) top.push_back(logprob_json(alt));
    j["top_logprobs"] = std::move(top);
    content.push_back(std::move(j));
  }
  return json{{"content", std::move(content)}};
}

// The completions API's older layout: parallel arrays.
json completion_logprobs(const std::vector<TokenLogprob>& tokens, size_t& text_offset) {
  json out = {{"tokens", json::array()},
              {"token_logprobs", json::array()},
              {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const TokenLogprob& t : tokens) {
    out["tokens"].push_back(t.token);
    out["token_logprobs"].push_back(t.logprob);
    json top = json::object();
    for (const TokenLogprob& alt : t.top) top[alt.token] = alt.logprob;
    out["top_logprobs"].push_back(std::move(top));
    out["text_offset"].push_back(text_offset);
    text_offset += t.token.size();
  }
  return out;
}

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

}  // namespace

struct ApiServer::Outcome {
  std::string route;
  int64_t prompt_tokens = -1, completion_tokens = 0, cached_tokens = 0;
  std::string prompt_text, output_text;  // --log-content only
  std::string note;                      // why it failed, for the log
};

// One request's generation and how to answer it.
struct ApiServer::Generation {
  bool chat = true;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  bool reasoning_model = false;
  bool echo = false;
  std::string echo_text;
  std::string model;
  GenerationRequest request;
  AssemblerOptions assembler;
  std::shared_ptr<OutputConstraint> constraint;
  bool tools_offered = false;
  Clock::time_point start;
};

ApiServer::ApiServer(Scheduler& scheduler, const TextModel& text, ApiKeys keys, ApiServerOptions options,
                     const PrefixCache* prefix_cache)
    : scheduler_(scheduler),
      text_(text),
      keys_(std::move(keys)),
      options_(std::move(options)),
      prefix_cache_(prefix_cache),
      traits_(ModelTraits::probe(text)),
      vocab_(std::make_shared<VocabIndex>(text)),
      tool_format_(ToolCallFormat::from(text, traits_.v3_tool_format)),
      limiter_(options_.requests_per_minute, options_.tokens_per_minute) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  http_ = std::make_unique<HttpServer>(options_.http,
                                       [this](const HttpRequest& r, ResponseWriter& w) { handle(r, w); });
  return http_->start();
}

void ApiServer::stop() {
  if (http_) http_->stop();
}

int ApiServer::send_error(ResponseWriter& w, const ApiError& e, const HttpHeaders& cors, HttpHeaders extra) {
  extra.insert(extra.end(), cors.begin(), cors.end());
  w.send(e.status, "application/json", e.to_json(), extra);
  return e.status;
}

HttpHeaders ApiServer::cors_headers(const HttpRequest& r) const {
  if (options_.cors_origins.empty()) return {};
  const std::string* origin = r.header("origin");
  if (!origin) return {};
  for (const std::string& allowed : options_.cors_origins) {
    if (allowed == "*") return {{"Access-Control-Allow-Origin", "*"}};
    if (allowed == *origin) return {{"Access-Control-Allow-Origin", *origin}, {"Vary", "Origin"}};
  }
  return {};
}

// max_tokens as asked, or, when the request did not name it, the default cut
// to what the context leaves (a long prompt is not refused for a limit the
// client never set).
int64_t ApiServer::fit_max_tokens(const SamplingFields& r, size_t prompt_tokens) const {
  if (r.max_tokens_set) return r.max_tokens;
  const int64_t left = scheduler_.options().max_context - static_cast<int64_t>(prompt_tokens);
  return std::max<int64_t>(1, std::min(r.max_tokens, left));
}

std::optional<ApiError> ApiServer::check_model(const std::string& name) const {
  if (name == options_.model_id || name == "deepseek-chat" || name == "deepseek-reasoner") return std::nullopt;
  return ApiError{422, "model: unknown model '" + name + "'; this server serves '" + options_.model_id +
                           "' (also as deepseek-chat and deepseek-reasoner)",
                  "model"};
}

void ApiServer::handle(const HttpRequest& r, ResponseWriter& w) {
  const auto start = Clock::now();
  Outcome outcome;
  const HttpHeaders cors = cors_headers(r);
  int status = 500;
  try {
    status = route(r, w, outcome, cors);
  } catch (const std::exception& e) {
    // Only a bug gets here (input errors are answered above): say so, once.
    outcome.note = std::string("internal error: ") + e.what();
    if (!w.started()) status = send_error(w, ApiError{500, "internal error"}, cors);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  metrics_.request(outcome.route, status);
  if (outcome.prompt_tokens >= 0) metrics_.request_seconds.observe(seconds);
  if (!options_.log_requests) return;
  std::string line = "dseek serve: " + r.method + " " + r.path + " " + std::to_string(status) + " " +
                     std::to_string(static_cast<int64_t>(seconds * 1000)) + "ms";
  if (outcome.prompt_tokens >= 0)
    line += " prompt=" + std::to_string(outcome.prompt_tokens) + " cached=" + std::to_string(outcome.cached_tokens) +
            " completion=" + std::to_string(outcome.completion_tokens);
  if (!outcome.note.empty()) line += " (" + outcome.note + ")";
  if (options_.log_content && outcome.prompt_tokens >= 0)
    line += " prompt_text=" + dump(json(outcome.prompt_text)) + " output_text=" + dump(json(outcome.output_text));
  std::lock_guard<std::mutex> lock(log_mutex_);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

// Without API keys the server trusts whoever can reach it, which must then
// be this machine only. A web page can still aim a browser at 127.0.0.1 under
// a domain of its own (DNS rebinding); the Host header then names that
// domain, and such requests are refused.
bool ApiServer::host_allowed(const HttpRequest& r) const {
  if (!keys_.empty()) return true;
  const std::string* host = r.header("host");
  if (!host) return true;  // HTTP/1.0 without Host: not a browser
  std::string name = *host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(0, name.find(']') == std::string::npos ? name.size() : name.find(']') + 1);
  } else if (const size_t colon = name.rfind(':'); colon != std::string::npos) {
    name = name.substr(0, colon);
  }
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "localhost" || (name.size() > 10 && name.ends_with(".localhost")) || name == "[::1]") return true;
  if (name == options_.http.host) return true;
  return name.rfind("127.", 0) == 0 && is_loopback_host(name);
}

int ApiServer::route(const HttpRequest& r, ResponseWriter& w, Outcome& outcome, const HttpHeaders& cors) {
  const std::string& p = r.path;
  if (!host_allowed(r)) {
    outcome.route = "other";
    return send_error(w, ApiError{403, "Host not allowed: without API keys this server answers only requests "
                                       "addressed to localhost"}, cors);
  }
  const bool is_chat = p == "/v1/chat/completions" || p == "/chat/completions" || p == "/beta/chat/completions";
  const bool is_completion = p == "/v1/completions" || p == "/completions" || p == "/beta/completions";
  const bool is_models = p == "/v1/models" || p == "/models";
  outcome.route = is_chat ? "chat" : is_completion ? "completions" : is_models ? "models" : p == "/health" ? "health"
                  : p == "/metrics"                                                      ? "metrics"
                                                                                         : "other";

  if (r.method == "OPTIONS") {
    if (cors.empty()) return send_error(w, ApiError{405, "method not allowed"}, cors, {{"Allow", "GET, POST"}});
    HttpHeaders h = cors;
    h.push_back({"Access-Control-Allow-Methods", "GET, POST, OPTIONS"});
    h.push_back({"Access-Control-Allow-Headers", "Authorization, Content-Type"});
    h.push_back({"Access-Control-Max-Age", "600"});
    w.send(204, "", "", h);
    return 204;
  }
  if (p == "/health") {
    if (r.method != "GET" && r.method != "HEAD") return send_error(w, ApiError{405, "use GET"}, cors, {{"Allow", "GET"}});
    w.send(200, "application/json", R"({"status":"ok"})", cors);
    return 200;
  }
  if (!is_chat && !is_completion && !is_models && p != "/metrics")
    return send_error(w, ApiError{404, "no such endpoint: " + p}, cors);

  // Everything below needs a key when keys are configured.
  Caller caller;
  if (!keys_.empty()) {
    const std::string* auth = r.header("authorization");
    const auto index = auth ? keys_.match(*auth) : std::nullopt;
    if (!index)
      return send_error(w, ApiError{401, "authentication failed: send a valid API key as 'Authorization: Bearer KEY'"},
                        cors, {{"WWW-Authenticate", "Bearer"}});
    caller.label = "key " + std::to_string(*index + 1);
    caller.rate_key = caller.label;
    caller.cache_ns = keys_.cache_namespace(*index);
  } else {
    caller.label = w.remote_address();
    caller.rate_key = w.remote_address();
  }

  if (is_models) {
    if (r.method != "GET") return send_error(w, ApiError{405, "use GET"}, cors, {{"Allow", "GET"}});
    json data = json::array();
    for (const std::string& id : {options_.model_id, std::string("deepseek-chat"), std::string("deepseek-reasoner")})
      data.push_back({{"id", id}, {"object", "model"}, {"owned_by", "dseek"},
                      {"created", std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count()}});
    w.send(200, "application/json", dump({{"object", "list"}, {"data", data}}), cors);
    return 200;
  }
  if (p == "/metrics") {
    if (r.method != "GET") return send_error(w, ApiError{405, "use GET"}, cors, {{"Allow", "GET"}});
    Metrics::Gauges g;
    const SchedulerStats s = scheduler_.stats();
    g.queue_depth = s.queued;
    g.active_sequences = s.active;
    g.batch_sequences = s.last_batch_sequences;
    g.batch_tokens = s.last_batch_tokens;
    g.open_connections = http_ ? http_->stats().connections : 0;
    if (prefix_cache_) {
      const PrefixCacheStats c = prefix_cache_->stats();
      g.cache_ram_bytes = c.ram_bytes;
      g.cache_disk_bytes = c.disk_bytes;
      g.cache_corrupt_dropped = c.corrupt_dropped;
    }
    w.send(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(g), cors);
    return 200;
  }
  if (r.method != "POST") return send_error(w, ApiError{405, "use POST"}, cors, {{"Allow", "POST"}});

  int64_t retry_after = 0;
  if (!limiter_.admit(caller.rate_key, Clock::now(), retry_after)) {
    metrics_.rate_limited++;
    outcome.note = "rate limited";
    return send_error(w, ApiError{429, "rate limit reached for " + caller.label + "; retry after " +
                                           std::to_string(retry_after) + " s"},
                      cors, {{"Retry-After", std::to_string(retry_after)}});
  }
  return is_chat ? chat(r, w, caller, outcome, cors) : completion(r, w, caller, outcome, cors);
}

int ApiServer::chat(const HttpRequest& r, ResponseWriter& w, const Caller& caller, Outcome& outcome,
                    const HttpHeaders& cors) {
  auto parsed = parse_chat_request(r.body, options_.limits);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    outcome.note = e->message;
    return send_error(w, *e, cors);
  }
  ChatRequest& req = std::get<ChatRequest>(parsed);
  if (auto e = check_model(req.model)) return send_error(w, *e, cors);
  if (req.json_object && traits_.reasoning)
    return send_error(w, ApiError{422, "response_format: json_object is not supported by reasoning models",
                                  "response_format"}, cors);
  const bool forced_tools = req.tool_choice == ToolChoice::kRequired || req.tool_choice == ToolChoice::kNamed;
  if (!req.tools.empty() && req.tool_choice != ToolChoice::kNone && !tool_format_.valid())
    return send_error(w, ApiError{422, "tools: this model has no tool-call tokens", "tools"}, cors);

  auto built = build_chat_prompt(text_, traits_, req);
  if (auto* e = std::get_if<ApiError>(&built)) return send_error(w, *e, cors);
  BuiltPrompt& prompt = std::get<BuiltPrompt>(built);

  Generation g;
  fill_common(g, req, std::move(prompt.tokens), caller);
  g.chat = true;
  g.reasoning_model = traits_.reasoning;
  g.tools_offered = !req.tools.empty() && req.tool_choice != ToolChoice::kNone;
  g.assembler.split_reasoning = traits_.reasoning;
  g.assembler.starts_in_reasoning = prompt.starts_in_reasoning;
  g.assembler.tool_calls_begin = g.tools_offered ? tool_format_.calls_begin : -1;
  if (req.json_object) {
    g.constraint = OutputConstraint::json_object(vocab_, g.request.stop_tokens, g.request.max_new_tokens);
  } else if (forced_tools) {
    std::vector<std::string> names;
    if (req.tool_choice == ToolChoice::kNamed)
      names.push_back(req.tool_choice_name);
    else
      for (const ToolSpec& t : req.tools) names.push_back(t.name);
    g.constraint = OutputConstraint::tool_calls(vocab_, g.request.stop_tokens, tool_format_, names,
                                                req.tool_choice == ToolChoice::kNamed ? 1 : 8, g.request.max_new_tokens);
  }
  if (options_.log_content) outcome.prompt_text = prompt.text;
  return run(g, w, caller, outcome, cors);
}

void ApiServer::fill_common(Generation& g, const SamplingFields& req, std::vector<int32_t> prompt_tokens,
                            const Caller& caller) const {
  g.stream = req.stream;
  g.include_usage = req.include_usage;
  g.logprobs = req.logprobs;
  g.model = req.model;
  g.request.prompt = std::move(prompt_tokens);
  g.request.max_new_tokens = fit_max_tokens(req, g.request.prompt.size());
  g.request.sampling.temperature = req.temperature;
  g.request.sampling.top_p = req.top_p > 0 ? req.top_p : 1e-9;
  g.request.sampling.frequency_penalty = req.frequency_penalty;
  g.request.sampling.presence_penalty = req.presence_penalty;
  g.request.sampling.seed = req.seed ? *req.seed : random_u64();
  g.request.top_logprobs = req.logprobs ? req.top_logprobs : -1;
  g.request.cache_namespace = caller.cache_ns;
  if (text_.eos_id() >= 0) g.request.stop_tokens.push_back(text_.eos_id());
  g.assembler.stop = req.stop;
  g.assembler.logprobs = req.logprobs;
}

int ApiServer::completion(const HttpRequest& r, ResponseWriter& w, const Caller& caller, Outcome& outcome,
                          const HttpHeaders& cors) {
  auto parsed = parse_completion_request(r.body, options_.limits);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    outcome.note = e->message;
    return send_error(w, *e, cors);
  }
  CompletionRequest& req = std::get<CompletionRequest>(parsed);
  if (auto e = check_model(req.model)) return send_error(w, *e, cors);
  auto built = build_completion_prompt(text_, req);
  if (auto* e = std::get_if<ApiError>(&built)) return send_error(w, *e, cors);
  BuiltPrompt& prompt = std::get<BuiltPrompt>(built);

  Generation g;
  fill_common(g, req, std::move(prompt.tokens), caller);
  g.chat = false;
  g.echo = req.echo;
  g.echo_text = req.prompt;
  if (options_.log_content) outcome.prompt_text = prompt.text;
  return run(g, w, caller, outcome, cors);
}

int ApiServer::run(Generation& g, ResponseWriter& w, const Caller& caller, Outcome& outcome, const HttpHeaders& cors) {
  g.start = Clock::now();
  const int64_t prompt_size = static_cast<int64_t>(g.request.prompt.size());
  if (g.constraint) {
    std::shared_ptr<OutputConstraint> c = g.constraint;
    g.request.constrain = [c](std::span<float> logits, std::span<const int32_t> output) { c->apply(logits, output); };
  }
  auto submitted = scheduler_.submit(g.request);
  if (submitted.refusal == Scheduler::Refusal::kQueueFull) {
    metrics_.overloaded++;
    outcome.note = "overloaded";
    return send_error(w, ApiError{503, "the server is overloaded: " + submitted.message + "; retry later"}, cors,
                      {{"Retry-After", "1"}});
  }
  if (submitted.refusal != Scheduler::Refusal::kNone) {
    const bool context = submitted.message.find("context") != std::string::npos;
    return send_error(w, ApiError{422, (context ? "max_tokens: " : "") + submitted.message, context ? "max_tokens" : ""},
                      cors);
  }
  std::shared_ptr<GenerationStream> stream = submitted.stream;
  outcome.prompt_tokens = prompt_size;

  OutputAssembler assembler(text_, g.assembler);
  const std::string id = random_id(g.chat ? "chatcmpl-" : "cmpl-");
  const int64_t created = unix_now();
  const char* object = g.chat ? "chat.completion.chunk" : "text_completion";

  auto chunk = [&](json choice) {
    return json{{"id", id}, {"object", object}, {"created", created}, {"model", g.model},
                {"system_fingerprint", "fp_dseek"}, {"choices", json::array({std::move(choice)})}};
  };
  HttpHeaders stream_headers = cors;
  stream_headers.push_back({"Cache-Control", "no-cache"});
  if (g.stream && !w.begin_stream(200, "text/event-stream", stream_headers)) {
    stream->cancel();
    return 200;
  }
  size_t text_offset = 0;
  std::string reasoning, content;
  std::vector<TokenLogprob> all_logprobs;
  auto write_delta = [&](const OutputDelta& d) -> bool {
    reasoning += d.reasoning;
    content += d.content;
    if (!g.stream) {
      all_logprobs.insert(all_logprobs.end(), d.logprobs.begin(), d.logprobs.end());
      return true;
    }
    if (d.empty()) return true;
    json choice;
    if (g.chat) {
      json delta = json::object();
      if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
      if (!d.content.empty() || d.reasoning.empty()) delta["content"] = d.content;
      choice = {{"index", 0}, {"delta", std::move(delta)},
                {"logprobs", g.logprobs ? chat_logprobs(d.logprobs) : json(nullptr)}, {"finish_reason", nullptr}};
    } else {
      choice = {{"index", 0}, {"text", d.content},
                {"logprobs", g.logprobs ? completion_logprobs(d.logprobs, text_offset) : json(nullptr)},
                {"finish_reason", nullptr}};
    }
    return w.write_chunk(sse(chunk(std::move(choice))));
  };

  if (g.stream && g.chat) {
    json delta = {{"role", "assistant"}, {"content", ""}};
    if (g.reasoning_model) delta["reasoning_content"] = "";
    if (!w.write_chunk(sse(chunk({{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}}))))
      stream->cancel();
  }
  if (g.echo) {
    OutputDelta d;
    d.content = g.echo_text;
    write_delta(d);
  }

  GenerationEvent e;
  GenerationEvent finished;
  bool stop_hit = false, first = true, gone = false;
  auto last_write = Clock::now();
  for (;;) {
    if (!stream->next(e, 100ms)) {
      if (w.client_gone()) {
        gone = true;
        break;
      }
      if (g.stream && Clock::now() - last_write >= options_.keepalive_interval) {
        if (!w.write_chunk(": keep-alive\n\n")) {
          gone = true;
          break;
        }
        last_write = Clock::now();
      }
      continue;
    }
    if (e.kind == GenerationEvent::Kind::kFinished) {
      finished = e;
      break;
    }
    if (stop_hit) continue;  // tokens drawn before the cancel took effect
    if (first) {
      metrics_.first_token_seconds.observe(std::chrono::duration<double>(Clock::now() - g.start).count());
      first = false;
    }
    OutputDelta d = assembler.add(e);
    if (assembler.stop_string_hit()) {
      stop_hit = true;
      stream->cancel();
    }
    if (!write_delta(d)) {
      gone = true;
      break;
    }
    if (g.stream && !d.empty()) last_write = Clock::now();
  }
  if (gone) {
    stream->cancel();
    metrics_.client_disconnects++;
    outcome.note = "client went away";
    return 499;  // nginx's code for it, in the log only: the client got nothing more
  }

  // Why it ended, in the API's words.
  // A constrained answer that max_tokens made close early is complete JSON
  // but not what the model would have written: "length" says so.
  std::string finish_reason = "stop";
  const bool cut = finished.finish == FinishReason::kLength || (g.constraint && g.constraint->forced());
  if (cut) finish_reason = "length";
  if (finished.finish == FinishReason::kError || (finished.finish == FinishReason::kCancelled && !stop_hit)) {
    outcome.note = "generation failed: " + finished.error;
    const ApiError err{finished.finish == FinishReason::kError ? 500 : 503,
                       finished.finish == FinishReason::kError ? "generation failed: " + finished.error
                                                               : "the server is shutting down"};
    if (!g.stream) return send_error(w, err, cors);
    w.write_chunk("data: " + err.to_json() + "\n\n");
    w.end_stream();
    return err.status;
  }
  if (g.constraint && g.constraint->broken()) outcome.note = "constrained decoding reached a dead end";
  write_delta(assembler.finish());

  json tool_calls = nullptr;
  if (assembler.in_tool_calls()) {
    if (auto calls = parse_tool_calls(assembler.tool_text())) {
      tool_calls = json::array();
      for (size_t i = 0; i < calls->size(); ++i)
        tool_calls.push_back({{"index", i}, {"id", random_id("call_")}, {"type", "function"},
                              {"function", {{"name", (*calls)[i].name}, {"arguments", (*calls)[i].arguments}}}});
      if (!cut) finish_reason = "tool_calls";
    } else {
      // Not a complete block (cut by max_tokens): shown as the text it is.
      OutputDelta d;
      d.content = valid_utf8(assembler.tool_text());
      write_delta(d);
    }
  }

  const int64_t completion_tokens = finished.completion_tokens;
  const int64_t hit = finished.cached_prompt_tokens;
  json usage = {{"prompt_tokens", finished.prompt_tokens},
                {"completion_tokens", completion_tokens},
                {"total_tokens", finished.prompt_tokens + completion_tokens},
                {"prompt_cache_hit_tokens", hit},
                {"prompt_cache_miss_tokens", finished.prompt_tokens - hit},
                {"prompt_tokens_details", {{"cached_tokens", hit}}},
                {"completion_tokens_details", {{"reasoning_tokens", assembler.reasoning_tokens()}}}};
  metrics_.prompt_tokens += finished.prompt_tokens;
  metrics_.completion_tokens += completion_tokens;
  metrics_.cache_hit_tokens += hit;
  limiter_.charge_tokens(caller.rate_key, finished.prompt_tokens + completion_tokens, Clock::now());
  outcome.completion_tokens = completion_tokens;
  outcome.cached_tokens = hit;
  if (options_.log_content) outcome.output_text = reasoning + content;

  if (g.stream) {
    if (g.chat && !tool_calls.is_null()) {
      w.write_chunk(sse(chunk({{"index", 0}, {"delta", {{"tool_calls", tool_calls}}}, {"logprobs", nullptr},
                               {"finish_reason", nullptr}})));
    }
    json last = g.chat ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}
                       : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
    w.write_chunk(sse(chunk(std::move(last))));
    if (g.include_usage) {
      json u = chunk(nullptr);
      u["choices"] = json::array();
      u["usage"] = usage;
      w.write_chunk(sse(u));
    }
    w.write_chunk("data: [DONE]\n\n");
    w.end_stream();
    return 200;
  }

  json body;
  if (g.chat) {
    json message = {{"role", "assistant"},
                    {"content", content.empty() && !tool_calls.is_null() ? json(nullptr) : json(content)}};
    if (g.reasoning_model) message["reasoning_content"] = reasoning;
    if (!tool_calls.is_null()) message["tool_calls"] = tool_calls;
    body = {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", g.model},
            {"system_fingerprint", "fp_dseek"},
            {"choices", json::array({{{"index", 0}, {"message", std::move(message)},
                                      {"logprobs", g.logprobs ? chat_logprobs(all_logprobs) : json(nullptr)},
                                      {"finish_reason", finish_reason}}})},
            {"usage", usage}};
  } else {
    body = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", g.model},
            {"system_fingerprint", "fp_dseek"},
            {"choices", json::array({{{"index", 0}, {"text", content},
                                      {"logprobs", g.logprobs ? completion_logprobs(all_logprobs, text_offset) : json(nullptr)},
                                      {"finish_reason", finish_reason}}})},
            {"usage", usage}};
  }
  HttpHeaders h = cors;
  w.send(200, "application/json", dump(body), h);
  return 200;
}

}  // namespace dseek::server
