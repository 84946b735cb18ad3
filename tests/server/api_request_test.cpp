// Request bodies: what is accepted, with defaults as DeepSeek documents
// them, and every refusal with its status (400 for a malformed body, 422 for
// a bad value) and the parameter it names.
#include "server/api_request.h"

#include <gtest/gtest.h>

namespace dseek::server {
namespace {

ChatRequest chat_ok(const std::string& body) {
  auto r = parse_chat_request(body, RequestLimits{});
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << " -> " << e->message;
  return std::holds_alternative<ChatRequest>(r) ? std::get<ChatRequest>(r) : ChatRequest{};
}

ApiError chat_error(const std::string& body) {
  auto r = parse_chat_request(body, RequestLimits{});
  if (!std::holds_alternative<ApiError>(r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

const std::string kMsgs = R"("messages":[{"role":"user","content":"hi"}])";

TEST(ApiRequest, ChatDefaultsAndFields) {
  ChatRequest r = chat_ok(R"({"model":"deepseek-chat",)" + kMsgs + "}");
  EXPECT_EQ(r.model, "deepseek-chat");
  EXPECT_EQ(r.max_tokens, 4096);
  EXPECT_EQ(r.temperature, 1.0);
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.tool_choice, ToolChoice::kNone);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(*r.messages[0].content, "hi");

  r = chat_ok(R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":"Once","prefix":true}],
      "temperature":0,"top_p":0.5,"max_tokens":12,"stop":["x","y"],"seed":-3,"frequency_penalty":-2,"presence_penalty":2,
      "logprobs":true,"top_logprobs":20,"n":1,"stream":true,"stream_options":{"include_usage":true},
      "response_format":{"type":"json_object"},"unknown_field":{"ignored":true}})");
  EXPECT_EQ(*r.messages[1].content, "a\nb");
  EXPECT_TRUE(r.prefix_completion);
  EXPECT_EQ(r.max_tokens, 12);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(*r.seed, static_cast<uint64_t>(-3));
  EXPECT_TRUE(r.include_usage && r.stream && r.json_object && r.logprobs);
  EXPECT_EQ(r.top_logprobs, 20);
}

TEST(ApiRequest, Tools) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b"}}])";
  ChatRequest r = chat_ok(R"({"model":"m",)" + kMsgs + "," + tools + "}");
  EXPECT_EQ(r.tool_choice, ToolChoice::kAuto);
  ASSERT_EQ(r.tools.size(), 2u);
  r = chat_ok(R"({"model":"m",)" + kMsgs + "," + tools + R"(,"tool_choice":{"type":"function","function":{"name":"b"}}})");
  EXPECT_EQ(r.tool_choice, ToolChoice::kNamed);
  EXPECT_EQ(r.tool_choice_name, "b");
  // Reasoning sent back within the current turn's tool loop is accepted (DeepSeek's thinking mode).
  chat_ok(R"({"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"","reasoning_content":"r","tool_calls":[{"id":"c","type":"function","function":{"name":"b","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"1"}]})");
  r = chat_ok(R"({"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"b","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"42"}],)" + tools + R"(,"tool_choice":"required"})");
  EXPECT_EQ(r.tool_choice, ToolChoice::kRequired);
  EXPECT_TRUE(r.messages[1].tool_calls.is_array());
  EXPECT_EQ(r.messages[2].tool_call_id, "c");
}

TEST(ApiRequest, RefusalsNameTheParameter) {
  struct Case {
    std::string body;
    int status;
    std::string param;
  } cases[] = {
      {"not json", 400, ""},
      {"[1,2]", 400, ""},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", 400, ""},  // invalid UTF-8
      {std::string(100, '[') + std::string(100, ']'), 400, ""},
      {R"({"messages":[{"role":"user","content":"hi"}]})", 400, "model"},
      {R"({"model":"m"})", 400, "messages"},
      {R"({"model":"m","messages":"hi"})", 400, "messages"},
      {R"({"model":"m","messages":[]})", 422, "messages"},
      {R"({"model":1,)" + kMsgs + "}", 400, "model"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", 422, "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user"}]})", 400, "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","reasoning_content":"c"},{"role":"user","content":"d"}]})", 400, "messages[1].reasoning_content"},
      {R"({"model":"m","messages":[{"role":"assistant","content":"a","prefix":true},{"role":"user","content":"b"}]})", 422, "messages[0].prefix"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})", 422, "messages[0].content[0].type"},
      {R"({"model":"m",)" + kMsgs + R"(,"temperature":2.5})", 422, "temperature"},
      {R"({"model":"m",)" + kMsgs + R"(,"temperature":"hot"})", 400, "temperature"},
      {R"({"model":"m",)" + kMsgs + R"(,"top_p":1.5})", 422, "top_p"},
      {R"({"model":"m",)" + kMsgs + R"(,"max_tokens":0})", 422, "max_tokens"},
      {R"({"model":"m",)" + kMsgs + R"(,"max_tokens":1e300})", 422, "max_tokens"},
      {R"({"model":"m",)" + kMsgs + R"(,"max_tokens":99999999999999999999999})", 422, "max_tokens"},
      {R"({"model":"m",)" + kMsgs + R"(,"max_tokens":8193})", 422, "max_tokens"},
      {R"({"model":"m",)" + kMsgs + R"(,"frequency_penalty":-3})", 422, "frequency_penalty"},
      {R"({"model":"m",)" + kMsgs + R"(,"n":2})", 422, "n"},
      {R"({"model":"m",)" + kMsgs + R"(,"stop":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]})", 422, "stop"},
      {R"({"model":"m",)" + kMsgs + R"(,"stop":[1]})", 400, "stop"},
      {R"({"model":"m",)" + kMsgs + R"(,"top_logprobs":21,"logprobs":true})", 422, "top_logprobs"},
      {R"({"model":"m",)" + kMsgs + R"(,"top_logprobs":2})", 422, "top_logprobs"},
      {R"({"model":"m",)" + kMsgs + R"(,"response_format":{"type":"json_schema"}})", 422, "response_format.type"},
      {R"({"model":"m",)" + kMsgs + R"(,"tool_choice":"required"})", 422, "tool_choice"},
      {R"({"model":"m",)" + kMsgs + R"(,"tools":[{"type":"function","function":{"name":"bad name"}}]})", 422, "tools[0].function.name"},
      {R"({"model":"m",)" + kMsgs + R"(,"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}})", 422, "tool_choice"},
      {R"({"model":"m",)" + kMsgs + R"(,"stream":"yes"})", 400, "stream"},
      {R"({"model":"m",)" + kMsgs + R"(,"seed":1.5})", 400, "seed"},
  };
  for (const Case& c : cases) {
    ApiError e = chat_error(c.body);
    EXPECT_EQ(e.status, c.status) << c.body << " -> " << e.message;
    EXPECT_EQ(e.param, c.param) << c.body << " -> " << e.message;
    EXPECT_FALSE(e.message.empty());
    EXPECT_TRUE(nlohmann::json::accept(e.to_json()));
  }
}

TEST(ApiRequest, Completions) {
  auto r = parse_completion_request(R"({"model":"m","prompt":"def f(","suffix":"return 1","max_tokens":8,"logprobs":3})",
                                    RequestLimits{});
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(r));
  const CompletionRequest& c = std::get<CompletionRequest>(r);
  EXPECT_EQ(c.prompt, "def f(");
  EXPECT_EQ(*c.suffix, "return 1");
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.top_logprobs, 3);
  auto bad = parse_completion_request(R"({"model":"m","prompt":7})", RequestLimits{});
  ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
  EXPECT_EQ(std::get<ApiError>(bad).param, "prompt");
  bad = parse_completion_request(R"({"model":"m","prompt":"a","logprobs":21})", RequestLimits{});
  ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
  EXPECT_EQ(std::get<ApiError>(bad).status, 422);
}

}  // namespace
}  // namespace dseek::server
