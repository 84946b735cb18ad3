#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "formats/safetensors_writer.h"
#include "model/param_count.h"
#include "train/checkpoint.h"
#include "train/moe.h"
#include "train/train_step.h"
#include "util/mapped_file.h"
#include "util/thread_pool.h"

namespace dseek::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

double mean_imbalance(const std::vector<std::vector<int64_t>>& counts) {
  if (counts.empty()) return 1.0;
  double sum = 0.0;
  for (const auto& c : counts) sum += load_imbalance(c);
  return sum / static_cast<double>(counts.size());
}

json model_fields(json j) {
  j.erase("torch_dtype");
  return j;
}

// The first field where two configs differ, for the "another shape" message.
std::string first_difference(const json& a, const json& b) {
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!b.contains(it.key()) || b[it.key()] != it.value()) return it.key();
  for (auto it = b.begin(); it != b.end(); ++it)
    if (!a.contains(it.key())) return it.key();
  return "";
}

// Writes the checkpoint beside the old one and swaps them, so an
// interrupted save never destroys the last good checkpoint.
Status save_checkpoint(const PretrainConfig& c, TrainModel& model, AdamW& optimizer, int64_t next_step,
                       const std::string& dir) {
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  DSEEK_TRY(save_model(tmp, model, c.model_json, c.tokenizer));
  json state = {{"format", "dseek-trainer-state"}, {"version", 1}, {"step", next_step}, {"seed", c.seed}};
  DSEEK_TRY(save_optimizer(tmp, optimizer, state));
  const std::string old = dir + ".old";
  fs::remove_all(old, ec);
  if (fs::exists(dir)) fs::rename(dir, old, ec);
  if (ec) return Error{dir + ": cannot replace the checkpoint: " + ec.message()};
  fs::rename(tmp, dir, ec);
  if (ec) return Error{dir + ": cannot move the new checkpoint into place: " + ec.message()};
  fs::remove_all(old, ec);
  return ok_status();
}

// log.jsonl keeps one line per step and per validation; on resume the lines
// of steps not yet redone are dropped, so the file reads as one run.
Status trim_log(const std::string& path, int64_t first_step_to_drop) {
  std::ifstream in(path);
  if (!in) return ok_status();
  std::string kept, line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step") || !j["step"].is_number_integer()) continue;
    const int64_t step = j["step"].get<int64_t>();
    const bool is_eval = j.contains("val_loss");
    // Validation after step s is logged with step = s + 1 (steps done).
    if ((is_eval && step <= first_step_to_drop) || (!is_eval && step < first_step_to_drop)) kept += line + "\n";
  }
  return write_file_atomically(path, kept);
}

}  // namespace

Result<RunSummary> run_pretraining(const PretrainConfig& c, const TextEncoding& enc, const RunOptions& options) {
  DSEEK_TRY(validate_pretrain_config(c));
  const ModelConfig& mc = c.model;
  FILE* out = options.progress;

  // Data first: every problem with it is reported before any work is done.
  if (enc.encode && enc.vocab_size > mc.vocab_size)
    return Error{c.tokenizer + ": the tokenizer has " + std::to_string(enc.vocab_size) +
                 " tokens but the model's vocab_size is " + std::to_string(mc.vocab_size)};
  CorpusOptions corpus{enc.encode, enc.bos_id, enc.eos_id, mc.vocab_size};
  auto train_data = load_corpus(c.train_files, corpus);
  if (!train_data) return train_data.error().within("train");
  if (static_cast<int64_t>(train_data->size()) <= c.seq_len)
    return Error{"train: the corpus has " + std::to_string(train_data->size()) + " tokens, fewer than seq_len + 1 = " +
                 std::to_string(c.seq_len + 1)};
  std::vector<int32_t> val_data;
  if (!c.validation_files.empty()) {
    auto v = load_corpus(c.validation_files, corpus);
    if (!v) return v.error().within("validation");
    if (static_cast<int64_t>(v->size()) <= c.seq_len)
      return Error{"validation: the corpus has " + std::to_string(v->size()) + " tokens, fewer than seq_len + 1"};
    val_data = std::move(v.value());
  }

  LossWeights weights{static_cast<float>(c.mtp_lambda), static_cast<float>(c.balance_alpha)};
  auto created = TrainModel::create(mc, weights);
  if (!created) return created.error().within(c.source);
  TrainModel& model = *created.value();
  AdamW optimizer(model.params(), {c.beta1, c.beta2, c.eps, c.weight_decay});
  const std::string ckpt = c.out + "/checkpoint";
  int64_t first_step = 0;
  if (options.resume) {
    auto text = read_text_file(ckpt + "/config.json");
    if (!text) return Error{"--resume: no checkpoint to resume from (" + text.error().message + ")"};
    json saved = json::parse(text.value(), nullptr, false);
    if (saved.is_discarded()) return Error{ckpt + "/config.json: not valid JSON"};
    const std::string diff = first_difference(model_fields(saved), model_fields(c.model_json));
    if (!diff.empty())
      return Error{ckpt + ": a checkpoint of another model: config.json differs from the run's model in '" + diff + "'"};
    DSEEK_TRY(load_weights(model.params(), ckpt));
    auto state = load_optimizer(ckpt, optimizer);
    if (!state) return state.error();
    if (!state->contains("step") || !(*state)["step"].is_number_integer())
      return Error{ckpt + "/trainer_state.json: missing integer 'step'"};
    first_step = (*state)["step"].get<int64_t>();
    if (state->value("seed", c.seed) != c.seed)
      return Error{ckpt + ": the checkpoint was trained with another seed; its curve cannot be continued exactly"};
  } else if (!c.init_from.empty()) {
    DSEEK_TRY(load_weights(model.params(), c.init_from));
  } else {
    model.init_random(c.seed, static_cast<float>(c.init_std));
  }
  std::error_code ec;
  fs::create_directories(c.out, ec);
  if (ec) return Error{c.out + ": cannot create the run folder: " + ec.message()};
  const std::string log_path = c.out + "/log.jsonl";
  if (options.resume) DSEEK_TRY(trim_log(log_path, first_step));
  else DSEEK_TRY(write_file_atomically(log_path, ""));
  std::ofstream log(log_path, std::ios::app);
  if (!log) return Error{log_path + ": cannot open for writing"};

  ThreadPool pool(c.threads > 0 ? c.threads : physical_core_count());
  LrSchedule schedule{c.lr, c.min_lr, c.warmup, c.steps};
  StepSettings settings{c.batch_size, c.seq_len, c.grad_clip, static_cast<float>(c.bias_update_speed)};
  const int64_t tokens_per_step = c.batch_size * c.grad_accum * c.seq_len;
  const int64_t last_step = options.stop_after >= 0 ? std::min(c.steps, options.stop_after) : c.steps;
  if (out) {
    const ParameterCount pc = count_parameters(mc);
    std::fprintf(out, "dseek train: %s, %.2fM parameters (%.2fM active per token, MTP %.2fM), %lld tokens per step, "
                      "%zu training tokens%s, steps %lld..%lld\n",
                 std::string(family_name(mc.family)).c_str(), pc.total / 1e6, pc.active / 1e6, pc.mtp / 1e6,
                 static_cast<long long>(tokens_per_step), train_data->size(),
                 val_data.empty() ? "" : (", " + std::to_string(val_data.size()) + " validation tokens").c_str(),
                 static_cast<long long>(first_step), static_cast<long long>(last_step));
    std::fflush(out);
  }

  RunSummary summary;
  std::vector<int32_t> batch(static_cast<size_t>(c.grad_accum * c.batch_size * (c.seq_len + 1)));
  using clock = std::chrono::steady_clock;
  double window_seconds = 0.0, total_seconds = 0.0;
  int64_t window_steps = 0, total_steps = 0;
  double window_loss = 0.0, window_imbalance = 0.0;
  int64_t saved_at = options.resume ? first_step : -1;

  auto validate = [&](int64_t steps_done) {
    if (val_data.empty()) return;
    std::vector<int32_t> vb(static_cast<size_t>(c.batch_size * (c.seq_len + 1)));
    double sum = 0.0;
    for (int64_t i = 0; i < c.eval_batches; ++i) {
      validation_batch(val_data, i, c.eval_batches, c.batch_size, c.seq_len, vb.data());
      sum += model.evaluate(pool, vb.data(), c.batch_size, c.seq_len, false).main;
    }
    const double loss = sum / static_cast<double>(c.eval_batches);
    summary.validation.push_back({steps_done, loss});
    log << json{{"step", steps_done}, {"val_loss", loss}}.dump() << "\n" << std::flush;
    if (out) std::fprintf(out, "step %lld  validation loss %.4f\n", static_cast<long long>(steps_done), loss);
  };

  for (int64_t step = first_step; step < last_step; ++step) {
    const auto t0 = clock::now();
    std::vector<const int32_t*> micro;
    for (int64_t m = 0; m < c.grad_accum; ++m) {
      int32_t* dst = batch.data() + m * c.batch_size * (c.seq_len + 1);
      sample_batch(train_data.value(), c.seed, step, m, c.batch_size, c.seq_len, dst);
      micro.push_back(dst);
    }
    StepResult r = train_step(pool, model, optimizer, schedule, step, micro, settings);
    if (!r.error.empty()) return Error{r.error};
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    StepRecord rec{step, r.loss, r.losses.main, r.losses.mtp, r.losses.balance, r.lr, r.grad_norm,
                   mean_imbalance(r.expert_counts)};
    summary.steps.push_back(rec);
    log << json{{"step", step},       {"loss", rec.loss}, {"main", rec.main},          {"mtp", rec.mtp},
                {"balance", rec.balance}, {"lr", rec.lr},  {"grad_norm", rec.grad_norm}, {"imbalance", rec.imbalance},
                {"seconds", seconds}, {"expert_counts", r.expert_counts}}
               .dump()
        << "\n";
    window_seconds += seconds;
    total_seconds += seconds;
    ++window_steps;
    ++total_steps;
    window_loss += rec.loss;
    window_imbalance += rec.imbalance;
    const bool last = step + 1 == last_step;
    if (out && ((step + 1) % c.log_every == 0 || last)) {
      const double tok_s = static_cast<double>(window_steps * tokens_per_step) / window_seconds;
      const double eta = (static_cast<double>(c.steps - step - 1)) * (window_seconds / static_cast<double>(window_steps));
      std::fprintf(out, "step %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  balance %.2f  eta %s\n",
                   static_cast<long long>(step + 1), static_cast<long long>(c.steps), window_loss / window_steps,
                   rec.lr, tok_s, model.moe_layers().empty() ? 1.0 : window_imbalance / window_steps,
                   duration_text(eta).c_str());
      std::fflush(out);
      window_seconds = 0.0;
      window_steps = 0;
      window_loss = window_imbalance = 0.0;
    }
    const int64_t done = step + 1;
    if (c.eval_every > 0 && done % c.eval_every == 0) validate(done);
    if (c.checkpoint_every > 0 && done % c.checkpoint_every == 0) {
      DSEEK_TRY(save_checkpoint(c, model, optimizer, done, ckpt));
      summary.checkpoint = ckpt;
      saved_at = done;
    }
  }
  log.flush();
  // The end of the run: a last validation and checkpoint unless the loop just made them.
  if (last_step == c.steps && last_step > first_step && !(c.eval_every > 0 && c.steps % c.eval_every == 0))
    validate(last_step);
  if (saved_at != last_step) {
    DSEEK_TRY(save_checkpoint(c, model, optimizer, last_step, ckpt));
    summary.checkpoint = ckpt;
  }
  summary.tokens_per_second =
      total_seconds > 0 ? static_cast<double>(total_steps * tokens_per_step) / total_seconds : 0.0;
  if (out) std::fprintf(out, "dseek train: checkpoint in %s\n", ckpt.c_str());
  return summary;
}

}  // namespace dseek::train
