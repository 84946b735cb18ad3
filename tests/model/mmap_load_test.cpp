// Weights are used in place through mmap: loading a checkpoint must not read
// or copy it. A 2.2 GB checkpoint (a sparse file: no disk or page cache is
// used until a page is touched) must load without its weights becoming
// resident, and still run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "engine/greedy.h"
#include "model/architectures.h"
#include "test_files.h"

namespace dseek {
namespace {

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

TEST(MmapLoad, LoadingDoesNotTouchTheWeights) {
  const std::string dir = testing::make_sparse_llama(2048, 5632, 8, 32000);
  ThreadPool pool(2);
  LoadOptions options;
  options.pool = &pool;
  const int64_t before = resident_bytes();
  auto model = load_model(dir, options);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const int64_t grown = resident_bytes() - before;
  std::printf("checkpoint 2.2 GB; resident memory grew by %.1f MB during load\n", grown / 1e6);
  EXPECT_LT(grown, 32 << 20);  // norms are converted (~0.1 MB); the 2.2 GB of weights are not touched

  auto cache = (*model)->new_cache(4);
  std::vector<int32_t> prompt = {1, 2};
  auto out = generate_greedy(**model, *cache, prompt, 2);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), (std::vector<int32_t>{0, 0}));  // all-zero weights: all logits tie, lowest id wins
}

}  // namespace
}  // namespace dseek
