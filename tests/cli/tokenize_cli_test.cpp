// dseek tokenize / detokenize as scripts call them, on a folder that holds
// only tokenizer.json and tokenizer_config.json. Expected ids are those of
// Hugging Face's JS tokenizer (@huggingface/tokenizers) for the
// deepseek-llm-micro tokenizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "test_data.h"
#include "dseek_cli.h"
#include "test_files.h"

namespace dseek {
namespace {

using testing::CliRun;

std::string quote(const std::string& s) { return testing::shell_quote(s); }
CliRun run(const std::string& args) { return testing::run_dseek(args); }

// A folder with nothing but the two tokenizer files.
std::string tokenizer_only_folder() {
  static const std::string dir = [] {
    std::string d = testing::make_temp_dir("tokonly");
    const std::string src = testing::repo_path("tests/data/tokenizers/deepseek-llm-micro/");
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      std::filesystem::copy_file(src + f, d + "/" + f);
    return d;
  }();
  return dir;
}

TEST(TokenizeCli, IdsWithAndWithoutSpecialTokens) {
  const std::string m = quote(tokenizer_only_folder());
  CliRun r = run("tokenize " + m + " --text 'Hello world'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "382,39,282,75,78,259,256,75,67\n");
  r = run("tokenize " + m + " --text 'Hello world' --no-special");
  EXPECT_EQ(r.out, "39,282,75,78,259,256,75,67\n");
  r = run("tokenize " + m + " --text 'a<｜end▁of▁sentence｜>b' --no-special");
  EXPECT_EQ(r.out, "64,383,65\n");
  // --split-special: the special token's text is ordinary text.
  r = run("tokenize " + m + " --text 'a<｜end▁of▁sentence｜>b' --no-special --split-special");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("383"), std::string::npos) << r.out;
}

TEST(TokenizeCli, FileBytesWithInvalidUtf8) {
  const std::string file = testing::make_temp_dir("tokcli") + "/input.txt";
  testing::write_file(file, "x\xFFy \xE4\xB8\xAD");  // the JS reference saw "x\uFFFDy 中"
  CliRun r = run("tokenize " + quote(tokenizer_only_folder()) + " --file " + quote(file));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "382,87,169,123,121,88,207,297,242\n");
}

TEST(TokenizeCli, DetokenizePrintsTheExactText) {
  const std::string m = quote(tokenizer_only_folder());
  CliRun r = run("detokenize " + m + " --tokens 382,39,282,75,78,259,256,75,67");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "<｜begin▁of▁sentence｜>Hello world");
  r = run("detokenize " + m + " --tokens 382,39,282,75,78,259,256,75,67 --skip-special");
  EXPECT_EQ(r.out, "Hello world");
  // The tokenizer.json file itself works as MODEL too.
  r = run("detokenize " + quote(tokenizer_only_folder() + "/tokenizer.json") + " --tokens 64,383,65");
  EXPECT_EQ(r.out, "a<｜end▁of▁sentence｜>b");
}

TEST(TokenizeCli, BadInputIsOneLineAndExitOne) {
  const std::string m = quote(tokenizer_only_folder());
  for (const std::string& args :
       {"tokenize " + m, "detokenize " + m + " --tokens 1,x", "detokenize " + m + " --tokens 384",
        std::string("tokenize /nonexistent/folder --text hi"), "tokenize " + m + " --file /nonexistent/file"}) {
    CliRun r = run(args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(r.err.rfind("dseek: ", 0), 0u) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  CliRun r = run("tokenize " + m + " --text a --file b");  // a usage error
  EXPECT_EQ(r.status, 2);
}

}  // namespace
}  // namespace dseek
