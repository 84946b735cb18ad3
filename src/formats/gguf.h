// GGUF (versions 2 and 3, little-endian), the single-file format of
// llama.cpp/ggml: a header, typed metadata key/value pairs, tensor
// descriptions, then the tensor data, aligned to general.alignment.
//
// GGUF files come from anywhere and llama.cpp's own parser has had heap
// overflows, so parse_gguf() trusts nothing: every count, length, dimension,
// type and offset is checked against the bytes actually present before a
// single tensor byte is looked at, and every failure is a one-line message
// naming the file, the part and the byte offset. Strings and arrays are views
// into the caller's buffer (the mmap): nothing is copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/mapped_file.h"
#include "util/result.h"
#include "weights/tensor.h"

namespace dseek {

// Metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view gguf_type_name(GgufType t);

// One metadata value. Scalars keep their little-endian bits; arrays of
// numbers point at their elements in the file (unaligned: read them through
// the accessors), arrays of strings and nested arrays are decoded.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  uint64_t bits = 0;        // numeric scalar or bool, zero-extended
  std::string_view string;  // kString
  // kArray:
  GgufType element_type = GgufType::kUint8;
  uint64_t count = 0;
  const uint8_t* elements = nullptr;       // numeric and bool elements, packed
  std::vector<std::string_view> strings;   // string elements
  std::vector<GgufValue> arrays;           // nested array elements

  bool is_array() const { return type == GgufType::kArray; }
  // Any integer type whose value fits in int64 (not bool, not floats).
  std::optional<int64_t> as_int() const;
  // Float32/Float64, or an integer type (exactly when it is small enough).
  std::optional<double> as_number() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;
  // Element i of a numeric array as a scalar value (no nested arrays, no strings).
  GgufValue element(uint64_t i) const;
  // A short rendering for messages and `dseek info`.
  std::string describe() const;
};

// ggml tensor types as numbered in GGUF files (ggml.h's enum ggml_type).
struct GgmlTypeInfo {
  uint32_t id;
  std::string_view name;
  int64_t block_elements;
  int64_t block_bytes;
  std::optional<DType> dtype;  // what dseek computes with, if it can
};
// nullptr for ids that are not (or no longer) ggml types.
const GgmlTypeInfo* ggml_type_info(uint32_t id);
// The ggml type id that stores a dseek DType, if any.
std::optional<uint32_t> ggml_type_of(DType t);

struct GgufTensorInfo {
  std::string_view name;
  int n_dims = 0;
  std::array<uint64_t, 4> ne{};  // ggml order: ne[0] is the innermost (contiguous) dimension
  uint32_t ggml_type = 0;
  uint64_t offset = 0;   // from the start of the file (data section start + relative offset)
  uint64_t n_bytes = 0;
};

struct GgufHeader {
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // start of the data section
  // Metadata in file order, and an index by key.
  std::vector<std::pair<std::string_view, GgufValue>> metadata;
  std::map<std::string_view, size_t> metadata_index;
  std::vector<GgufTensorInfo> tensors;  // in file order

  const GgufValue* find(std::string_view key) const;
};

// Limits that are far above any real model and keep hostile files from making
// the parser allocate or recurse without bound.
inline constexpr int kGgufMaxArrayDepth = 8;
inline constexpr uint64_t kGgufMaxNameBytes = 64;  // tensor names, per the spec

// Validates the header of a complete GGUF file held in [data, data+size).
// `source` names the file in error messages.
Result<GgufHeader> parse_gguf(const uint8_t* data, size_t size, const std::string& source);

struct GgufFile {
  std::shared_ptr<MappedFile> mapping;
  GgufHeader header;  // views into the mapping
  // Tensors as dseek sees them: shape outermost first (the reverse of ggml's ne).
  // Fails naming the tensor when its type is one dseek cannot compute with.
  Result<std::vector<Tensor>> tensors() const;
};

Result<GgufFile> open_gguf(const std::string& path);

// True when the file at `path` starts with the GGUF magic.
bool looks_like_gguf(const std::string& path);

}  // namespace dseek
