#include "model/blocks.h"

#include "kernels/ops.h"
#include "kernels/reference/row_decode.h"

namespace dseek {

Result<Tensor> take_matrix(WeightStore& store, const ModelConfig& cfg, const std::string& prefix, int64_t rows,
                           int64_t cols) {
  auto w = store.take(prefix + ".weight");
  if (!w) return w.error();
  Tensor t = w.value();
  auto where = [&](const std::string& what) { return Error{store.description() + ": " + what}; };
  auto shape_ok = expect_shape(t, {rows, cols});
  if (!shape_ok) return shape_ok.error().within(store.description());
  if (!dtype_info(t.dtype).computable)
    return where("tensor " + t.name + " has dtype " + std::string(dtype_info(t.dtype).name) + ", which is not a weight type");
  if (t.dtype == DType::F8_E4M3) {
    if (!cfg.fp8.enabled)
      return where("tensor " + t.name + " is F8_E4M3 but config.json has no fp8 quantization_config");
    auto scale = store.take(prefix + ".weight_scale_inv");
    if (!scale) return where("fp8 tensor " + t.name + " has no " + prefix + ".weight_scale_inv");
    const int64_t scale_rows = (rows + cfg.fp8.block_rows - 1) / cfg.fp8.block_rows;
    const int64_t scale_cols = (cols + cfg.fp8.block_cols - 1) / cfg.fp8.block_cols;
    auto scale_shape_ok = expect_shape(scale.value(), {scale_rows, scale_cols});
    if (!scale_shape_ok) return scale_shape_ok.error().within(store.description());
    if (scale->dtype != DType::F32)
      return where("tensor " + scale->name + " must be F32, found " + std::string(dtype_info(scale->dtype).name));
    t.block_scale.data = reinterpret_cast<const float*>(scale->data);
    t.block_scale.rows = scale_rows;
    t.block_scale.cols = scale_cols;
    t.block_scale.block_rows = static_cast<int>(cfg.fp8.block_rows);
    t.block_scale.block_cols = static_cast<int>(cfg.fp8.block_cols);
  }
  return t;
}

Result<std::vector<float>> take_vector(WeightStore& store, const std::string& name, int64_t n) {
  auto w = store.take(name);
  if (!w) return w.error();
  auto shape_ok = expect_shape(w.value(), {n});
  if (!shape_ok) return shape_ok.error().within(store.description());
  if (!dtype_info(w->dtype).computable || w->dtype == DType::F8_E4M3)
    return Error{store.description() + ": tensor " + name + " has dtype " +
                 std::string(dtype_info(w->dtype).name) + ", expected F32, F16 or BF16"};
  std::vector<float> v(static_cast<size_t>(n));
  Tensor as_row = w.value();
  as_row.rank = 2;
  as_row.shape = {1, n, 0, 0};
  kernels::decode_row_reference(as_row, 0, 0, n, v.data());
  return v;
}

Result<SwiGlu> SwiGlu::load(WeightStore& store, const ModelConfig& cfg, const std::string& prefix, int64_t hidden,
                            int64_t intermediate) {
  SwiGlu m;
  auto gate = take_matrix(store, cfg, prefix + ".gate_proj", intermediate, hidden);
  if (!gate) return gate.error();
  auto up = take_matrix(store, cfg, prefix + ".up_proj", intermediate, hidden);
  if (!up) return up.error();
  auto down = take_matrix(store, cfg, prefix + ".down_proj", hidden, intermediate);
  if (!down) return down.error();
  m.gate_proj = gate.value();
  m.up_proj = up.value();
  m.down_proj = down.value();
  return m;
}

void SwiGlu::forward(ThreadPool& pool, const float* x, int64_t n_tokens, float* out) const {
  const int64_t inter = intermediate();
  std::vector<float> gate(static_cast<size_t>(n_tokens * inter));
  std::vector<float> up(static_cast<size_t>(n_tokens * inter));
  // One loop over the rows of both (they share the quantized input).
  const ops::MatmulJob jobs[] = {{&gate_proj, x, n_tokens, gate_proj.cols(), gate.data(), inter},
                                 {&up_proj, x, n_tokens, up_proj.cols(), up.data(), inter}};
  ops::matmul_many(pool, jobs);
  ops::silu_mul(gate.data(), up.data(), n_tokens * inter, gate.data());
  ops::matmul(pool, down_proj, gate.data(), n_tokens, out);
}

}  // namespace dseek
