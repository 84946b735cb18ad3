// `dseek serve MODEL.gguf` on the GGUF file alone, as a llama.cpp user runs
// it: the real binary, started on the tiny V3 model converted at test time
// (with DeepSeek-V3's chat template added to its folder first), must give
// the same prompt tokens and greedy answer tokens as the folder it came
// from, for chat and for /v1/completions. A GGUF without a chat template
// serves completions and refuses chat with a message naming the fix;
// --chat-template-file and --tokenizer supply the template.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "convert/hf_to_gguf.h"
#include "server/http_client.h"
#include "test_data.h"
#include "test_files.h"
#include "util/thread_pool.h"

namespace dseek {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

const char* kTinyModel = "tests/data/models/deepseek-v3-tiny-fp8";
const char* kV3Template = "tests/data/templates/deepseek-ai-DeepSeek-V3.jinja";

// A running `dseek serve`; stopped with SIGTERM when destroyed.
class Server {
 public:
  explicit Server(const std::vector<std::string>& args) {
    log_ = testing::make_temp_dir("serve-gguf") + "/stderr";
    std::vector<std::string> argv_s = {DSEEK_BINARY, "serve"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    for (const char* a : {"--port", "0", "--threads", "1"}) argv_s.push_back(a);
    pid_ = fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log_.c_str(), "w", stderr);
      if (!err) _exit(127);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    const std::string marker = "listening on http://127.0.0.1:";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      const std::string log = log_text();
      if (auto at = log.find(marker); at != std::string::npos) {
        port_ = std::atoi(log.c_str() + at + marker.size());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Server() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }  // 0: it did not start (see log_text)
  std::string log_text() const { return fs::exists(log_) ? testing::read_file(log_) : ""; }

  testing::HttpResponse post(const std::string& path, const json& body) const {
    testing::HttpClient c(port_);
    return c.request("POST", path, body.dump());
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The tiny model's folder with DeepSeek-V3's chat template in its
// tokenizer_config.json, that folder as an f32 GGUF, and the tiny model
// (no template) as an f32 GGUF. Made once per process.
struct Files {
  std::string folder, gguf, plain_gguf;
};

const Files& files() {
  static const Files f = [] {
    Files out;
    out.folder = testing::copy_model_folder(testing::repo_path(kTinyModel), "serve-gguf-folder");
    const std::string config_path = out.folder + "/tokenizer_config.json";
    json config = json::parse(testing::read_file(config_path));
    config["chat_template"] = testing::read_file(testing::repo_path(kV3Template));
    testing::write_file(config_path, config.dump(2));
    const std::string dir = testing::make_temp_dir("serve-gguf-files");
    out.gguf = dir + "/tiny-chat.gguf";
    out.plain_gguf = dir + "/tiny-plain.gguf";
    ThreadPool pool(2);
    ConvertOptions o;
    o.type = DType::F32;
    o.pool = &pool;
    for (auto [src, dst] : {std::pair{out.folder, out.gguf}, std::pair{testing::repo_path(kTinyModel), out.plain_gguf}}) {
      Status s = convert_to_gguf(src, dst, o);
      EXPECT_TRUE(s.ok()) << s.error().message;
    }
    return out;
  }();
  return f;
}

json chat_request() {
  return {{"model", "deepseek-chat"},
          {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}},
                                    {{"role", "user"}, {"content", "Hello there, how are you?"}}})},
          {"max_tokens", 12},
          {"temperature", 0},
          {"logprobs", true}};
}

json completion_request() {
  return {{"model", "deepseek-chat"}, {"prompt", "The quick brown fox"}, {"max_tokens", 12}, {"temperature", 0},
          {"logprobs", 1}};
}

// What a greedy answer is made of: prompt size and the answer's tokens.
struct Answer {
  int status = 0;
  int prompt_tokens = -1;
  std::vector<std::string> tokens;
  std::string text;
};

// A greedy request to the chat or the completions endpoint, read back: the
// two report the answer's tokens and text in different places.
Answer ask(const Server& s, bool chat_endpoint) {
  auto r = chat_endpoint ? s.post("/v1/chat/completions", chat_request())
                         : s.post("/v1/completions", completion_request());
  Answer a;
  a.status = r.status;
  if (r.status != 200) return a;
  const json j = json::parse(r.body);
  const json& choice = j["choices"][0];
  a.prompt_tokens = j["usage"]["prompt_tokens"];
  if (chat_endpoint) {
    for (const json& t : choice["logprobs"]["content"]) a.tokens.push_back(t["token"]);
    a.text = choice["message"]["content"];
  } else {
    for (const json& t : choice["logprobs"]["tokens"]) a.tokens.push_back(t);
    a.text = choice["text"];
  }
  return a;
}

Answer chat(const Server& s) { return ask(s, true); }
Answer complete(const Server& s) { return ask(s, false); }

TEST(ServeGguf, AnswersLikeTheFolderItWasConvertedFrom) {
  const Files& f = files();
  Answer folder_chat, folder_completion;
  {
    Server s({f.folder});
    ASSERT_GT(s.port(), 0) << s.log_text();
    folder_chat = chat(s);
    folder_completion = complete(s);
  }
  Server s({f.gguf});
  ASSERT_GT(s.port(), 0) << s.log_text();
  EXPECT_NE(s.log_text().find("chat template from " + f.gguf + ": tokenizer.chat_template"), std::string::npos)
      << s.log_text();
  const Answer gguf_chat = chat(s), gguf_completion = complete(s);

  ASSERT_EQ(folder_chat.status, 200);
  ASSERT_EQ(gguf_chat.status, 200);
  EXPECT_GT(folder_chat.prompt_tokens, 20);  // the template's text is there
  EXPECT_EQ(gguf_chat.prompt_tokens, folder_chat.prompt_tokens);
  EXPECT_FALSE(folder_chat.tokens.empty());
  EXPECT_EQ(gguf_chat.tokens, folder_chat.tokens);
  EXPECT_EQ(gguf_chat.text, folder_chat.text);

  ASSERT_EQ(folder_completion.status, 200);
  ASSERT_EQ(gguf_completion.status, 200);
  EXPECT_EQ(gguf_completion.prompt_tokens, folder_completion.prompt_tokens);
  EXPECT_FALSE(folder_completion.tokens.empty());
  EXPECT_EQ(gguf_completion.tokens, folder_completion.tokens);
  EXPECT_EQ(gguf_completion.text, folder_completion.text);
}

TEST(ServeGguf, WithoutAChatTemplateServesCompletionsAndRefusesChatClearly) {
  const Files& f = files();
  Server s({f.plain_gguf});
  ASSERT_GT(s.port(), 0) << s.log_text();
  EXPECT_NE(s.log_text().find("has no chat template"), std::string::npos) << s.log_text();
  auto r = s.post("/v1/chat/completions", chat_request());
  EXPECT_EQ(r.status, 422) << r.body;
  const json error = json::parse(r.body)["error"];
  EXPECT_EQ(error["param"], "messages");
  EXPECT_NE(error["message"].get<std::string>().find("no tokenizer.chat_template"), std::string::npos) << r.body;
  EXPECT_NE(error["message"].get<std::string>().find("--chat-template-file"), std::string::npos) << r.body;
  EXPECT_EQ(complete(s).status, 200);
}

TEST(ServeGguf, ChatTemplateFileAndTokenizerGiveTheTemplate) {
  const Files& f = files();
  Answer reference;
  {
    Server s({f.gguf});
    ASSERT_GT(s.port(), 0) << s.log_text();
    reference = chat(s);
    ASSERT_EQ(reference.status, 200);
  }
  {
    const std::string file = testing::repo_path(kV3Template);
    Server s({f.plain_gguf, "--chat-template-file", file});
    ASSERT_GT(s.port(), 0) << s.log_text();
    EXPECT_NE(s.log_text().find("chat template from " + file), std::string::npos) << s.log_text();
    const Answer a = chat(s);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(a.prompt_tokens, reference.prompt_tokens);
    EXPECT_EQ(a.tokens, reference.tokens);
  }
  {
    Server s({f.plain_gguf, "--tokenizer", f.folder});
    ASSERT_GT(s.port(), 0) << s.log_text();
    EXPECT_NE(s.log_text().find("chat template from " + f.folder), std::string::npos) << s.log_text();
    const Answer a = chat(s);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(a.tokens, reference.tokens);
  }
}

}  // namespace
}  // namespace dseek
