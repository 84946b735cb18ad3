// A whole model for training, built from a ModelConfig: deepseek_v2/v3
// (MLA + DeepSeekMoE, and V3's multi-token-prediction module) or llama/qwen2
// (GQA + SwiGLU). Parameters carry their Hugging Face names, so a checkpoint
// is these tensors written out, and dseek's inference engine loads it.
//
// Objective per batch of n_seq sequences of seq_len + 1 tokens:
//   L = CE(main head, next token)
//     + mtp_lambda * CE(MTP head, token after next)       (V3, num_nextn_predict_layers = 1)
//     + balance_alpha * sequence-wise balance loss        (each MoE layer)
// The MTP module takes the main model's last hidden state h_i (the residual
// stream before model.norm) and the embedding of token i+1:
//   eh_proj(concat(enorm(embed(t_{i+1})), hnorm(h_i))) -> one decoder layer
//   -> shared_head.norm -> the shared lm_head, predicting t_{i+2}.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "train/decoder.h"
#include "util/result.h"

namespace dseek::train {

struct LossWeights {
  float mtp_lambda = 0.3f;
  float balance_alpha = 0.0f;
};

struct Losses {
  double main = 0.0;     // mean cross-entropy of the next-token head
  double mtp = 0.0;      // mean cross-entropy of the MTP head (0 without one)
  double balance = 0.0;  // sum over MoE layers of alpha * balance loss
  double total(const LossWeights& w) const { return main + w.mtp_lambda * mtp + balance; }
};

class TrainModel {
 public:
  // Checks that the config describes something trainable (fp8 storage and
  // grouped routing that the config parser accepts are fine; the shapes
  // come from the config).
  static Result<std::unique_ptr<TrainModel>> create(const ModelConfig& config, const LossWeights& weights);

  // Normal(0, init_std) matrices (output projections scaled by 1/sqrt(2 layers)),
  // norms 1, biases and e_score_correction_bias 0.
  void init_random(uint64_t seed, float init_std);

  const ModelConfig& config() const { return config_; }
  const LossWeights& loss_weights() const { return weights_; }
  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  bool has_mtp() const { return mtp_.has_value(); }

  // tokens: n_seq rows of seq_len + 1 ids (inputs, then each next token).
  // Adds grad_scale * dL/dparam into every Param::grad.
  Losses forward_backward(ThreadPool& pool, const int32_t* tokens, int64_t n_seq, int64_t seq_len, float grad_scale);
  // The losses only (the MTP module's only when with_mtp).
  Losses evaluate(ThreadPool& pool, const int32_t* tokens, int64_t n_seq, int64_t seq_len, bool with_mtp = true);
  // Next-token logits [n][vocab] at every position of one sequence.
  void logits(ThreadPool& pool, const int32_t* tokens, int64_t n, float* out);

  // The MoE layers (main model, then the MTP layer), each counting tokens per expert.
  std::vector<DecoderLayer*> moe_layers();
  void reset_expert_counts();

  // After a forward pass: where the first non-finite value appeared
  // ("layer 3 attention", "MTP layer 4 feed-forward", "lm_head logits"), or "".
  const std::string& nonfinite_location() const { return nonfinite_; }

 private:
  struct Mtp {
    Norm enorm, hnorm, head_norm;
    Linear eh_proj;
    DecoderLayer layer;
  };
  struct Pass;  // activations of one forward pass

  TrainModel(ModelConfig config, LossWeights weights) : config_(std::move(config)), weights_(weights) {}
  TrainModel(const TrainModel&) = delete;  // layers point into config_ and params_
  TrainModel& operator=(const TrainModel&) = delete;
  void build();
  DecoderLayer build_layer(int64_t index);
  const RopeTable& rope_table(int64_t seq_len);
  void forward(ThreadPool& pool, const int32_t* tokens, int64_t n_seq, int64_t seq_len, bool mtp, Pass& pass);
  void note_nonfinite(const float* x, int64_t n, const std::string& where);

  ModelConfig config_;
  LossWeights weights_;
  ParamStore params_;
  Param* embed_ = nullptr;
  Linear head_;
  Norm final_norm_;
  std::vector<DecoderLayer> layers_;
  std::optional<Mtp> mtp_;
  float eps_ = 1e-6f;
  std::map<int64_t, RopeTable> rope_tables_;
  std::string nonfinite_;
};

}  // namespace dseek::train
