// The safetensors parser against well-formed files and files that lie: every
// lie must be refused with a message naming the file and the problem, before
// any tensor byte is read.
#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include "test_files.h"

namespace dseek {
namespace {

using testing::f32_bytes;
using testing::safetensors_bytes;
using testing::safetensors_header;
using testing::TensorSpec;

std::vector<TensorSpec> two_tensors() {
  return {{"a", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})}, {"b", "BF16", {4}, std::string(8, '\x3f')}};
}

Result<SafetensorsHeader> parse(const std::string& bytes) {
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "model.safetensors");
}

// Expects a failure whose message names the file and contains `fragment`.
void expect_error(const std::string& bytes, const std::string& fragment) {
  auto r = parse(bytes);
  ASSERT_FALSE(r.ok()) << "accepted a file that should fail with '" << fragment << "'";
  EXPECT_NE(r.error().message.find("model.safetensors"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

TEST(Safetensors, ParsesAWellFormedFile) {
  std::string bytes = safetensors_bytes(two_tensors());
  auto r = parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[0].name, "a");
  EXPECT_EQ(r->entries[0].dtype, DType::F32);
  EXPECT_EQ(r->entries[0].rank, 2);
  EXPECT_EQ(r->entries[0].shape[1], 3);
  EXPECT_EQ(r->entries[0].n_bytes, 24u);
  EXPECT_EQ(r->entries[1].dtype, DType::BF16);
  EXPECT_EQ(r->entries[1].offset, r->entries[0].offset + 24);
  EXPECT_EQ(r->metadata.at("format"), "pt");
  float first;
  std::memcpy(&first, bytes.data() + r->entries[0].offset, 4);
  EXPECT_EQ(first, 1.0f);
}

TEST(Safetensors, AcceptsEmptyAndScalarTensors) {
  auto r = parse(safetensors_bytes({{"e", "F16", {0, 7}, ""}, {"s", "I64", {}, std::string(8, '\1')}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries.size(), 2u);
}

TEST(Safetensors, RejectsTooShortFile) { expect_error("abc", "too short"); }

TEST(Safetensors, RejectsHeaderLengthPastEnd) {
  std::string bytes = safetensors_bytes(two_tensors());
  bytes[0] = '\xff';
  bytes[1] = '\xff';
  expect_error(bytes, "past the end of the file");
}

TEST(Safetensors, RejectsAbsurdHeaderLength) {
  std::string bytes = safetensors_bytes(two_tensors());
  bytes[7] = '\x7f';
  expect_error(bytes, "absurd");
}

TEST(Safetensors, RejectsTruncatedData) {
  std::string bytes = safetensors_bytes(two_tensors());
  expect_error(bytes.substr(0, bytes.size() - 3), "past the end of the data");
}

TEST(Safetensors, RejectsHeaderThatIsNotJson) {
  std::string bytes = safetensors_bytes(two_tensors());
  bytes[8] = '[';
  bytes[9] = '{';
  expect_error(bytes, "not valid JSON");
}

TEST(Safetensors, RejectsUnknownDtype) {
  auto header = safetensors_header(two_tensors());
  header["a"]["dtype"] = "F128";
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "unknown dtype 'F128'");
}

TEST(Safetensors, RejectsShapeThatDoesNotMatchTheBytes) {
  auto header = safetensors_header(two_tensors());
  header["a"]["shape"] = {3, 3};
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "needs 36");
}

TEST(Safetensors, RejectsOverflowingShape) {
  auto header = safetensors_header(two_tensors());
  header["a"]["shape"] = {uint64_t{1} << 40, uint64_t{1} << 40, 16};
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "overflows");
}

TEST(Safetensors, RejectsNegativeDimension) {
  auto header = safetensors_header(two_tensors());
  header["a"]["shape"] = {-2, -3};
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "non-integer or negative");
}

TEST(Safetensors, RejectsOverlappingTensors) {
  auto header = safetensors_header(two_tensors());
  header["b"]["data_offsets"] = {16, 24};
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "overlaps");
}

TEST(Safetensors, RejectsGapsAndTrailingBytes) {
  auto header = safetensors_header(two_tensors());
  header["b"]["data_offsets"] = {26, 34};
  expect_error(safetensors_bytes(header, std::string(34, '\0')), "gap");
  expect_error(safetensors_bytes(two_tensors()) + "xx", "not described by the header");
}

TEST(Safetensors, RejectsOffsetsOutOfOrderOrMissing) {
  auto header = safetensors_header(two_tensors());
  header["a"]["data_offsets"] = {24, 0};
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "begin > end");
  header = safetensors_header(two_tensors());
  header["a"].erase("data_offsets");
  expect_error(safetensors_bytes(header, std::string(32, '\0')), "data_offsets");
}

TEST(Safetensors, RejectsRankAboveFour) {
  auto header = safetensors_header({{"x", "U8", {1, 1, 1, 1, 2}, "ab"}});
  expect_error(safetensors_bytes(header, "ab"), "rank 5");
}

TEST(Safetensors, OpenReportsMissingFile) {
  auto r = open_safetensors("/nonexistent/model.safetensors");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/model.safetensors: cannot open"), std::string::npos);
}

}  // namespace
}  // namespace dseek
