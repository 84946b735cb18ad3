// The checkpoint writer against the safetensors format as specified (u64
// little-endian header size, JSON header with dtype/shape/data_offsets
// relative to the data, padded with spaces to 8 bytes), byte for byte.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "test_files.h"

namespace dseek {
namespace {

std::string le_u64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

TEST(SafetensorsWriter, BytesFollowTheFormat) {
  const float a[4] = {1.0f, -2.0f, 0.5f, 3.0f};
  // bf16: 1.0 -> 0x3f80; 1.00390625 (exactly between 1.0 and 1.0078125) -> 0x3f80 (ties to even);
  // 1.01171875 (between 0x3f81 and 0x3f82) -> 0x3f82 (even).
  const float b[3] = {1.0f, 1.00390625f, 1.01171875f};
  auto bytes = safetensors_file_bytes({{"a", {2, 2}, a, DType::F32}, {"b", {3}, b, DType::BF16}}, {{"format", "pt"}});
  ASSERT_TRUE(bytes) << bytes.error().message;
  std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string want = le_u64(header.size()) + header;
  want.append(reinterpret_cast<const char*>(a), 16);
  want += std::string("\x80\x3f\x80\x3f\x82\x3f", 6);
  EXPECT_EQ(bytes.value(), want);
}

TEST(SafetensorsWriter, RefusesWhatTheFormatCannotHold) {
  const float x = 1.0f;
  EXPECT_FALSE(safetensors_file_bytes({{"a", {1}, &x}, {"a", {1}, &x}}, {}));  // duplicate
  EXPECT_FALSE(safetensors_file_bytes({{"__metadata__", {1}, &x}}, {}));
  EXPECT_FALSE(safetensors_file_bytes({{"a", {-1}, &x}}, {}));
  EXPECT_FALSE(safetensors_file_bytes({{"a", {1}, &x, DType::F8_E4M3}}, {}));
}

TEST(SafetensorsWriter, WritesAFileTheReaderOpens) {
  const std::string dir = testing::make_temp_dir("st_writer");
  std::vector<float> w(6);
  for (int i = 0; i < 6; ++i) w[i] = 0.25f * i;
  ASSERT_TRUE(write_safetensors(dir + "/m.safetensors", {{"w", {2, 3}, w.data()}, {"s", {}, w.data()}}));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.safetensors.tmp"));
  auto f = open_safetensors(dir + "/m.safetensors");
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->tensors.size(), 2u);
  EXPECT_EQ(f->metadata.at("format"), "pt");
  auto status = write_safetensors(dir + "/no/such/folder/m.safetensors", {{"w", {1}, w.data()}});
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("no/such/folder"), std::string::npos) << status.error().message;
}

}  // namespace
}  // namespace dseek
