// The API end to end in-process: a real Scheduler and prefix cache on the
// tiny V3-shaped model, a FakeTextModel for text, HTTP over loopback. The
// Node tests (tests/server/e2e) drive a real `dseek serve` with the official
// clients and the real DeepSeek tokenizer; these check the server's own
// promises without them: response shapes, streaming equal to not streaming,
// batched equal to alone, constrained JSON and tool calls, every error code,
// cache hits, logprobs, FIM, disconnects.
#include "server/api_server.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "model_runner.h"
#include "server/fake_text_model.h"
#include "server/http_client.h"
#include "server/json_automaton.h"
#include "test_data.h"

namespace dseek::server {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::FakeTextModel;
using testing::HttpClient;
using testing::HttpResponse;

constexpr const char* kKey = "sk-test-key-0123456789";

// The tiny model decodes thousands of tokens a second; a test that must act
// while a request is still generating slows each forward pass down instead of
// racing it.
class PacedModel : public Model {
 public:
  PacedModel(Model& inner, std::chrono::milliseconds pace) : inner_(inner), pace_(pace) {}
  const ModelConfig& config() const override { return inner_.config(); }
  KvCacheShape kv_cache_shape() const override { return inner_.kv_cache_shape(); }
  Status forward(std::span<SequenceInput> batch) override {
    std::this_thread::sleep_for(pace_);
    return inner_.forward(batch);
  }

 private:
  Model& inner_;
  std::chrono::milliseconds pace_;
};

struct Stack {
  testing::LoadedModel model;
  std::unique_ptr<PacedModel> paced;
  std::unique_ptr<PrefixCache> cache;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<FakeTextModel> text;
  std::unique_ptr<ApiServer> server;

  explicit Stack(SchedulerOptions so = {}, ApiServerOptions ao = {}, FakeTextModel::Options to = {},
                 std::string keys = "", std::chrono::milliseconds pace = std::chrono::milliseconds(0)) {
    model = testing::load_or_fail(testing::repo_path("tests/data/models/deepseek-v3-tiny-fp8"));
    if (!model.model) return;
    Model* engine = model.model.get();
    if (pace.count() > 0) engine = (paced = std::make_unique<PacedModel>(*engine, pace)).get();
    cache = std::make_unique<PrefixCache>(model.model->kv_cache_shape(), 42, PrefixCacheOptions{});
    so.prefix_cache = cache.get();
    if (so.max_context == 4096) so.max_context = 512;
    scheduler = std::make_unique<Scheduler>(*engine, so);
    to.vocab_size = static_cast<int32_t>(model.vocab());
    text = std::make_unique<FakeTextModel>(to);
    ao.http.port = 0;
    ao.log_requests = false;
    ao.model_id = "tiny";
    ApiKeys api_keys;
    if (!keys.empty()) api_keys = ApiKeys::from_text(keys, "keys").value();
    server = std::make_unique<ApiServer>(*scheduler, *text, std::move(api_keys), ao, cache.get());
    Status s = server->start();
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  int port() const { return server->port(); }
};

HttpResponse post(int port, const std::string& path, const json& body, std::vector<std::string> headers = {}) {
  HttpClient c(port);
  return c.request("POST", path, body.dump(), headers);
}

json chat_body(const std::string& user, json extra = json::object()) {
  json b = {{"model", "deepseek-chat"}, {"messages", json::array({{{"role", "user"}, {"content", user}}})}};
  for (auto& [k, v] : extra.items()) b[k] = v;
  return b;
}

// The text of a streamed chat answer, and its chunks.
struct Streamed {
  std::string content, reasoning;
  std::string finish_reason;
  json usage;
  std::vector<json> chunks;
  bool done = false;
};

Streamed read_stream(const HttpResponse& r) {
  Streamed s;
  for (const std::string& e : testing::sse_events(r.body)) {
    if (e == "[DONE]") {
      s.done = true;
      continue;
    }
    json j = json::parse(e);
    s.chunks.push_back(j);
    if (j.contains("usage") && !j["usage"].is_null()) s.usage = j["usage"];
    if (j["choices"].empty()) continue;
    const json& c = j["choices"][0];
    if (c.contains("delta")) {
      if (c["delta"].contains("content") && c["delta"]["content"].is_string()) s.content += c["delta"]["content"];
      if (c["delta"].contains("reasoning_content") && c["delta"]["reasoning_content"].is_string())
        s.reasoning += c["delta"]["reasoning_content"];
    } else if (c.contains("text")) {
      s.content += c["text"].get<std::string>();
    }
    if (!c["finish_reason"].is_null()) s.finish_reason = c["finish_reason"];
  }
  return s;
}

TEST(ApiServer, ChatShapeAndUsage) {
  Stack st;
  ASSERT_TRUE(st.server);
  auto r = post(st.port(), "/v1/chat/completions", chat_body("hello", {{"max_tokens", 8}, {"temperature", 0}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "deepseek-chat");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  EXPECT_FALSE(j["choices"][0]["message"].contains("reasoning_content"));
  const json& u = j["usage"];
  EXPECT_EQ(u["total_tokens"], u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
  EXPECT_EQ(u["prompt_tokens"], u["prompt_cache_hit_tokens"].get<int>() + u["prompt_cache_miss_tokens"].get<int>());
  const std::string finish = j["choices"][0]["finish_reason"];
  EXPECT_TRUE(finish == "stop" || finish == "length");
  if (finish == "length") EXPECT_EQ(u["completion_tokens"], 8);
  // The other routes and the model list.
  EXPECT_EQ(post(st.port(), "/chat/completions", chat_body("x", {{"max_tokens", 2}})).status, 200);
  HttpClient c(st.port());
  auto models = c.request("GET", "/v1/models");
  EXPECT_EQ(models.status, 200);
  EXPECT_EQ(json::parse(models.body)["data"][0]["id"], "tiny");
  EXPECT_EQ(c.request("GET", "/health").status, 200);
  // Without keys, only requests addressed to this machine (no DNS rebinding).
  for (const char* host : {"127.0.0.1:8080", "[::1]:1", "app.localhost", "LOCALHOST"}) {
    HttpClient h(st.port());
    h.send_raw(std::string("GET /health HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    EXPECT_EQ(h.read_response().status, 200) << host;
  }
  for (const char* host : {"evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example"}) {
    HttpClient h(st.port());
    h.send_raw(std::string("GET /health HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    EXPECT_EQ(h.read_response().status, 403) << host;
  }
}

TEST(ApiServer, StreamingEqualsNotStreamingAndBatchedEqualsAlone) {
  Stack st;
  ASSERT_TRUE(st.server);
  for (uint64_t seed : {1u, 2u, 3u}) {
    json body = chat_body("hello world", {{"max_tokens", 24}, {"temperature", 0.9}, {"seed", seed}});
    auto whole = post(st.port(), "/v1/chat/completions", body);
    ASSERT_EQ(whole.status, 200);
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    auto streamed = post(st.port(), "/v1/chat/completions", body);
    ASSERT_EQ(streamed.status, 200);
    EXPECT_EQ(streamed.header("content-type"), "text/event-stream");
    Streamed s = read_stream(streamed);
    json j = json::parse(whole.body);
    EXPECT_TRUE(s.done);
    EXPECT_EQ(s.content, j["choices"][0]["message"]["content"]) << "seed " << seed;
    EXPECT_EQ(s.finish_reason, j["choices"][0]["finish_reason"]);
    EXPECT_EQ(s.usage["completion_tokens"], j["usage"]["completion_tokens"]);
    EXPECT_EQ(s.chunks.front()["choices"][0]["delta"]["role"], "assistant");
  }
  // Six greedy requests at once give what each gives alone.
  std::vector<std::string> prompts = {"a", "hello", "hello world city", "Paris", "stop STOP", "{}"};
  std::vector<std::string> alone;
  for (const auto& p : prompts) {
    auto r = post(st.port(), "/v1/chat/completions", chat_body(p, {{"max_tokens", 16}, {"temperature", 0}}));
    alone.push_back(json::parse(r.body)["choices"][0]["message"]["content"]);
  }
  std::vector<std::future<HttpResponse>> futures;
  for (const auto& p : prompts)
    futures.push_back(std::async(std::launch::async, [&, p] {
      return post(st.port(), "/v1/chat/completions", chat_body(p, {{"max_tokens", 16}, {"temperature", 0}}));
    }));
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto r = futures[i].get();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], alone[i]) << prompts[i];
  }
}

TEST(ApiServer, JsonModeOutputParses) {
  Stack st;
  ASSERT_TRUE(st.server);
  int complete = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    auto r = post(st.port(), "/v1/chat/completions",
                  chat_body("json please", {{"max_tokens", 120}, {"seed", seed}, {"temperature", 0.7},
                                            {"response_format", {{"type", "json_object"}}}}));
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    const std::string content = j["choices"][0]["message"]["content"];
    if (j["choices"][0]["finish_reason"] == "stop") {
      ++complete;
      ASSERT_TRUE(json::accept(content)) << content;
      EXPECT_TRUE(json::parse(content).is_object());
    } else {
      JsonAutomaton a(true);
      EXPECT_TRUE(a.feed(content)) << "a cut answer is still a prefix of JSON: " << content;
    }
  }
  EXPECT_GT(complete, 0);
}

TEST(ApiServer, RequiredAndNamedToolCalls) {
  Stack st;
  ASSERT_TRUE(st.server);
  const json tools = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}},
                                  {{"type", "function"}, {"function", {{"name", "get"}}}}});
  int called = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    for (const json& choice : {json("required"), json{{"type", "function"}, {"function", {{"name", "get"}}}}}) {
      json body = chat_body("weather?", {{"max_tokens", 120}, {"seed", seed}, {"temperature", 0.7}, {"tools", tools},
                                         {"tool_choice", choice}});
      auto r = post(st.port(), "/v1/chat/completions", body);
      ASSERT_EQ(r.status, 200) << r.body;
      json j = json::parse(r.body);
      const json& m = j["choices"][0]["message"];
      if (j["choices"][0]["finish_reason"] != "tool_calls") continue;
      ++called;
      ASSERT_TRUE(m["tool_calls"].is_array());
      for (const json& call : m["tool_calls"]) {
        EXPECT_EQ(call["type"], "function");
        const std::string name = call["function"]["name"];
        if (choice.is_object()) {
          EXPECT_EQ(name, "get");
        } else {
          EXPECT_TRUE(name == "get" || name == "get_weather") << name;
        }
        const std::string args = call["function"]["arguments"];
        ASSERT_TRUE(json::accept(args)) << args;
      }
      // Streaming gives the same calls.
      body["stream"] = true;
      Streamed s = read_stream(post(st.port(), "/v1/chat/completions", body));
      EXPECT_EQ(s.finish_reason, "tool_calls");
      json streamed_calls;
      for (const json& c : s.chunks)
        if (!c["choices"].empty() && c["choices"][0]["delta"].contains("tool_calls"))
          streamed_calls = c["choices"][0]["delta"]["tool_calls"];
      ASSERT_EQ(streamed_calls.size(), m["tool_calls"].size());
      for (size_t i = 0; i < streamed_calls.size(); ++i)
        EXPECT_EQ(streamed_calls[i]["function"], m["tool_calls"][i]["function"]);
    }
  }
  EXPECT_GT(called, 0);
  // A round trip: the call and its result go back in.
  json round = {{"model", "deepseek-chat"},
                {"tools", tools},
                {"max_tokens", 4},
                {"messages", json::array({{{"role", "user"}, {"content", "weather?"}},
                                          {{"role", "assistant"}, {"content", nullptr},
                                           {"tool_calls", json::array({{{"id", "call_1"}, {"type", "function"},
                                                                        {"function", {{"name", "get"}, {"arguments", "{}"}}}}})}},
                                          {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny"}}})}};
  EXPECT_EQ(post(st.port(), "/v1/chat/completions", round).status, 200);
}

TEST(ApiServer, ReasoningModel) {
  FakeTextModel::Options to;
  to.reasoning = true;
  Stack st({}, {}, to);
  ASSERT_TRUE(st.server);
  auto r = post(st.port(), "/v1/chat/completions", chat_body("hi", {{"max_tokens", 10}, {"temperature", 0}}));
  ASSERT_EQ(r.status, 200);
  json m = json::parse(r.body)["choices"][0]["message"];
  ASSERT_TRUE(m.contains("reasoning_content"));
  json body = chat_body("hi", {{"max_tokens", 10}, {"temperature", 0}, {"stream", true}});
  Streamed s = read_stream(post(st.port(), "/v1/chat/completions", body));
  EXPECT_EQ(s.reasoning, m["reasoning_content"]);
  EXPECT_EQ(s.content, m["content"]);
  json back = {{"model", "deepseek-reasoner"},
               {"messages", json::array({{{"role", "user"}, {"content", "a"}},
                                         {{"role", "assistant"}, {"content", "b"}, {"reasoning_content", "c"}},
                                         {{"role", "user"}, {"content", "d"}}})}};
  auto bad = post(st.port(), "/v1/chat/completions", back);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["param"], "messages[1].reasoning_content");
  EXPECT_EQ(post(st.port(), "/v1/chat/completions", chat_body("x", {{"response_format", {{"type", "json_object"}}}})).status,
            422);
}

TEST(ApiServer, ErrorCodes) {
  ApiServerOptions ao;
  ao.requests_per_minute = 1000;
  Stack st({}, ao, {}, std::string(kKey) + "\n");
  ASSERT_TRUE(st.server);
  const std::string auth = std::string("Authorization: Bearer ") + kKey;
  auto expect_error = [](const HttpResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
  };
  expect_error(post(st.port(), "/v1/chat/completions", chat_body("x")), 401);
  expect_error(post(st.port(), "/v1/chat/completions", chat_body("x"), {"Authorization: Bearer wrong-key-0123456789"}),
               401);
  {
    HttpClient c(st.port());
    expect_error(c.request("GET", "/v1/models"), 401);
    expect_error(c.request("GET", "/metrics"), 401);
    EXPECT_EQ(c.request("GET", "/health").status, 200);  // no key needed
    expect_error(c.request("POST", "/v1/chat/completions", "{not json", {auth}), 400);
    expect_error(c.request("GET", "/v1/chat/completions", "", {auth}), 405);
    expect_error(c.request("GET", "/nope", "", {auth}), 404);
  }
  expect_error(post(st.port(), "/v1/chat/completions", chat_body("x", {{"temperature", 3}}), {auth}), 422);
  expect_error(post(st.port(), "/v1/chat/completions", chat_body("x", {{"model", "gpt-4"}}), {auth}), 422);
  expect_error(post(st.port(), "/v1/chat/completions", chat_body("x", {{"max_tokens", 8000}}), {auth}), 422);
  // Without max_tokens the default (4096) shrinks to the 512-token context instead.
  EXPECT_EQ(post(st.port(), "/v1/chat/completions", chat_body("x", {{"temperature", 0}, {"stop", "e"}}), {auth}).status, 200);
  auto ok = post(st.port(), "/v1/chat/completions", chat_body("x", {{"max_tokens", 2}}), {auth});
  EXPECT_EQ(ok.status, 200);
}

TEST(ApiServer, RateLimitAndOverload) {
  {
    ApiServerOptions ao;
    ao.requests_per_minute = 2;
    Stack st({}, ao);
    ASSERT_TRUE(st.server);
    for (int i = 0; i < 2; ++i)
      EXPECT_EQ(post(st.port(), "/v1/chat/completions", chat_body("x", {{"max_tokens", 1}})).status, 200);
    auto r = post(st.port(), "/v1/chat/completions", chat_body("x", {{"max_tokens", 1}}));
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(r.header("retry-after").empty());
  }
  SchedulerOptions so;
  so.max_sequences = 1;
  so.max_queue = 1;
  Stack st(so);
  ASSERT_TRUE(st.server);
  std::vector<std::future<HttpResponse>> futures;
  for (int i = 0; i < 8; ++i)
    futures.push_back(std::async(std::launch::async, [&] {
      return post(st.port(), "/v1/chat/completions", chat_body("x", {{"max_tokens", 200}, {"temperature", 0}}));
    }));
  int ok = 0, busy = 0;
  for (auto& f : futures) {
    auto r = f.get();
    if (r.status == 200) ++ok;
    if (r.status == 503) ++busy;
  }
  EXPECT_EQ(ok + busy, 8);
  EXPECT_GE(busy, 1);
  EXPECT_GE(ok, 1);
  EXPECT_EQ(post(st.port(), "/v1/chat/completions", chat_body("x", {{"max_tokens", 1}})).status, 200);
}

TEST(ApiServer, PrefixCacheHitsAreReported) {
  Stack st;
  ASSERT_TRUE(st.server);
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "hello world ";
  auto first = json::parse(post(st.port(), "/v1/chat/completions", chat_body(long_text, {{"max_tokens", 2}})).body);
  auto second = json::parse(post(st.port(), "/v1/chat/completions", chat_body(long_text, {{"max_tokens", 2}})).body);
  EXPECT_EQ(first["usage"]["prompt_cache_hit_tokens"], 0);
  const int hit = second["usage"]["prompt_cache_hit_tokens"];
  EXPECT_GE(hit, 64);
  EXPECT_EQ(hit % 64, 0);
  EXPECT_EQ(second["usage"]["prompt_tokens_details"]["cached_tokens"], hit);
}

TEST(ApiServer, LogprobsFimEchoAndPrefixCompletion) {
  Stack st;
  ASSERT_TRUE(st.server);
  auto r = post(st.port(), "/v1/chat/completions",
                chat_body("hi", {{"max_tokens", 5}, {"logprobs", true}, {"top_logprobs", 3}, {"temperature", 0}}));
  json j = json::parse(r.body);
  const json& lp = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), j["usage"]["completion_tokens"].get<size_t>());
  for (const json& t : lp) {
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_FLOAT_EQ(t["logprob"].get<float>(), t["top_logprobs"][0]["logprob"].get<float>());
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["top_logprobs"][1]["logprob"].get<double>());
  }
  auto fim = post(st.port(), "/beta/completions",
                  {{"model", "deepseek-chat"}, {"prompt", "def f("}, {"suffix", "return 1"}, {"max_tokens", 6}});
  ASSERT_EQ(fim.status, 200) << fim.body;
  EXPECT_EQ(json::parse(fim.body)["object"], "text_completion");
  auto echo = post(st.port(), "/v1/completions",
                   {{"model", "tiny"}, {"prompt", "hello"}, {"max_tokens", 3}, {"echo", true}, {"temperature", 0}});
  EXPECT_EQ(json::parse(echo.body)["choices"][0]["text"].get<std::string>().substr(0, 5), "hello");
  json prefix = {{"model", "deepseek-chat"},
                 {"max_tokens", 4},
                 {"messages", json::array({{{"role", "user"}, {"content", "count"}},
                                           {{"role", "assistant"}, {"content", "1, 2,"}, {"prefix", true}}})}};
  EXPECT_EQ(post(st.port(), "/beta/chat/completions", prefix).status, 200);
}

TEST(ApiServer, ClientThatLeavesFreesItsSlot) {
  SchedulerOptions so;
  so.max_context = 4000;
  Stack st(so, {}, {}, "", std::chrono::milliseconds(2));
  ASSERT_TRUE(st.server);
  // A seed whose answer runs past 400 tokens, so it is still generating when the client leaves.
  uint64_t seed = 0;
  for (uint64_t s = 1; s <= 40 && seed == 0; ++s) {
    json j = json::parse(post(st.port(), "/v1/chat/completions",
                              chat_body("hi", {{"max_tokens", 400}, {"temperature", 1.0}, {"seed", s}})).body);
    if (j["choices"][0]["finish_reason"] == "length") seed = s;
  }
  ASSERT_NE(seed, 0u);
  {
    HttpClient c(st.port());
    json body = chat_body("hi", {{"max_tokens", 3000}, {"stream", true}, {"temperature", 1.0}, {"seed", seed}});
    ASSERT_TRUE(c.send_raw("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: " + std::to_string(body.dump().size()) +
                           "\r\n\r\n" + body.dump()));
    std::this_thread::sleep_for(100ms);
    ASSERT_EQ(st.scheduler->stats().active, 1);
  }
  const auto start = std::chrono::steady_clock::now();
  while (st.scheduler->stats().active != 0 && std::chrono::steady_clock::now() - start < 5s)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(st.scheduler->stats().active, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  HttpClient c(st.port());
  auto metrics = c.request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("dseek_client_disconnects_total 1"), std::string::npos) << metrics.body;
}

}  // namespace
}  // namespace dseek::server
