// dseek template MODEL --messages FILE.json [--add-generation-prompt] [--tools FILE.json]
// Prints the prompt the model's chat template makes of a conversation, byte
// for byte: nothing is added (no final newline) and nothing is trimmed.
// MODEL needs only tokenizer_config.json (or chat_template.jinja).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "util/mapped_file.h"

namespace dseek::cli {

namespace {

struct TemplateOptions {
  std::string model_path;
  std::string messages_path;
  std::string tools_path;
  std::string template_path;
  bool add_generation_prompt = false;
  std::vector<std::string> vars;
};

Result<std::string> read_input(const std::string& path) {
  if (path != "-") return read_text_file(path);
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
  return text;
}

Result<std::string> run(const TemplateOptions& o) {
  Result<chat::ChatTemplate> loaded = Error{""};
  if (!o.template_path.empty()) {
    auto text = read_text_file(o.template_path);
    if (!text) return text.error();
    // Tokens still come from the model folder when it has them.
    std::optional<std::string> bos, eos;
    if (auto model = chat::ChatTemplate::load(o.model_path)) {
      bos = model->bos_token();
      eos = model->eos_token();
    }
    loaded = chat::ChatTemplate::from_text(text.value(), bos, eos, o.template_path);
  } else {
    loaded = chat::ChatTemplate::load(o.model_path);
  }
  if (!loaded) return loaded.error();

  auto messages_text = read_input(o.messages_path);
  if (!messages_text) return messages_text.error();
  auto request = chat::parse_chat_request(messages_text.value(), "--messages " + o.messages_path);
  if (!request) return request.error();
  if (o.add_generation_prompt) request->add_generation_prompt = true;
  if (!o.tools_path.empty()) {
    auto tools_text = read_input(o.tools_path);
    if (!tools_text) return tools_text.error();
    try {
      auto tools = nlohmann::ordered_json::parse(tools_text.value());
      if (tools.is_object() && tools.contains("tools")) tools = tools["tools"];
      if (!tools.is_array()) return Error{"--tools " + o.tools_path + ": expected a JSON array of tools"};
      request->tools = std::move(tools);
    } catch (const nlohmann::json::exception& e) {
      return Error{"--tools " + o.tools_path + ": not valid JSON (" + e.what() + ")"};
    }
  }
  for (const std::string& var : o.vars) {
    const size_t eq = var.find('=');
    if (eq == std::string::npos || eq == 0) return Error{"--var " + var + ": expected NAME=VALUE"};
    const std::string name = var.substr(0, eq);
    const std::string value = var.substr(eq + 1);
    // JSON when it parses (true, 3, "x", [..]), else the text itself.
    nlohmann::ordered_json v = nlohmann::ordered_json::parse(value, nullptr, false);
    if (v.is_discarded()) v = value;
    request->extra[name] = std::move(v);
  }
  return loaded->render(request.value());
}

}  // namespace

void register_template(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("template", "print the prompt a model's chat template makes of a conversation");
  auto o = std::make_shared<TemplateOptions>();
  cmd->add_option("MODEL", o->model_path, "model folder (tokenizer_config.json is enough) or tokenizer_config.json")
      ->required();
  cmd->add_option("--messages", o->messages_path,
                  "JSON file ('-' for stdin): an array of messages, or an object with \"messages\", \"tools\", "
                  "\"add_generation_prompt\" and other template variables")
      ->required();
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt, "end with the assistant's turn opening");
  cmd->add_option("--tools", o->tools_path, "JSON file with the tools array (OpenAI format)");
  cmd->add_option("--chat-template", o->template_path, "render this Jinja file instead of the model's template");
  cmd->add_option("--var", o->vars, "extra template variable NAME=VALUE (VALUE as JSON, else as text); repeatable");
  cmd->callback([o, &exit_code] {
    auto prompt = run(*o);
    if (!prompt) {
      exit_code = report(prompt.error());
      return;
    }
    std::fwrite(prompt->data(), 1, prompt->size(), stdout);
    std::fflush(stdout);
  });
}

}  // namespace dseek::cli
