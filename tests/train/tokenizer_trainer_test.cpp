// `dseek train tokenizer` against Hugging Face's JavaScript tokenizers: a
// tokenizer trained on the repository's own text is loaded by
// @lenml/tokenizers and @huggingface/tokenizers (tests/train/tokenizer_js.mjs)
// and by dseek's tokenizer, which must agree id for id on held-out text;
// the reserved chat/reasoning tokens are single ids everywhere; the chat
// template renders the same with @huggingface/jinja and with dseek's Jinja.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "test_data.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"
#include "train/tokenizer_trainer.h"

namespace dseek::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Text the tokenizer is trained on: the repository's documentation and scripts.
std::vector<std::string> training_files() {
  std::vector<std::string> files;
  for (const char* dir : {"docs", "tools/reference", "tools/corpus"})
    for (const auto& e : fs::directory_iterator(repo_path(dir)))
      if (e.is_regular_file() && (e.path().extension() == ".md" || e.path().extension() == ".py"))
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// Held out: text none of the training files contain, and the awkward cases.
std::vector<std::string> held_out() {
  return {
      "The quick brown fox jumps over the lazy dog, 1234567 times; 3.14159 != 2.71828.",
      "for (int i = 0; i < n; ++i) { sum += x[i] * w[i]; }  // dot product\n\treturn sum;\n",
      "caf\u00e9 na\u00efve r\u00e9sum\u00e9, \u00dcbermut, \u0161\u010de\u0159",
      "\u4e2d\u6587\u5b57\u7b26\u548c\u65e5\u672c\u8a9e\u306e\u3072\u3089\u304c\u306a\u3068\u30ab\u30bf\u30ab\u30ca",
      "emoji \U0001F642\U0001F680 and symbols \u00a9 \u2192 \u221e",
      "a  b   c\n\n\n  indented\r\nwindows line\t\ttabs   ",
      "<\uff5cUser\uff5c>What is 2+2?<\uff5cAssistant\uff5c><think>\n2+2=4\n</think>\n\n4",
      "<\uff5cfim\u2581begin\uff5c>def f(x):\n    <\uff5cfim\u2581hole\uff5c>\n<\uff5cfim\u2581end\uff5c>",
      "<think not a token <\uff5cUser> either",
      "<\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>function<\uff5ctool\u2581sep\uff5c>f"
      "<\uff5ctool\u2581call\u2581end\uff5c><\uff5ctool\u2581calls\u2581end\uff5c>",
      "",
  };
}

struct Trained {
  std::string dir;
  json js;
};

const Trained& trained() {
  static Trained* t = [] {
    auto* t = new Trained;
    t->dir = make_temp_dir("tok_train");
    train::TokenizerTrainOptions o;
    o.inputs = training_files();
    o.vocab_size = 1000;
    auto r = train::train_tokenizer(o, t->dir);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return t;
    EXPECT_EQ(r->vocab_size, 1000);
    const std::string texts = t->dir + "/held_out.json";
    write_file(texts, json(held_out()).dump());
    const std::string out = t->dir + "/js.json";
    const std::string err = t->dir + "/node.stderr";
    const std::string cmd = "cd '" + repo_path("") + "' && node tests/train/tokenizer_js.mjs '" + t->dir + "' '" + texts +
                            "' '" + out + "' 2>'" + err + "'";
    const int status = std::system(cmd.c_str());
    std::string message = read_file(err);
    if (message.size() > 2000) message = "..." + message.substr(message.size() - 2000);  // minified sources are long
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node failed (npm ci?): " << cmd << "\n" << message;
    if (fs::exists(out)) t->js = json::parse(read_file(out));
    return t;
  }();
  return *t;
}

TEST(TokenizerTrainer, JavaScriptTokenizersAndDseekAgreeOnHeldOutText) {
  const Trained& t = trained();
  ASSERT_TRUE(t.js.contains("lenml"));
  auto tok = Tokenizer::from_folder(t.dir);
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_EQ(tok->vocab_size(), 1000);
  EXPECT_EQ(tok->bos_id(), 0);
  EXPECT_EQ(tok->eos_id(), 1);
  const auto texts = held_out();
  for (size_t i = 0; i < texts.size(); ++i) {
    auto with = tok->encode(texts[i]);
    ASSERT_TRUE(with) << with.error().message;
    EncodeOptions plain_options;
    plain_options.add_special_tokens = false;
    auto plain = tok->encode(texts[i], plain_options);
    ASSERT_TRUE(plain);
    const auto lenml = t.js["lenml"][i].get<std::vector<int32_t>>();
    EXPECT_EQ(with.value(), lenml) << "text " << i << ": " << texts[i];
    EXPECT_EQ(with.value(), t.js["hf"][i].get<std::vector<int32_t>>()) << "text " << i;
    EXPECT_EQ(plain.value(), t.js["lenml_plain"][i].get<std::vector<int32_t>>()) << "text " << i;
    EXPECT_EQ(plain.value(), t.js["hf_plain"][i].get<std::vector<int32_t>>()) << "text " << i;
    ASSERT_FALSE(lenml.empty());
    EXPECT_EQ(lenml.front(), 0) << "BOS first";
    EXPECT_EQ(tok->decode(plain.value()), texts[i]) << "round trip " << i;
    EXPECT_EQ(t.js["decoded"][i].get<std::string>(), texts[i]) << "JS round trip " << i;
  }
}

TEST(TokenizerTrainer, ReservedTokensAreSingleIds) {
  const Trained& t = trained();
  auto tok = Tokenizer::from_folder(t.dir);
  ASSERT_TRUE(tok);
  const auto& lead = train::reserved_leading_tokens();
  const auto& trail = train::reserved_trailing_tokens();
  std::vector<std::pair<std::string, int32_t>> expected;
  for (size_t i = 0; i < lead.size(); ++i) expected.push_back({lead[i], static_cast<int32_t>(i)});
  for (size_t i = 0; i < trail.size(); ++i)
    expected.push_back({trail[i], static_cast<int32_t>(1000 - trail.size() + i)});
  EncodeOptions o;
  o.add_special_tokens = false;
  for (const auto& [text, id] : expected) {
    auto ids = tok->encode(text, o);
    ASSERT_TRUE(ids);
    EXPECT_EQ(ids.value(), std::vector<int32_t>{id}) << text;
  }
  // In the JS tokenizer too: the held-out chat text starts with <｜User｜>.
  EXPECT_EQ(t.js["lenml_plain"][6][0].get<int32_t>(), static_cast<int32_t>(1000 - trail.size()));
}

TEST(TokenizerTrainer, ChatTemplateRendersTheR1Format) {
  const Trained& t = trained();
  ASSERT_TRUE(t.js.contains("chat"));
  const std::string want =
      "<\uff5cbegin\u2581of\u2581sentence\uff5c>You are terse.<\uff5cUser\uff5c>What is 2 + 3?<\uff5cAssistant\uff5c>\n\n5"
      "<\uff5cend\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>And 4 + 4?<\uff5cAssistant\uff5c><think>\n";
  EXPECT_EQ(t.js["chat"].get<std::string>(), want) << "@huggingface/jinja";
  auto tmpl = chat::ChatTemplate::load(t.dir);
  ASSERT_TRUE(tmpl) << tmpl.error().message;
  chat::ChatRequest req;
  req.messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 2 + 3?"},
    {"role": "assistant", "content": "<think>\n2 + 3 = 5\n</think>\n\n5"},
    {"role": "user", "content": "And 4 + 4?"}])");
  req.add_generation_prompt = true;
  auto text = tmpl->render(req);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text.value(), want) << "dseek's Jinja";
  auto tok = Tokenizer::from_folder(t.dir);
  ASSERT_TRUE(tok);
  EncodeOptions o;
  o.add_special_tokens = false;
  auto ids = tok->encode(want, o);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids.value(), t.js["chat_ids"].get<std::vector<int32_t>>());
}

TEST(TokenizerTrainer, BadInput) {
  const std::string dir = make_temp_dir("tok_bad");
  train::TokenizerTrainOptions o;
  o.inputs = {repo_path("docs/training.md")};
  o.vocab_size = 100;
  auto r = train::train_tokenizer(o, dir);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("too small"), std::string::npos) << r.error().message;
  write_file(dir + "/latin1.txt", "d\xe9j\xe0 vu");
  o.inputs = {dir + "/latin1.txt"};
  o.vocab_size = 1000;
  r = train::train_tokenizer(o, dir + "/out");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("latin1.txt: not UTF-8 text (invalid byte at offset 1)"), std::string::npos)
      << r.error().message;
  write_file(dir + "/empty.jsonl", "\n\n");
  o.inputs = {dir + "/empty.jsonl"};
  r = train::train_tokenizer(o, dir + "/out");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("holds no text"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace dseek::testing
