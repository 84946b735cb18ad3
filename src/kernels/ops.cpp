#include "kernels/ops.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace dseek::ops {

namespace {
const kernels::KernelTable& table() { return kernels::active_table(); }

// Rows per task: enough work per task that the hand-off is small next to it,
// in multiples of 16 rows.
int64_t row_grain(const Tensor& w, int64_t n_tokens) {
  const int64_t work_per_row = std::max<int64_t>(1, w.cols() * n_tokens);
  const int64_t rows = std::max<int64_t>(1, 32768 / work_per_row);
  return (rows + 15) / 16 * 16;
}

// 64-byte aligned scratch for quantized activations. Owned per calling
// thread and reused across calls: a decode step quantizes hundreds of small
// inputs and should not allocate for each.
class ActScratch {
 public:
  uint8_t* get(size_t bytes) {
    if (bytes > size_) {
      data_.reset(static_cast<uint8_t*>(::operator new(bytes, std::align_val_t{64})));
      size_ = bytes;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

ActScratch& scratch() {
  thread_local ActScratch s;
  return s;
}

// Quantizes n_tokens rows of x (each `layout.n` wide) into out, in parallel
// over tokens when there are many. Per token, so a token's bytes do not
// depend on the others.
void quantize_tokens(ThreadPool& pool, kernels::QuantizeActFn fn, const kernels::ActLayout& layout, const float* x,
                     int64_t n_tokens, int64_t ldx, uint8_t* out) {
  auto body = [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) fn(x + t * ldx, layout, out + t * layout.bytes);
  };
  if (n_tokens < 8) body(0, n_tokens, 0);
  else pool.parallel_for(n_tokens, 4, body);
}

bool uses_act_path(const kernels::KernelTable& t, DType d) {
  return t.use_act_kernels && t.matmul_act[static_cast<int>(d)] != nullptr;
}

}  // namespace

void matmul(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, int64_t ldx, float* y,
            int64_t ldy) {
  MatmulJob job{&w, x, n_tokens, ldx, y, ldy};
  matmul_many(pool, std::span<const MatmulJob>(&job, 1));
}

void matmul_many(ThreadPool& pool, std::span<const MatmulJob> jobs) {
  const kernels::KernelTable& t = table();
  struct Prepared {
    const MatmulJob* job;
    kernels::ActLayout layout;
    size_t act_offset = 0;  // into the scratch; for jobs on the activation path
    bool act = false;
    bool quantize = false;  // false when it shares an earlier job's quantized input
    int64_t first_task = 0, grain = 1;
  };
  std::vector<Prepared> prepared;
  prepared.reserve(jobs.size());
  size_t act_bytes = 0;
  int64_t n_tasks = 0;
  for (const MatmulJob& j : jobs) {
    if (j.n_tokens <= 0 || j.w->rows() <= 0) continue;
    Prepared p{&j, {}, 0, false, false, n_tasks, row_grain(*j.w, j.n_tokens)};
    const int d = static_cast<int>(j.w->dtype);
    if (uses_act_path(t, j.w->dtype)) {
      p.act = true;
      p.layout = kernels::ActLayout::make(t.act_format[d], j.w->cols());
      // Share the quantized copy of an input already prepared.
      bool shared = false;
      for (const Prepared& q : prepared)
        if (q.act && q.job->x == j.x && q.job->n_tokens == j.n_tokens && q.job->ldx == j.ldx &&
            q.layout.format == p.layout.format && q.layout.n == p.layout.n) {
          p.act_offset = q.act_offset;
          shared = true;
          break;
        }
      if (!shared) {
        p.quantize = true;
        p.act_offset = act_bytes;
        act_bytes += static_cast<size_t>(j.n_tokens * p.layout.bytes);
      }
    } else {
      DSEEK_CHECK(t.matmul[d] != nullptr);
    }
    n_tasks += (j.w->rows() + p.grain - 1) / p.grain;
    prepared.push_back(p);
  }
  if (prepared.empty()) return;
  uint8_t* base = act_bytes > 0 ? scratch().get(act_bytes) : nullptr;
  for (const Prepared& p : prepared) {
    if (!p.quantize) continue;
    const MatmulJob& j = *p.job;
    quantize_tokens(pool, t.quantize_act[static_cast<int>(p.layout.format)], p.layout, j.x, j.n_tokens, j.ldx,
                    base + p.act_offset);
  }
  // Tasks [first, last) of one job: its rows from first's to last's end, in
  // one kernel call (a kernel's per-call set-up is paid once per claimed range).
  auto run = [&](const Prepared& p, int64_t first, int64_t last) {
    const MatmulJob& j = *p.job;
    const int64_t begin = (first - p.first_task) * p.grain;
    const int64_t end = std::min(j.w->rows(), (last - p.first_task) * p.grain);
    const int d = static_cast<int>(j.w->dtype);
    if (p.act) t.matmul_act[d](*j.w, begin, end, base + p.act_offset, p.layout, j.n_tokens, j.y, j.ldy);
    else t.matmul[d](*j.w, begin, end, j.x, j.n_tokens, j.ldx, j.y, j.ldy);
  };
  pool.parallel_for(n_tasks, 1, [&](int64_t begin, int64_t end, int) {
    // Tasks are numbered job by job; find the job of the first one.
    size_t k = 0;
    while (k + 1 < prepared.size() && prepared[k + 1].first_task <= begin) ++k;
    for (int64_t task = begin; task < end; ++k) {
      const int64_t job_end = k + 1 < prepared.size() ? std::min(end, prepared[k + 1].first_task) : end;
      run(prepared[k], task, job_end);
      task = job_end;
    }
  });
}

std::unique_ptr<kernels::PackedWeights> pack_for_batches(const Tensor& w) {
  const kernels::KernelTable& t = table();
  const kernels::PackFn fn = t.pack[static_cast<int>(w.dtype)];
  if (fn == nullptr || !uses_act_path(t, w.dtype)) return nullptr;
  return fn(w);
}

void matmul_transposed(ThreadPool& pool, const Tensor& w, const float* x, int64_t n_tokens, int64_t ldx,
                       float* y, int64_t ldy) {
  auto fn = table().matmul_transposed[static_cast<int>(w.dtype)];
  DSEEK_CHECK(fn != nullptr);
  // Column chunks in multiples of 8 keep SIMD kernels on their fast path.
  const int64_t cols = w.cols();
  const int64_t n_chunks = (cols + 7) / 8;
  pool.parallel_for(n_chunks, std::max<int64_t>(1, 2048 / std::max<int64_t>(1, w.rows() * n_tokens)),
                    [&](int64_t begin, int64_t end, int) {
                      fn(w, begin * 8, std::min(cols, end * 8), x, n_tokens, ldx, y, ldy);
                    });
}

void attention(ThreadPool& pool, const kernels::AttentionArgs& args) {
  auto fn = table().attention;
  // Tasks are (token, head); a chunk of at least four lets kernels take the
  // heads that share cached rows together.
  pool.parallel_for(args.n_tokens * args.n_heads, 4,
                    [&](int64_t begin, int64_t end, int) { fn(args, begin, end); });
}

void rmsnorm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) table().rmsnorm(x + r * n, weight, n, eps, out + r * n);
}

void softmax(float* x, int64_t n) { table().softmax(x, n); }

void silu_mul(const float* gate, const float* up, int64_t n, float* out) { table().silu_mul(gate, up, n, out); }

void rope(float* x, int64_t n_pairs, const float* cos, const float* sin, kernels::RopeStyle style) {
  table().rope(x, n_pairs, cos, sin, style);
}

void topk(const float* x, int64_t n, int64_t k, int32_t* out) { table().topk(x, n, k, out); }

}  // namespace dseek::ops

#include "kernels/reference/row_decode.h"

namespace dseek::ops {
void get_rows(const Tensor& table, const int32_t* ids, int64_t n, float* out) {
  // A gather: bound by memory, not arithmetic; the reference decode is enough.
  const int64_t cols = table.cols();
  for (int64_t i = 0; i < n; ++i) kernels::decode_row_reference(table, ids[i], 0, cols, out + i * cols);
}
}  // namespace dseek::ops
