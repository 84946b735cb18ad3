// `dseek train pretrain` end to end on a tiny MLA+MoE+MTP model: the same
// run twice gives the same curve, a resumed run continues it exactly, the
// checkpoint loads in dseek's inference engine (and `dseek logits`) with the
// trainer's logits, and bad input stops with a clear error before training.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "formats/safetensors_writer.h"
#include "model/architectures.h"
#include "model_runner.h"
#include "test_data.h"
#include "dseek_cli.h"
#include "test_files.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace dseek::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A corpus with structure to learn: mostly x -> 3x + 7 (mod 64), sometimes +1.
std::vector<int32_t> synthetic_corpus(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids{1};
  while (static_cast<int64_t>(ids.size()) < n) ids.push_back((3 * ids.back() + 7 + (rng() % 4 == 0)) % 64);
  return ids;
}

struct TrainRun {
  std::string dir;
  std::string config_path;
  json config;
};

TrainRun make_run(const std::string& tag, json overrides = json::object()) {
  TrainRun r;
  r.dir = make_temp_dir(tag);
  EXPECT_TRUE(train::write_token_file(r.dir + "/train.tokens", synthetic_corpus(4000, 1)));
  EXPECT_TRUE(train::write_token_file(r.dir + "/val.tokens", synthetic_corpus(800, 2)));
  r.config = {{"model", repo_path("tests/golden/train/deepseek-v3-train/config.json")},
              {"train", "train.tokens"},
              {"validation", "val.tokens"},
              {"out", "run"},
              {"seq_len", 16},
              {"batch_size", 4},
              {"grad_accum", 2},
              {"steps", 8},
              {"warmup", 2},
              {"lr", 1e-2},
              {"min_lr", 1e-3},
              {"seed", 7},
              {"init_std", 0.1},
              {"balance_alpha", 0.01},
              {"bias_update_speed", 0.01},
              {"eval_every", 4},
              {"eval_batches", 2},
              {"checkpoint_every", 0},
              {"threads", 2}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) r.config[it.key()] = it.value();
  r.config_path = r.dir + "/train.json";
  write_file(r.config_path, r.config.dump(2));
  return r;
}

Result<train::RunSummary> run_config(const TrainRun& r, bool resume = false, int64_t stop_after = -1) {
  auto c = train::load_pretrain_config(r.config_path);
  if (!c) return c.error();
  train::RunOptions o;
  o.resume = resume;
  o.stop_after = stop_after;
  o.progress = nullptr;
  return train::run_pretraining(c.value(), {}, o);
}

std::vector<double> losses(const train::RunSummary& s) {
  std::vector<double> out;
  for (const auto& r : s.steps) out.push_back(r.loss);
  return out;
}

TEST(Pretrain, SameRunTwiceGivesTheSameCurve) {
  TrainRun a = make_run("pretrain_a"), b = make_run("pretrain_b");
  auto ra = run_config(a), rb = run_config(b);
  ASSERT_TRUE(ra) << ra.error().message;
  ASSERT_TRUE(rb) << rb.error().message;
  ASSERT_EQ(ra->steps.size(), 8u);
  EXPECT_EQ(losses(ra.value()), losses(rb.value()));
  EXPECT_EQ(ra->validation, rb->validation);
  EXPECT_LT(ra->steps.back().main, ra->steps.front().main - 0.5) << "the loss falls on a learnable corpus";
  EXPECT_EQ(testing::read_file(a.dir + "/run/log.jsonl").size() > 0, true);
  // Another seed draws other batches and other weights.
  TrainRun c = make_run("pretrain_c", {{"seed", 8}});
  auto rc = run_config(c);
  ASSERT_TRUE(rc) << rc.error().message;
  EXPECT_NE(losses(ra.value()), losses(rc.value()));
}

TEST(Pretrain, ResumeContinuesTheUninterruptedCurve) {
  TrainRun whole = make_run("resume_whole"), split = make_run("resume_split");
  auto full = run_config(whole);
  ASSERT_TRUE(full) << full.error().message;
  auto first = run_config(split, false, 3);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->steps.size(), 3u);
  auto rest = run_config(split, true);
  ASSERT_TRUE(rest) << rest.error().message;
  std::vector<double> joined = losses(first.value());
  for (double l : losses(rest.value())) joined.push_back(l);
  EXPECT_EQ(joined, losses(full.value()));
  EXPECT_EQ(rest->validation.back(), full->validation.back());
  // The log of the split run reads like the uninterrupted one (apart from timings).
  auto strip = [](const std::string& text) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line);
      j.erase("seconds");
      if (j.contains("expert_counts")) {
        EXPECT_EQ(j["expert_counts"].size(), 2u);  // layer 1 and the MTP layer
      }
      out += j.dump() + "\n";
    }
    return out;
  };
  EXPECT_EQ(strip(read_file(split.dir + "/run/log.jsonl")), strip(read_file(whole.dir + "/run/log.jsonl")));
}

std::vector<float> trainer_logits(const std::string& ckpt, const std::vector<int32_t>& tokens) {
  auto text = read_file(ckpt + "/config.json");
  auto config = parse_model_config(text, "config.json");
  EXPECT_TRUE(config);
  auto model = train::TrainModel::create(config.value(), {});
  EXPECT_TRUE(model);
  EXPECT_TRUE(train::load_weights(model.value()->params(), ckpt));
  ThreadPool pool(2);
  std::vector<float> out(tokens.size() * static_cast<size_t>(config->vocab_size));
  model.value()->logits(pool, tokens.data(), static_cast<int64_t>(tokens.size()), out.data());
  return out;
}

std::string quote(const std::string& s) { return shell_quote(s); }

int run_binary(const std::string& args, std::string* err = nullptr) {
  CliRun r = run_dseek(args);
  if (err) *err = r.err;
  return r.status;
}

TEST(Pretrain, CheckpointLoadsInTheInferenceEngineWithTheTrainersLogits) {
  TrainRun r = make_run("pretrain_ckpt");
  auto run = run_config(r);
  ASSERT_TRUE(run) << run.error().message;
  const std::string ckpt = r.dir + "/run/checkpoint";
  for (const char* f : {"config.json", "model.safetensors", "trainer_state.json", "optimizer.safetensors"})
    EXPECT_TRUE(fs::exists(ckpt + "/" + f)) << f;
  std::vector<int32_t> tokens = synthetic_corpus(20, 3);
  const std::vector<float> want = trainer_logits(ckpt, tokens);
  for (MlaMode mode : {MlaMode::kAbsorbed, MlaMode::kNaive}) {
    LoadedModel m = load_or_fail(ckpt, mode);
    ASSERT_TRUE(m.model);
    Deviation d = deviation(prompt_logits(*m.model, tokens), want);
    EXPECT_LE(d.relative(), 1e-5) << "max|diff| " << d.max_abs_diff << " max|logit| " << d.max_abs_ref;
  }
  // And through the command line, as any user would.
  std::string ids;
  for (size_t i = 0; i < tokens.size(); ++i) ids += (i ? "," : "") + std::to_string(tokens[i]);
  const std::string out = make_temp_dir("train_cli") + "/logits.f32";
  std::string err;
  ASSERT_EQ(run_binary("logits " + quote(ckpt) + " --tokens " + ids + " --all-positions --out " + quote(out), &err), 0)
      << err;
  EXPECT_TRUE(err.find("not used") == std::string::npos) << "every checkpoint tensor is loaded: " << err;
  Deviation d = deviation(read_f32_file(out), want);
  EXPECT_LE(d.relative(), 1e-5);
}

void expect_error(const TrainRun& r, const std::string& fragment, bool resume = false) {
  auto run = run_config(r, resume);
  ASSERT_FALSE(run) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(run.error().message.find(fragment), std::string::npos) << run.error().message;
  EXPECT_FALSE(fs::exists(r.dir + "/run/checkpoint")) << "nothing was trained";
}

TEST(PretrainErrors, InconsistentModelDimensions) {
  json model = json::parse(read_file(repo_path("tests/golden/train/deepseek-v3-train/config.json")));
  model["n_group"] = 3;  // does not divide 8 experts
  expect_error(make_run("err_groups", {{"model", model}}), "n_group");
  model = json::parse(read_file(repo_path("tests/golden/train/deepseek-v3-train/config.json")));
  model["qk_rope_head_dim"] = 7;
  expect_error(make_run("err_rope", {{"model", model}}), "qk_rope_head_dim");
  expect_error(make_run("err_seq", {{"seq_len", 100}}), "max_position_embeddings");
  expect_error(make_run("err_field", {{"batch_sise", 4}}), "unknown field 'batch_sise'");
}

TEST(PretrainErrors, EmptyOrNonUtf8Corpus) {
  TrainRun r = make_run("err_empty", {{"train", "empty.txt"}});
  write_file(r.dir + "/empty.txt", "");
  expect_error(r, "empty.txt: the file holds no text");
  TrainRun t = make_run("err_tokens", {{"train", "none.tokens"}});
  ASSERT_TRUE(train::write_token_file(t.dir + "/none.tokens", {}));
  expect_error(t, "none.tokens: the file holds no tokens");
  TrainRun u = make_run("err_utf8", {{"train", "latin1.txt"}});
  write_file(u.dir + "/latin1.txt", "caf\xe9 au lait");
  expect_error(u, "latin1.txt: not UTF-8 text (invalid byte at offset 3)");
  TrainRun j = make_run("err_jsonl", {{"train", "docs.jsonl"}});
  write_file(j.dir + "/docs.jsonl", "{\"text\": \"fine\"}\n{\"txt\": \"typo\"}\n");
  expect_error(j, "docs.jsonl:2: expected an object with a string 'text'");
  TrainRun big = make_run("err_vocab", {{"train", "big.tokens"}});
  ASSERT_TRUE(train::write_token_file(big.dir + "/big.tokens", std::vector<int32_t>(100, 64)));
  expect_error(big, "token id 64 at position 0 is not below the model's vocab_size 64");
}

TEST(PretrainErrors, CheckpointOfAnotherShape) {
  TrainRun r = make_run("err_shape");
  ASSERT_TRUE(run_config(r, false, 2));
  json model = json::parse(read_file(repo_path("tests/golden/train/deepseek-v3-train/config.json")));
  model["hidden_size"] = 48;
  r.config["model"] = model;
  write_file(r.config_path, r.config.dump());
  auto resumed = run_config(r, true);
  ASSERT_FALSE(resumed);
  EXPECT_NE(resumed.error().message.find("a checkpoint of another model"), std::string::npos) << resumed.error().message;
  EXPECT_NE(resumed.error().message.find("hidden_size"), std::string::npos) << resumed.error().message;
  // Starting from the weights of another shape.
  TrainRun other = make_run("err_init", {{"model", model}, {"init_from", r.dir + "/run/checkpoint"}});
  expect_error(other, "has shape [64, 32], the model needs [64, 48] (a checkpoint of another shape)");
}

TEST(PretrainErrors, NonFiniteLossNamesTheStepAndTheLayer) {
  TrainRun base = make_run("nan_base");
  ASSERT_TRUE(run_config(base, false, 1));
  // Poison one weight of layer 1's attention in a copy of the checkpoint.
  const std::string ckpt = base.dir + "/run/checkpoint";
  auto config = parse_model_config(read_file(ckpt + "/config.json"), "config.json");
  ASSERT_TRUE(config);
  auto model = train::TrainModel::create(config.value(), {});
  ASSERT_TRUE(model);
  ASSERT_TRUE(train::load_weights(model.value()->params(), ckpt));
  model.value()->params().find("model.layers.1.self_attn.o_proj.weight")->value[5] = INFINITY;
  const std::string poisoned = base.dir + "/poisoned";
  ASSERT_TRUE(train::save_model(poisoned, *model.value(), json::parse(read_file(ckpt + "/config.json")), ""));
  TrainRun r = make_run("nan_run", {{"init_from", poisoned}});
  expect_error(r, "step 0: the loss is");
  auto run = run_config(r);
  ASSERT_FALSE(run);
  EXPECT_NE(run.error().message.find("layer 1 attention"), std::string::npos) << run.error().message;
}

TEST(PretrainCli, ProgressLineAndBadCommandLines) {
  TrainRun r = make_run("cli_run", {{"steps", 4}, {"log_every", 2}});
  std::string err;
  ASSERT_EQ(run_binary("train pretrain --config " + quote(r.config_path), &err), 0) << err;
  EXPECT_NE(err.find("step 2/4  loss "), std::string::npos) << err;
  EXPECT_NE(err.find(" tok/s  balance "), std::string::npos) << err;
  EXPECT_NE(err.find("  eta "), std::string::npos) << err;
  EXPECT_NE(err.find("validation loss"), std::string::npos) << err;
  EXPECT_EQ(run_binary("train pretrain --config " + quote(r.dir + "/missing.json"), &err), 1);
  EXPECT_NE(err.find("missing.json"), std::string::npos) << err;
  EXPECT_EQ(run_binary("train pretrain", &err), 2);  // --config is required
}

}  // namespace
}  // namespace dseek::testing

namespace dseek::testing {
namespace {

// The user's path end to end: a tokenizer trained on text, a model
// pretrained on that text through it, and the checkpoint generating text.
TEST(PretrainCli, TokenizerThenTextCorpusThenGenerate) {
  const std::string dir = make_temp_dir("e2e");
  std::string err;
  ASSERT_EQ(run_binary("train tokenizer --input " + quote(repo_path("docs/training.md")) + " " +
                           quote(repo_path("tools/reference/TRAINING.md")) + " --vocab 600 --out " + quote(dir + "/tok"),
                       &err),
            0)
      << err;
  EXPECT_NE(err.find("600 tokens"), std::string::npos) << err;
  json model = json::parse(read_file(repo_path("tests/golden/train/deepseek-v3-train/config.json")));
  model["vocab_size"] = 600;
  json config = {{"model", model},
                 {"tokenizer", "tok"},
                 {"train", {repo_path("docs/training.md")}},
                 {"out", "run"},
                 {"seq_len", 32},
                 {"batch_size", 2},
                 {"steps", 3},
                 {"warmup", 1},
                 {"eval_every", 0},
                 {"threads", 2}};
  write_file(dir + "/train.json", config.dump());
  ASSERT_EQ(run_binary("train pretrain -q --config " + quote(dir + "/train.json"), &err), 0) << err;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::exists(dir + "/run/checkpoint/" + f)) << f;
  // The checkpoint's tokenizer and weights, through the inference commands.
  CliRun tokenized = run_dseek("tokenize " + quote(dir + "/run/checkpoint") + " --text 'The trainer'");
  ASSERT_EQ(tokenized.status, 0) << tokenized.err;
  std::string ids = tokenized.out;
  while (!ids.empty() && (ids.back() == '\n' || ids.back() == ' ')) ids.pop_back();
  EXPECT_EQ(ids.rfind("0,", 0), 0u) << "BOS first: " << ids;
  ASSERT_EQ(run_binary("generate " + quote(dir + "/run/checkpoint") + " --tokens " + ids + " -n 4 --greedy --ids", &err),
            0)
      << err;
  // A tokenizer larger than the model's vocabulary is refused before training.
  config["model"]["vocab_size"] = 500;
  write_file(dir + "/small.json", config.dump());
  ASSERT_EQ(run_binary("train pretrain -q --config " + quote(dir + "/small.json"), &err), 1);
  EXPECT_NE(err.find("the tokenizer has 600 tokens but the model's vocab_size is 500"), std::string::npos) << err;
}

}  // namespace
}  // namespace dseek::testing
