// dseek chat in a real terminal: tmux runs it, send-keys types, capture-pane
// reads the screen (with its escape codes). Checks streaming, dimmed
// reasoning, tokens/s, the kept conversation, the slash commands, and that
// Ctrl-C stops an answer without ending the session.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include "test_data.h"
#include "test_files.h"

namespace dseek {
namespace {

using namespace std::chrono_literals;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A tmux server of its own (-L), so tests never touch a user's sessions.
class Tmux {
 public:
  explicit Tmux(const std::string& command) : socket_("dseek-test-" + std::to_string(::getpid())) {
    run("new-session -d -s chat -x 200 -y 60 " + quote(command));
  }
  ~Tmux() { run("kill-server"); }

  int run(const std::string& args) const {
    return std::system(("tmux -L " + socket_ + " " + args + " >/dev/null 2>&1").c_str());
  }
  std::string screen() const {
    std::string out;
    FILE* p = popen(("tmux -L " + socket_ + " capture-pane -p -e -J -S -1000 -t chat 2>/dev/null").c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
  }
  void type(const std::string& text) const {
    run("send-keys -t chat -l " + quote(text));
    run("send-keys -t chat Enter");
  }
  void keys(const std::string& keys) const { run("send-keys -t chat " + keys); }
  bool alive() const { return run("has-session -t chat") == 0; }

  // Waits until the screen holds `count` occurrences of `text`.
  bool wait_for(const std::string& text, int count = 1, std::chrono::seconds timeout = 60s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string s = screen();
      int found = 0;
      for (size_t at = s.find(text); at != std::string::npos; at = s.find(text, at + 1)) ++found;
      if (found >= count) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

 private:
  std::string socket_;
};

// A model folder with a chat template: a committed tiny model plus a template.
std::string with_template(const std::string& model_dir, const std::string& template_file) {
  std::string dir = testing::copy_model_folder(model_dir, "chat-model");
  auto config = nlohmann::json::parse(testing::read_file(dir + "/tokenizer_config.json"));
  config["chat_template"] = testing::read_file(testing::repo_path("tests/data/templates/" + template_file));
  testing::write_file(dir + "/tokenizer_config.json", config.dump());
  return dir;
}

TEST(ChatTerminal, ConversationCommandsAndDimmedReasoning) {
  ASSERT_EQ(std::system("command -v tmux >/dev/null"), 0) << "tmux is required (scripts/setup.sh installs it)";
  const std::string model = with_template(testing::repo_path("tests/data/models/deepseek-v3-tiny-fp8"),
                                          "deepseek-ai-DeepSeek-R1.jinja");
  Tmux tmux(std::string(DSEEK_BINARY) + " chat " + quote(model) + " --max-tokens 16 --seed 7");
  ASSERT_TRUE(tmux.wait_for("/help for commands")) << tmux.screen();
  tmux.type("What is two plus two?");
  ASSERT_TRUE(tmux.wait_for("tok/s")) << tmux.screen();
  std::string screen = tmux.screen();
  // R1's template opens <think>: the answer streams as reasoning, dimmed.
  EXPECT_NE(screen.find("\x1b[2mThinking:"), std::string::npos) << screen;
  // "[N tokens, X tok/s; ..." with N at most --max-tokens (EOS may end it sooner).
  const std::regex stats(R"(\[(\d+) tokens, [0-9.]+ tok/s)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(screen, match, stats)) << screen;
  EXPECT_LE(std::stoi(match[1]), 16);
  EXPECT_NE(screen.find("0 from cache"), std::string::npos) << screen;

  // The second turn re-renders the conversation and reuses the cached prefix.
  tmux.type("And three plus three?");
  ASSERT_TRUE(tmux.wait_for("tok/s", 2)) << tmux.screen();
  screen = tmux.screen();
  const size_t second = screen.rfind("from cache");
  const size_t open = screen.rfind("tokens, ", second);
  ASSERT_NE(second, std::string::npos);
  const long reused = std::strtol(screen.c_str() + open + 8, nullptr, 10);
  EXPECT_GT(reused, 20) << screen.substr(open, second - open);

  tmux.type("/temp 0");
  ASSERT_TRUE(tmux.wait_for("(temperature 0)")) << tmux.screen();
  tmux.type("/temp hot");
  ASSERT_TRUE(tmux.wait_for("(usage: /temp T")) << tmux.screen();
  tmux.type("/system You are terse.");
  ASSERT_TRUE(tmux.wait_for("(system prompt set; conversation reset)")) << tmux.screen();
  tmux.type("Hi");
  ASSERT_TRUE(tmux.wait_for("tok/s", 3)) << tmux.screen();
  EXPECT_NE(tmux.screen().rfind("0 from cache"), std::string::npos);
  tmux.type("/reset");
  ASSERT_TRUE(tmux.wait_for("(conversation reset)")) << tmux.screen();
  tmux.type("/frobnicate");
  ASSERT_TRUE(tmux.wait_for("(unknown command /frobnicate")) << tmux.screen();
  tmux.type("/quit");
  for (int i = 0; i < 100 && tmux.alive(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(tmux.alive()) << "/quit did not end the session";
}

TEST(ChatTerminal, CtrlCStopsTheAnswerNotTheSession) {
  ASSERT_EQ(std::system("command -v tmux >/dev/null"), 0) << "tmux is required (scripts/setup.sh installs it)";
  // A slow model: 0.5 GB of (zero) weights read per token, with a real tokenizer and template.
  std::string dir = testing::make_sparse_llama(1024, 4096, 8, 384, {{"bos_token_id", 381}, {"eos_token_id", 382}});
  const std::string tokenizer = testing::repo_path("tests/data/tokenizers/llama3-micro");
  testing::write_file(dir + "/tokenizer.json", testing::read_file(tokenizer + "/tokenizer.json"));
  auto config = nlohmann::json::parse(testing::read_file(tokenizer + "/tokenizer_config.json"));
  config["chat_template"] =
      testing::read_file(testing::repo_path("tests/data/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"));
  testing::write_file(dir + "/tokenizer_config.json", config.dump());

  Tmux tmux(std::string(DSEEK_BINARY) + " chat " + quote(dir) + " --max-tokens 3000 --temp 0 --no-color");
  ASSERT_TRUE(tmux.wait_for("/help for commands")) << tmux.screen();
  tmux.type("Tell me a long story.");
  ASSERT_TRUE(tmux.wait_for("Thinking:")) << tmux.screen();
  std::this_thread::sleep_for(1500ms);
  tmux.keys("C-c");
  ASSERT_TRUE(tmux.wait_for("interrupted]", 1, 30s)) << tmux.screen();
  EXPECT_TRUE(tmux.alive());
  // Ctrl-C at the prompt does not leave either.
  tmux.keys("C-c");
  ASSERT_TRUE(tmux.wait_for("(Ctrl-D or /quit to leave)")) << tmux.screen();
  tmux.type("/help");
  ASSERT_TRUE(tmux.wait_for("/reset          start a new conversation")) << tmux.screen();
  tmux.keys("C-d");
  for (int i = 0; i < 100 && tmux.alive(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(tmux.alive()) << "Ctrl-D did not end the session";
}

}  // namespace
}  // namespace dseek
