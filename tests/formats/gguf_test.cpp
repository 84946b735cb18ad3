// The GGUF reader on files llama.cpp wrote (tests/data/llamacpp), checked
// against the Hugging Face safetensors twins of the same weights, and on
// hand-made corrupt files, each of which must be refused with a message
// naming what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/gguf_builder.h"
#include "kernels/reference/row_decode.h"
#include "test_data.h"

namespace dseek {
namespace {

using testing::GgufBuilder;

std::string fixture(const std::string& model, const std::string& file) {
  return testing::repo_path("tests/data/llamacpp/" + model + "/" + file);
}

Result<GgufHeader> parse(const std::vector<uint8_t>& bytes) {
  return parse_gguf(bytes.data(), bytes.size(), "test.gguf");
}

// Expects a parse failure whose message contains `needle`.
void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto h = parse(bytes);
  ASSERT_FALSE(h.ok()) << "accepted a file that should fail with: " << needle;
  EXPECT_NE(h.error().message.find(needle), std::string::npos) << h.error().message;
  EXPECT_EQ(h.error().message.rfind("test.gguf: ", 0), 0u) << h.error().message;
  EXPECT_EQ(h.error().message.find('\n'), std::string::npos) << "one line: " << h.error().message;
}

// A small valid file: two metadata values, one 4x32 F32 tensor and one
// 2x32 Q8_0 tensor.
GgufBuilder valid_file() {
  GgufBuilder b;
  b.header(2, 2).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 1);
  b.tensor_info("a", {32, 4}, 0, 0).tensor_info("b", {32, 2}, 8, 512);
  b.pad().zeros(512 + 2 * 34);
  return b;
}

TEST(Gguf, ReadsLlamaCppFilesOfEveryFixture) {
  struct Case {
    const char* model;
    const char* arch;
    size_t n_tensors;
  } cases[] = {{"deepseek2-v2-micro", "deepseek2", 50},
               {"deepseek2-v3-micro", "deepseek2", 52},
               {"llama-micro", "llama", 22},
               {"qwen2-micro", "qwen2", 26}};
  for (const Case& c : cases) {
    for (const char* type : {"f32", "q8_0"}) {
      auto file = open_gguf(fixture(c.model, std::string("model-") + type + ".gguf"));
      ASSERT_TRUE(file.ok()) << file.error().message;
      const GgufHeader& h = file->header;
      EXPECT_EQ(h.version, 3u);
      EXPECT_EQ(h.alignment, 32u);
      EXPECT_EQ(h.data_offset % 32, 0u);
      EXPECT_EQ(h.tensors.size(), c.n_tensors) << c.model;
      ASSERT_NE(h.find("general.architecture"), nullptr);
      EXPECT_EQ(h.find("general.architecture")->as_string().value(), c.arch);
      const GgufValue* tokens = h.find("tokenizer.ggml.tokens");
      ASSERT_NE(tokens, nullptr);
      EXPECT_TRUE(tokens->is_array());
      EXPECT_EQ(tokens->element_type, GgufType::kString);
      EXPECT_EQ(tokens->count, 384u);
      EXPECT_EQ(tokens->strings[0], "!");
      const GgufValue* types = h.find("tokenizer.ggml.token_type");
      ASSERT_NE(types, nullptr);
      EXPECT_EQ(types->element(0).as_int().value(), 1);
      auto tensors = file->tensors();
      ASSERT_TRUE(tensors.ok()) << tensors.error().message;
      for (const Tensor& t : *tensors) {
        EXPECT_GE(t.data, file->mapping->data() + h.data_offset);
        EXPECT_LE(t.data + t.n_bytes, file->mapping->data() + file->mapping->size());
      }
    }
  }
  auto v3 = open_gguf(fixture("deepseek2-v3-micro", "model-q4_0.gguf"));
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->header.find("deepseek2.expert_gating_func")->as_int().value(), 2);
  EXPECT_EQ(v3->header.find("deepseek2.expert_weights_norm")->as_bool().value(), true);
  EXPECT_FLOAT_EQ(static_cast<float>(v3->header.find("deepseek2.expert_weights_scale")->as_number().value()), 2.5f);
  auto tensors = v3->tensors();
  ASSERT_TRUE(tensors.ok());
  // ggml ne [32, 64, 4] (innermost first) is shape [4, 64, 32].
  bool found = false;
  for (const Tensor& t : *tensors) {
    if (t.name != "blk.1.attn_k_b.weight") continue;
    found = true;
    EXPECT_EQ(t.dtype, DType::Q4_0);
    EXPECT_EQ(t.rank, 3);
    EXPECT_EQ(t.shape_string(), "[4, 64, 32]");
    EXPECT_EQ(t.n_bytes, 4 * 64 * 18);
  }
  EXPECT_TRUE(found);
}

// The f32 GGUF and the bf16 safetensors hold bit-identical numbers (see the
// fixture README): tensor data found through GGUF offsets must match.
TEST(Gguf, TensorDataMatchesTheSafetensorsTwin) {
  auto file = open_gguf(fixture("qwen2-micro", "model-f32.gguf"));
  ASSERT_TRUE(file.ok());
  auto tensors = file->tensors();
  ASSERT_TRUE(tensors.ok());
  auto hf = open_hf_folder(fixture("qwen2-micro", "hf"), false);
  ASSERT_TRUE(hf.ok()) << hf.error().message;
  const std::pair<const char*, const char*> pairs[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"blk.1.ffn_down.weight", "model.layers.1.mlp.down_proj.weight"},
      {"blk.0.attn_v.bias", "model.layers.0.self_attn.v_proj.bias"},
      {"output_norm.weight", "model.norm.weight"}};
  for (auto [gguf_name, hf_name] : pairs) {
    const Tensor* g = nullptr;
    for (const Tensor& t : *tensors)
      if (t.name == gguf_name) g = &t;
    ASSERT_NE(g, nullptr) << gguf_name;
    auto h = hf->weights.take(hf_name);
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(g->shape_string(), h->shape_string()) << gguf_name;
    std::vector<float> a(static_cast<size_t>(g->cols())), b(a.size());
    for (int64_t r = 0; r < g->rows(); ++r) {
      kernels::decode_row_reference(*g, r, 0, g->cols(), a.data());
      kernels::decode_row_reference(h.value(), r, 0, h->cols(), b.data());
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), 4 * a.size())) << gguf_name << " row " << r;
    }
  }
}

TEST(Gguf, ReadsEveryValueTypeAndNestedArrays) {
  GgufBuilder b;
  b.header(0, 14);
  b.str("u8").u32(0).u8(200);
  b.str("i8").u32(1).u8(0xFF);
  b.str("u16").u32(2).u8(0x34).u8(0x12);
  b.str("i16").u32(3).u8(0xFE).u8(0xFF);
  b.str("u32").u32(4).u32(4000000000u);
  b.str("i32").u32(5).u32(static_cast<uint32_t>(-7));
  b.str("f32").u32(6).f32(1.5f);
  b.str("bool").u32(7).u8(1);
  b.str("str").u32(8).str("héllo");
  b.str("u64").u32(10).u64(~uint64_t{0});
  b.str("i64").u32(11).u64(static_cast<uint64_t>(-5));
  double d = -0.25;
  b.str("f64").u32(12).raw(&d, 8);
  // [[1, 2], [3]] as arrays of int32, and [["x"], []] as arrays of strings.
  b.str("nested").u32(9).u32(9).u64(2);
  b.u32(5).u64(2).u32(1).u32(2);
  b.u32(5).u64(1).u32(3);
  b.str("nested_str").u32(9).u32(9).u64(2);
  b.u32(8).u64(1).str("x");
  b.u32(8).u64(0);
  auto h = parse(b.bytes);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->find("u8")->as_int().value(), 200);
  EXPECT_EQ(h->find("i8")->as_int().value(), -1);
  EXPECT_EQ(h->find("u16")->as_int().value(), 0x1234);
  EXPECT_EQ(h->find("i16")->as_int().value(), -2);
  EXPECT_EQ(h->find("u32")->as_int().value(), 4000000000LL);
  EXPECT_EQ(h->find("i32")->as_int().value(), -7);
  EXPECT_EQ(h->find("f32")->as_number().value(), 1.5);
  EXPECT_EQ(h->find("bool")->as_bool().value(), true);
  EXPECT_EQ(h->find("str")->as_string().value(), "héllo");
  EXPECT_FALSE(h->find("u64")->as_int().has_value());  // does not fit in int64
  EXPECT_EQ(h->find("u64")->bits, ~uint64_t{0});
  EXPECT_EQ(h->find("i64")->as_int().value(), -5);
  EXPECT_EQ(h->find("f64")->as_number().value(), -0.25);
  EXPECT_FALSE(h->find("str")->as_int().has_value());
  const GgufValue* nested = h->find("nested");
  ASSERT_EQ(nested->arrays.size(), 2u);
  EXPECT_EQ(nested->arrays[0].element(1).as_int().value(), 2);
  EXPECT_EQ(nested->arrays[1].element(0).as_int().value(), 3);
  const GgufValue* nested_str = h->find("nested_str");
  EXPECT_EQ(nested_str->arrays[0].strings[0], "x");
  EXPECT_EQ(nested_str->arrays[1].count, 0u);
}

TEST(Gguf, AcceptsTheSmallValidFile) {
  auto h = parse(valid_file().bytes);
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->tensors.size(), 2u);
  EXPECT_EQ(h->tensors[1].n_bytes, 68u);
  EXPECT_EQ(h->tensors[1].offset, h->data_offset + 512);
}

TEST(Gguf, RejectsBadHeaders) {
  expect_rejected({'G', 'G', 'U'}, "not a GGUF file");
  expect_rejected({'G', 'G', 'M', 'L', 3, 0, 0, 0}, "not a GGUF file");
  expect_rejected(GgufBuilder().raw("GGUF", 4).u32(3).u32(0).bytes, "cut off");
  expect_rejected(GgufBuilder().header(0, 0, 1).bytes, "version 1");
  expect_rejected(GgufBuilder().header(0, 0, 7).bytes, "version 7");
  expect_rejected(GgufBuilder().header(0, 0, 0x03000000).bytes, "big-endian");
}

TEST(Gguf, RejectsBadCounts) {
  expect_rejected(GgufBuilder().header(0, uint64_t{1} << 60).bytes, "metadata count");
  expect_rejected(GgufBuilder().header(~uint64_t{0}, 0).bytes, "tensor count");
  // One key/value announced, none present.
  expect_rejected(GgufBuilder().header(0, 1).zeros(20).bytes, "metadata entry 0");
  // Two tensors announced, one described.
  GgufBuilder b;
  b.header(2, 0).tensor_info("a", {32}, 0, 0).zeros(40);
  expect_rejected(b.bytes, "tensor 1");
}

TEST(Gguf, RejectsBadStringsAndValues) {
  expect_rejected(GgufBuilder().header(0, 1).u64(~uint64_t{0}).zeros(16).bytes, "runs past the end");
  expect_rejected(GgufBuilder().header(0, 1).str("k").u32(8).u64(1000).zeros(8).bytes, "string length 1000");
  expect_rejected(GgufBuilder().header(0, 1).str("k").u32(13).u32(0).bytes, "value type 13 is unknown");
  expect_rejected(GgufBuilder().header(0, 1).str("k").u32(9).u32(77).u64(1).u32(0).bytes,
                  "array element type 77");
  expect_rejected(GgufBuilder().header(0, 1).str("k").u32(9).u32(4).u64(uint64_t{1} << 61).zeros(16).bytes,
                  "runs past the end");
  expect_rejected(GgufBuilder().header(0, 1).str("k").u32(7).u8(2).bytes, "neither 0 nor 1");
  expect_rejected(GgufBuilder().header(0, 1).str("").u32(4).u32(1).bytes, "empty key");
  expect_rejected(GgufBuilder().header(0, 2).kv_u32("k", 1).kv_u32("k", 2).bytes, "appears twice");
  // Arrays nested nine deep.
  GgufBuilder deep;
  deep.header(0, 1).str("k").u32(9);
  for (int i = 0; i < 9; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  expect_rejected(deep.bytes, "nested deeper");
}

TEST(Gguf, RejectsBadAlignment) {
  expect_rejected(GgufBuilder().header(0, 1).kv_u32("general.alignment", 48).bytes, "not a power of two");
  expect_rejected(GgufBuilder().header(0, 1).kv_u32("general.alignment", 0).bytes, "not a power of two");
  expect_rejected(GgufBuilder().header(0, 1).kv_str("general.alignment", "32").bytes, "must be a uint32");
}

TEST(Gguf, RejectsBadTensorInfos) {
  auto one = [](const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset, size_t data) {
    GgufBuilder b;
    b.header(1, 0).tensor_info(name, std::move(ne), type, offset).pad().zeros(data);
    return b.bytes;
  };
  expect_rejected(one("t", {}, 0, 0, 64), "0 dimensions");
  expect_rejected(one("t", {1, 1, 1, 1, 1}, 0, 0, 64), "5 dimensions");
  expect_rejected(one("t", {~uint64_t{0}}, 0, 0, 64), "is absurd");
  expect_rejected(one("t", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0, 64), "overflows");
  expect_rejected(one("t", {uint64_t{1} << 62}, 0, 0, 64), "byte size");  // 2^62 f32 elements: 2^64 bytes
  expect_rejected(one("t", {32}, 4, 0, 64), "unknown ggml type 4");
  expect_rejected(one("t", {32}, 99, 0, 64), "unknown ggml type 99");
  expect_rejected(one("t", {33}, 8, 0, 64), "not whole Q8_0 blocks");
  expect_rejected(one("t", {8}, 0, 4, 64), "not a multiple of the alignment");
  expect_rejected(one("t", {32}, 0, 0, 100), "runs past the end");
  expect_rejected(one("t", {8}, 0, uint64_t{1} << 62, 64), "runs past the end");
  expect_rejected(one("", {8}, 0, 0, 64), "empty name");
  expect_rejected(one(std::string(65, 'x'), {8}, 0, 0, 64), "longer than 64");
  GgufBuilder dup;
  dup.header(2, 0).tensor_info("t", {8}, 0, 0).tensor_info("t", {8}, 0, 32).pad().zeros(64);
  expect_rejected(dup.bytes, "appears twice");
  GgufBuilder overlap;
  overlap.header(2, 0).tensor_info("a", {16}, 0, 0).tensor_info("b", {8}, 0, 32).pad().zeros(64);
  expect_rejected(overlap.bytes, "overlaps");
  // Tensor descriptions that end where the data section would start past the end of the file.
  GgufBuilder cut;
  cut.header(1, 0).tensor_info("a", {8}, 0, 0);
  cut.bytes.push_back(0);
  expect_rejected(cut.bytes, "past the end of the file");
}

// Every prefix of a valid file is refused, cleanly (ASan watches the reads).
TEST(Gguf, RejectsEveryTruncation) {
  const std::vector<uint8_t> whole = valid_file().bytes;
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<uint8_t> part(whole.begin(), whole.begin() + static_cast<long>(n));
    EXPECT_FALSE(parse(part).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(Gguf, NamesUnsupportedTensorTypes) {
  GgufBuilder b;
  b.header(1, 0).tensor_info("blk.0.ffn_up.weight", {256}, 16, 0).pad().zeros(66);  // IQ2_XXS
  const std::string path = ::testing::TempDir() + "/iq2.gguf";
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(b.bytes.data(), 1, b.bytes.size(), f);
  std::fclose(f);
  auto file = open_gguf(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto tensors = file->tensors();
  ASSERT_FALSE(tensors.ok());
  EXPECT_NE(tensors.error().message.find("'blk.0.ffn_up.weight' has type IQ2_XXS"), std::string::npos);
  EXPECT_TRUE(looks_like_gguf(path));
  std::remove(path.c_str());
}

TEST(Gguf, GgmlTypeTableAgreesWithDTypes) {
  for (uint32_t id = 0; id < 64; ++id) {
    const GgmlTypeInfo* t = ggml_type_info(id);
    if (!t || !t->dtype) continue;
    EXPECT_EQ(dtype_info(*t->dtype).block_elements, t->block_elements) << t->name;
    EXPECT_EQ(dtype_info(*t->dtype).block_bytes, t->block_bytes) << t->name;
    EXPECT_EQ(dtype_info(*t->dtype).name, t->name) << t->name;
    EXPECT_EQ(ggml_type_of(*t->dtype).value(), id);
  }
  EXPECT_FALSE(ggml_type_of(DType::F8_E4M3).has_value());
}

}  // namespace
}  // namespace dseek

namespace dseek {
namespace {
// The fuzzer's seeds (made by fuzz/corpus/make_gguf_seeds.py) must stay valid
// files, or the fuzzer starts from nothing.
TEST(Gguf, FuzzSeedsAreValid) {
  for (const char* seed : {"every_type.gguf", "tensors.gguf", "alignment64.gguf"}) {
    auto file = open_gguf(testing::repo_path(std::string("fuzz/corpus/gguf_fuzzer/") + seed));
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_TRUE(file->tensors().ok()) << seed;
  }
}
}  // namespace
}  // namespace dseek
