// dseek's chat-template renderer against the independent reference,
// @huggingface/jinja (the renderer of transformers.js), which
// tools/template-reference/render.mjs runs under Node on every test run:
//  - every real template in tests/data/templates x every conversation in
//    tests/chat/conversations.json x add_generation_prompt false/true, plus
//    DeepSeek-V3's real tokenizer_config.json loaded by dseek's loader;
//  - every language snippet in tests/chat/snippets.json.
// Outputs must be byte-identical, and where the reference fails dseek must
// fail too, with a located message. Without Node or node_modules (npm ci)
// these tests fail; they never skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "chat/chat_template.h"
#include "chat/jinja/template.h"
#include "test_data.h"

namespace dseek::testing {
namespace {

using nlohmann::ordered_json;

struct ReferenceRun {
  std::string error;  // why there are no cases
  ordered_json doc;
};

ReferenceRun run_reference(const std::string& suite) {
  ReferenceRun run;
  const std::string command =
      "cd '" + repo_path("") + "' && node tools/template-reference/render.mjs " + suite + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    run.error = "cannot run: " + command;
    return run;
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  const int status = pclose(pipe);
  if (status != 0) {
    run.error = "`" + command + "` failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                "); the reference needs Node and `npm ci` at the repository root. Output:\n" + text.substr(0, 2000);
    return run;
  }
  try {
    run.doc = ordered_json::parse(text);
  } catch (const std::exception& e) {
    run.error = std::string("the reference printed no JSON: ") + e.what() + "\n" + text.substr(0, 2000);
  }
  return run;
}

const ReferenceRun& reference(const std::string& suite) {
  static std::map<std::string, ReferenceRun> runs;
  auto it = runs.find(suite);
  if (it == runs.end()) it = runs.emplace(suite, run_reference(suite)).first;
  return it->second;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string escaped(const std::string& s, size_t from, size_t len) {
  std::string out;
  for (size_t i = from; i < s.size() && i < from + len; ++i) {
    const char c = s[i];
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

// The first difference, with context, for the failure message.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + " (reference " + std::to_string(want.size()) +
         " bytes, dseek " + std::to_string(got.size()) + ")\n  reference: ..." + escaped(want, from, 100) +
         "\n  dseek:     ..." + escaped(got, from, 100);
}

Result<std::string> render_with_dseek(const ordered_json& c) {
  const ordered_json& context = c.contains("dseek_context") ? c["dseek_context"] : c["context"];
  if (c.contains("tokenizer_config")) {
    auto chat = chat::ChatTemplate::load(repo_path(c["tokenizer_config"].get<std::string>()));
    if (!chat) return chat.error();
    // The tokens are the loader's, not the case's: check they agree.
    EXPECT_EQ(chat->bos_token().value_or("<none>"), context.value("bos_token", "<none>")) << c["id"];
    EXPECT_EQ(chat->eos_token().value_or("<none>"), context.value("eos_token", "<none>")) << c["id"];
    chat::ChatRequest request;
    for (const auto& [key, value] : context.items()) {
      if (key == "messages") request.messages = value;
      else if (key == "tools") request.tools = value;
      else if (key == "add_generation_prompt") request.add_generation_prompt = value.get<bool>();
      else if (key != "bos_token" && key != "eos_token") request.extra[key] = value;
    }
    return chat->render(request);
  }
  const std::string text =
      c.contains("template_file") ? read_file(repo_path(c["template_file"].get<std::string>())) : c["template"].get<std::string>();
  auto t = jinja::Template::parse(text);
  if (!t) return t.error();
  return t->render(context);
}

// Compares every case of a suite; returns how many there were.
size_t compare_suite(const std::string& suite) {
  const ReferenceRun& run = reference(suite);
  if (!run.error.empty()) {
    ADD_FAILURE() << run.error;
    return 0;
  }
  EXPECT_EQ(run.doc.value("format", ""), "dseek-template-reference");
  size_t failures = 0;
  const auto& cases = run.doc["cases"];
  for (const auto& c : cases) {
    const std::string id = c["id"].get<std::string>();
    const ordered_json& expected = c["expected"];
    Result<std::string> got = render_with_dseek(c);
    if (expected.contains("output")) {
      const std::string want = expected["output"].get<std::string>();
      if (!got.ok()) {
        ADD_FAILURE() << id << ": the reference renders, dseek fails: " << got.error().message;
        ++failures;
      } else if (got.value() != want) {
        ADD_FAILURE() << id << ": output differs from the reference\n" << first_difference(want, got.value());
        ++failures;
      }
    } else {
      if (got.ok()) {
        ADD_FAILURE() << id << ": the reference fails (" << expected["error"].get<std::string>()
                      << "), dseek renders: " << got.value().substr(0, 200);
        ++failures;
      } else {
        // dseek's errors are located in the template (or name the variables).
        const std::string& m = got.error().message;
        EXPECT_TRUE(m.find("line ") != std::string::npos || m.rfind("template variables: ", 0) == 0) << id << ": " << m;
      }
    }
    if (failures > 30) {
      ADD_FAILURE() << "stopping after 30 differences";
      break;
    }
  }
  return cases.size();
}

TEST(TemplateReference, RealTemplatesMatchHuggingFaceJinja) {
  const size_t n = compare_suite("templates");
  // 18 templates x 13 conversations x 2, plus the tokenizer_config.json cases.
  EXPECT_GE(n, 400u);
}

TEST(TemplateReference, LanguageSnippetsMatchHuggingFaceJinja) {
  const size_t n = compare_suite("snippets");
  EXPECT_GE(n, 200u);
}

// Some of those cases fail in the reference; make sure they still exercise
// what they should: a raise_exception message reaches the error.
TEST(TemplateReference, RaiseExceptionMessageIsKept) {
  const std::string text = read_file(repo_path("tests/data/templates/meta-llama-Llama-3.1-8B-Instruct.jinja"));
  auto t = jinja::Template::parse(text);
  ASSERT_TRUE(t.ok()) << t.error().message;
  const auto context = ordered_json::parse(R"({"messages": [
      {"role": "user", "content": "hi"},
      {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "a", "arguments": {}}},
        {"type": "function", "function": {"name": "b", "arguments": {}}}]}]})");
  auto out = t->render(context);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("This model only supports single tool-calls at once!"), std::string::npos)
      << out.error().message;
  EXPECT_EQ(out.error().message.rfind("line 71, column ", 0), 0u) << out.error().message;
}

}  // namespace
}  // namespace dseek::testing
