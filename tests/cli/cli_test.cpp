// The dseek binary as users and scripts call it: output formats of the
// stable interface, and one-line errors with a non-zero exit on bad input.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_data.h"
#include "dseek_cli.h"
#include "test_files.h"

namespace dseek {
namespace {

using testing::CliRun;

std::string quote(const std::string& s) { return testing::shell_quote(s); }
CliRun run(const std::string& args) { return testing::run_dseek(args); }

std::string ids(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

TEST(Cli, LogitsOutMatchesGoldenAndSummaryListsTop5) {
  testing::Golden g = testing::read_golden("deepseek-v3-tiny-fp8");
  const std::string out = testing::make_temp_dir("cli") + "/logits.f32";
  CliRun r = run("logits " + quote(g.model_path) + " --tokens " + ids(g.tokens) + " --all-positions --out " + quote(out));
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<float> logits = testing::read_f32_file(out);
  ASSERT_EQ(logits.size(), g.logits.size());
  double worst = 0, scale = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(logits[i]) - g.logits[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(g.logits[i])));
  }
  EXPECT_LE(worst, 1e-4 * scale);
  // Last position only, without --all-positions.
  r = run("logits " + quote(g.model_path) + " --tokens " + ids(g.tokens) + " --out " + quote(out));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(testing::read_f32_file(out).size(), static_cast<size_t>(g.cols));
  r = run("logits " + quote(g.model_path) + " --tokens 382,1,2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("position 2:", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '('), 5) << r.out;
}

TEST(Cli, GenerateIdsPrintsTheGreedyContinuation) {
  testing::Golden g = testing::read_golden("deepseek-v2-tiny");
  CliRun r = run("generate " + quote(g.model_path) + " --tokens " + ids(g.tokens) + " -n 32 --greedy --ids");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ids(g.greedy) + "\n");
}

TEST(Cli, InfoReportsFamilyParametersAndCache) {
  CliRun r = run("info " + quote(testing::repo_path("tests/data/models/deepseek-v3-tiny-fp8")) + " --json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["family"], "deepseek_v3");
  EXPECT_EQ(j["layers"], 3);
  EXPECT_GT(j["parameters_total"].get<int64_t>(), j["parameters_active"].get<int64_t>());
  EXPECT_GT(j["parameters_mtp"].get<int64_t>(), 0);
  EXPECT_EQ(j["kv_cache_bytes_per_token"], 3 * (48 + 16) * 2);  // the default KV cache holds f16
  r = run("info " + quote(testing::repo_path("tests/data/models/llama3-tiny")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("family:      llama"), std::string::npos) << r.out;
}

TEST(Cli, GeneratePromptStreamsTextReproduciblyWithASeed) {
  const std::string model = quote(testing::repo_path("tests/data/models/qwen2-tiny"));
  CliRun a = run("generate " + model + " --prompt 'Hello there' -n 24 --seed 11 --temp 0.9");
  CliRun b = run("generate " + model + " --prompt 'Hello there' -n 24 --seed 11 --temp 0.9");
  CliRun c = run("generate " + model + " --prompt 'Hello there' -n 24 --seed 12 --temp 0.9");
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  CliRun ids = run("generate " + model + " --prompt 'Hello there' -n 24 --seed 11 --temp 0.9 --ids");
  ASSERT_EQ(ids.status, 0) << ids.err;
  EXPECT_EQ(std::count(ids.out.begin(), ids.out.end(), ','), 23) << ids.out;  // EOS did not come up with this seed
  // Greedy text equals the decode of the greedy ids.
  CliRun greedy_text = run("generate " + model + " --prompt 'Hello there' -n 16 --greedy");
  CliRun greedy_ids = run("generate " + model + " --prompt 'Hello there' -n 16 --greedy --ids");
  ASSERT_EQ(greedy_text.status, 0);
  std::string ids_arg = greedy_ids.out.substr(0, greedy_ids.out.size() - 1);
  CliRun decoded = run("detokenize " + model + " --tokens " + ids_arg);
  EXPECT_EQ(greedy_text.out, decoded.out + "\n");  // generate ends its output with a newline
}

TEST(Cli, PromptsLongerThanTheContextFailUnlessTruncated) {
  const std::string model = quote(testing::repo_path("tests/data/models/deepseek-v3-tiny-fp8"));
  std::string long_prompt(400, 'x');
  for (size_t i = 1; i < long_prompt.size(); i += 2) long_prompt[i] = ' ';
  CliRun r = run("generate " + model + " --prompt '" + long_prompt + "' -n 8");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("more than the context of 128 tokens (--truncate keeps the end of the prompt)"),
            std::string::npos) << r.err;
  r = run("generate " + model + " --prompt '" + long_prompt + "' -n 8 --truncate --greedy --ids");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), ','), 7) << r.out;
}

// One line on stderr, naming what is wrong; exit status 1 (2 for usage).
void expect_failure(const std::string& args, int status, const std::string& fragment) {
  CliRun r = run(args);
  EXPECT_EQ(r.status, status) << args << "\n" << r.err;
  if (status == 1) EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << args << "\nstderr: " << r.err;
  EXPECT_TRUE(r.out.empty() || status != 1) << r.out;
}

TEST(Cli, BadInputGivesOneLineAndNonZeroExit) {
  const std::string model = quote(testing::repo_path("tests/data/models/qwen2-tiny"));
  expect_failure("logits /nonexistent --tokens 1", 1, "/nonexistent: not a model folder");
  expect_failure("logits " + model + " --tokens 1,abc", 1, "'abc' is not a token id");
  expect_failure("logits " + model + " --tokens 1,99999", 1, "id 99999 is out of range");
  expect_failure("logits " + model + " --tokens ''", 1, "is not a token id");
  expect_failure("generate " + model + " --tokens 1,2 -n 1000", 1, "exceeds the model's context of 256 tokens");
  expect_failure("logits " + model, 2, "--tokens is required");
  expect_failure("frobnicate", 2, "subcommand");
  expect_failure("logits " + model + " --tokens 1 --mla sideways", 2, "sideways");
  std::string dir = testing::copy_model_folder(testing::repo_path("tests/data/models/qwen2-tiny"), "cli-broken");
  std::filesystem::resize_file(dir + "/model.safetensors", 1000);
  expect_failure("info " + quote(dir), 1, "model.safetensors: header length");
}

}  // namespace
}  // namespace dseek
