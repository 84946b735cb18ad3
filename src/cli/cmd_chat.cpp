// dseek chat [MODEL]: a conversation in the terminal.
//
// Each turn re-renders the whole conversation with the model's chat template
// (as DeepSeek's templates expect: earlier answers without their reasoning)
// and only computes the tokens the cache does not already hold. Reasoning
// streams dimmed, apart from the answer. Ctrl-C stops the current answer and
// keeps the session; Ctrl-D or /quit leaves.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "text/generation.h"
#include "tokenizer/load.h"

namespace dseek::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted = true; }

// SIGINT without SA_RESTART: a Ctrl-C at the prompt interrupts read() with
// EINTR instead of killing the process.
void install_sigint_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
}

enum class LineStatus { kLine, kEnd, kInterrupted };

// One line from stdin, read with read(2) so that Ctrl-C (EINTR) is seen.
LineStatus read_line(std::string& line) {
  line.clear();
  for (;;) {
    char c;
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n == 1) {
      if (c == '\n') return LineStatus::kLine;
      line += c;
      continue;
    }
    if (n == 0) return line.empty() ? LineStatus::kEnd : LineStatus::kLine;
    if (errno == EINTR && g_interrupted.exchange(false)) return LineStatus::kInterrupted;
    if (errno != EINTR) return LineStatus::kEnd;
  }
}

struct Style {
  bool color = false;
  const char* dim() const { return color ? "\x1b[2m" : ""; }
  const char* bold() const { return color ? "\x1b[1m" : ""; }
  const char* reset() const { return color ? "\x1b[0m" : ""; }
};

void out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// The default model: $DSEEK_MODEL, else ~/.local/share/dseek/default.
std::string default_model_path() {
  if (const char* env = std::getenv("DSEEK_MODEL"); env && *env) return env;
  const char* data = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  if (data && *data) return std::string(data) + "/dseek/default";
  return std::string(home ? home : ".") + "/.local/share/dseek/default";
}

const char* kHelp =
    "/reset          start a new conversation (keeps the system prompt)\n"
    "/system TEXT    set the system prompt and start over (/system alone clears it)\n"
    "/temp T         sampling temperature (0 = greedy)\n"
    "/quit           leave (or Ctrl-D); Ctrl-C stops an answer\n";

}  // namespace

void register_chat(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("chat", "talk with a model in the terminal");
  struct Options {
    ModelOptions model;
    std::string system;
    int64_t max_tokens = 2048;
    int64_t context = 0;
    bool no_color = false;
    SamplingFlags sampling;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model.model_path, "model folder or .gguf (default: $DSEEK_MODEL or the installed default)");
  cmd->add_option("--threads,-t", o->model.threads, "threads (default: physical cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--system", o->system, "system prompt");
  cmd->add_option("--max-tokens", o->max_tokens, "longest answer, in tokens")->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--ctx", o->context, "context length (default: the model's, at most 32768)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--no-color", o->no_color, "plain output (no dim reasoning)");
  add_sampling_options(*cmd, o->sampling);
  cmd->callback([o, &exit_code] {
    if (o->model.model_path.empty()) {
      o->model.model_path = default_model_path();
      if (!std::filesystem::exists(o->model.model_path)) {
        exit_code = report(Error{"no MODEL given and no default model at " + o->model.model_path +
                                 " (set DSEEK_MODEL or pass a model folder or .gguf)"});
        return;
      }
    }
    auto loaded = load(o->model);
    if (!loaded) {
      exit_code = report(loaded.error());
      return;
    }
    auto tokenizer = load_tokenizer(o->model.model_path);
    if (!tokenizer) {
      exit_code = report(tokenizer.error());
      return;
    }
    auto chat_template = chat::ChatTemplate::load(o->model.model_path);
    if (!chat_template) {
      exit_code = report(Error{chat_template.error().message + " (dseek chat needs a chat template)"});
      return;
    }
    Model& model = *loaded->model;
    const ModelConfig& c = model.config();
    const int64_t context = o->context > 0 ? std::min(o->context, c.max_position_embeddings)
                                           : std::min<int64_t>(c.max_position_embeddings, 32768);
    TextGenerator generator(model, tokenizer.value(), context);
    SamplingParams sampling = o->sampling.params();
    std::vector<int32_t> stop_tokens(c.eos_token_ids.begin(), c.eos_token_ids.end());
    if (tokenizer->eos_id() >= 0) stop_tokens.push_back(tokenizer->eos_id());

    Style style;
    style.color = !o->no_color && isatty(STDOUT_FILENO);
    install_sigint_handler();
    std::string system = o->system;
    nlohmann::ordered_json history = nlohmann::ordered_json::array();
    std::printf("dseek chat: %s (%s, context %lld tokens). /help for commands.\n", o->model.model_path.c_str(),
                std::string(family_name(c.family)).c_str(), static_cast<long long>(context));
    for (;;) {
      out(std::string("\n") + style.bold() + "> " + style.reset());
      std::string line;
      LineStatus status = read_line(line);
      if (status == LineStatus::kEnd) {
        out("\n");
        return;
      }
      if (status == LineStatus::kInterrupted) {
        out("\n(Ctrl-D or /quit to leave)\n");
        continue;
      }
      if (line.empty()) continue;
      if (line[0] == '/') {
        const size_t space = line.find(' ');
        const std::string command = line.substr(0, space);
        const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
        if (command == "/quit" || command == "/exit") return;
        if (command == "/help") {
          out(kHelp);
        } else if (command == "/reset") {
          history = nlohmann::ordered_json::array();
          generator.reset();
          out("(conversation reset)\n");
        } else if (command == "/system") {
          system = arg;
          history = nlohmann::ordered_json::array();
          generator.reset();
          out(system.empty() ? "(system prompt cleared; conversation reset)\n" : "(system prompt set; conversation reset)\n");
        } else if (command == "/temp") {
          char* end = nullptr;
          const double t = std::strtod(arg.c_str(), &end);
          SamplingParams candidate = sampling;
          candidate.temperature = t;
          if (arg.empty() || *end != '\0' || !candidate.validate()) {
            out("(usage: /temp T with T in [0, 100])\n");
          } else {
            sampling = candidate;
            out("(temperature " + arg + ")\n");
          }
        } else {
          out("(unknown command " + command + "; /help lists them)\n");
        }
        continue;
      }

      history.push_back({{"role", "user"}, {"content", line}});
      chat::ChatRequest request;
      if (!system.empty()) request.messages.push_back({{"role", "system"}, {"content", system}});
      for (const auto& m : history) request.messages.push_back(m);
      request.add_generation_prompt = true;
      auto prompt_text = chat_template->render(request);
      if (!prompt_text) {
        history.erase(history.end() - 1);
        out("(template error: " + prompt_text.error().message + ")\n");
        continue;
      }
      EncodeOptions encode;
      encode.add_special_tokens = false;  // the template writes BOS itself
      auto prompt = tokenizer->encode(prompt_text.value(), encode);
      if (!prompt || static_cast<int64_t>(prompt->size()) + 1 > context) {
        history.erase(history.end() - 1);
        out(prompt ? "(the conversation no longer fits the context of " + std::to_string(context) +
                         " tokens; /reset to start over)\n"
                   : "(" + prompt.error().message + ")\n");
        continue;
      }
      const std::string& text = prompt_text.value();
      TextGenerationOptions options;
      options.sampling = sampling;
      options.max_new_tokens = o->max_tokens;
      options.stop_tokens = stop_tokens;
      options.split_reasoning = true;
      options.starts_in_reasoning = text.size() >= 7 && text.find("<think>", text.size() - 9) != std::string::npos;
      options.interrupt = &g_interrupted;
      g_interrupted = false;
      bool showed_reasoning = false, showed_content = false;
      TextCallbacks callbacks;
      callbacks.on_reasoning = [&](std::string_view r) {
        if (!showed_reasoning) out(std::string(style.dim()) + "Thinking:\n");
        showed_reasoning = true;
        out(std::string(style.dim()) + std::string(r) + style.reset());
      };
      callbacks.on_content = [&](std::string_view t) {
        if (!showed_content && showed_reasoning) out(std::string(style.reset()) + "\n\n");
        showed_content = true;
        out(t);
      };
      auto result = generator.generate(prompt.value(), options, callbacks);
      out(style.reset());
      if (!result) {
        history.erase(history.end() - 1);
        out("\n(error: " + result.error().message + ")\n");
        continue;
      }
      const double seconds = result->decode_seconds;
      char stats[256];
      std::snprintf(stats, sizeof stats, "\n%s[%zu tokens, %.1f tok/s; prompt %lld tokens, %lld from cache%s]%s\n",
                    style.dim(), result->tokens.size(), seconds > 0 ? result->tokens.size() / seconds : 0.0,
                    static_cast<long long>(result->prompt_tokens), static_cast<long long>(result->reused_prompt_tokens),
                    result->finish_reason == "interrupted" ? "; interrupted"
                    : result->finish_reason == "length"    ? "; stopped at --max-tokens"
                                                           : "",
                    style.reset());
      out(stats);
      history.push_back({{"role", "assistant"}, {"content", result->content}});
    }
  });
}

}  // namespace dseek::cli
