#include "formats/gguf.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

namespace dseek {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;

// ggml.h's enum ggml_type with the block geometry of ggml.c's type traits.
// Ids 4, 5, 31-33 and 36-38 were removed from ggml and are unknown here.
constexpr GgmlTypeInfo kGgmlTypes[] = {
    {0, "F32", 1, 4, DType::F32},
    {1, "F16", 1, 2, DType::F16},
    {2, "Q4_0", 32, 18, DType::Q4_0},
    {3, "Q4_1", 32, 20, DType::Q4_1},
    {6, "Q5_0", 32, 22, DType::Q5_0},
    {7, "Q5_1", 32, 24, DType::Q5_1},
    {8, "Q8_0", 32, 34, DType::Q8_0},
    {9, "Q8_1", 32, 36, std::nullopt},
    {10, "Q2_K", 256, 84, DType::Q2_K},
    {11, "Q3_K", 256, 110, DType::Q3_K},
    {12, "Q4_K", 256, 144, DType::Q4_K},
    {13, "Q5_K", 256, 176, DType::Q5_K},
    {14, "Q6_K", 256, 210, DType::Q6_K},
    {15, "Q8_K", 256, 292, std::nullopt},
    {16, "IQ2_XXS", 256, 66, std::nullopt},
    {17, "IQ2_XS", 256, 74, std::nullopt},
    {18, "IQ3_XXS", 256, 98, std::nullopt},
    {19, "IQ1_S", 256, 50, std::nullopt},
    {20, "IQ4_NL", 32, 18, std::nullopt},
    {21, "IQ3_S", 256, 110, std::nullopt},
    {22, "IQ2_S", 256, 82, std::nullopt},
    {23, "IQ4_XS", 256, 136, std::nullopt},
    {24, "I8", 1, 1, DType::I8},
    {25, "I16", 1, 2, DType::I16},
    {26, "I32", 1, 4, DType::I32},
    {27, "I64", 1, 8, DType::I64},
    {28, "F64", 1, 8, DType::F64},
    {29, "IQ1_M", 256, 56, std::nullopt},
    {30, "BF16", 1, 2, DType::BF16},
    {34, "TQ1_0", 256, 54, std::nullopt},
    {35, "TQ2_0", 256, 66, std::nullopt},
    {39, "MXFP4", 32, 17, std::nullopt},
};

// A bounds-checked little-endian reader over the file. Every read either
// succeeds entirely or leaves an error naming what was being read and where.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }

  bool read_bytes(void* out, size_t n) {
    if (n > remaining()) return false;
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(uint64_t n) {
    if (n > remaining()) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool u32(uint32_t& v) { return read_bytes(&v, 4); }
  bool u64(uint64_t& v) { return read_bytes(&v, 8); }
  // A GGUF string: u64 length, then that many bytes (UTF-8, no terminator).
  bool string(std::string_view& s, std::string& why) {
    uint64_t len = 0;
    if (!u64(len)) {
      why = "the string length is cut off by the end of the file";
      return false;
    }
    if (len > remaining()) {
      why = "string length " + std::to_string(len) + " runs past the end of the file";
      return false;
    }
    s = std::string_view(reinterpret_cast<const char*>(here()), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

int scalar_size(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool: return 1;
    case GgufType::kUint16:
    case GgufType::kInt16: return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32: return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64: return 8;
    case GgufType::kString:
    case GgufType::kArray: return 0;
  }
  return 0;
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

// The fewest bytes one value of type t takes in the file: bounds array
// counts before anything is allocated for them.
uint64_t min_value_bytes(GgufType t) {
  if (t == GgufType::kString) return 8;
  if (t == GgufType::kArray) return 12;
  return static_cast<uint64_t>(scalar_size(t));
}

class Parser {
 public:
  Parser(const uint8_t* data, size_t size, const std::string& source) : cur_(data, size), source_(source) {}

  Result<GgufHeader> run();

 private:
  Error fail(const std::string& what) const {
    return Error{source_ + ": " + what + " (at byte " + std::to_string(cur_.pos()) + ")"};
  }
  bool read_value(GgufType type, GgufValue& out, int depth, std::string& why);
  Status read_metadata(uint64_t n_kv);
  Status read_tensor_infos(uint64_t n_tensors);
  Status place_tensors(size_t file_size);

  Cursor cur_;
  const std::string& source_;
  GgufHeader h_;
};

bool Parser::read_value(GgufType type, GgufValue& out, int depth, std::string& why) {
  out.type = type;
  if (type == GgufType::kString) return cur_.string(out.string, why);
  if (type != GgufType::kArray) {
    const int n = scalar_size(type);
    uint64_t bits = 0;
    if (!cur_.read_bytes(&bits, static_cast<size_t>(n))) {
      why = std::string(gguf_type_name(type)) + " value is cut off by the end of the file";
      return false;
    }
    if (type == GgufType::kBool && bits > 1) {
      why = "bool value " + std::to_string(bits) + " is neither 0 nor 1";
      return false;
    }
    out.bits = bits;
    return true;
  }
  if (depth >= kGgufMaxArrayDepth) {
    why = "arrays nested deeper than " + std::to_string(kGgufMaxArrayDepth) + " levels";
    return false;
  }
  uint32_t element_type = 0;
  uint64_t count = 0;
  if (!cur_.u32(element_type) || !cur_.u64(count)) {
    why = "array header is cut off by the end of the file";
    return false;
  }
  if (!valid_type(element_type)) {
    why = "array element type " + std::to_string(element_type) + " is unknown";
    return false;
  }
  out.element_type = static_cast<GgufType>(element_type);
  const uint64_t min_bytes = min_value_bytes(out.element_type);
  if (count > cur_.remaining() / min_bytes) {
    why = "array of " + std::to_string(count) + " " + std::string(gguf_type_name(out.element_type)) +
          " values runs past the end of the file";
    return false;
  }
  out.count = count;
  if (out.element_type == GgufType::kString) {
    out.strings.resize(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      if (!cur_.string(out.strings[i], why)) {
        why = "array element " + std::to_string(i) + ": " + why;
        return false;
      }
    }
  } else if (out.element_type == GgufType::kArray) {
    out.arrays.resize(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      if (!read_value(GgufType::kArray, out.arrays[i], depth + 1, why)) {
        why = "array element " + std::to_string(i) + ": " + why;
        return false;
      }
    }
  } else {
    out.elements = cur_.here();
    const uint64_t bytes = count * min_bytes;  // cannot overflow: bounded by remaining()
    if (out.element_type == GgufType::kBool) {
      for (uint64_t i = 0; i < count; ++i)
        if (out.elements[i] > 1) {
          why = "array element " + std::to_string(i) + ": bool value " + std::to_string(out.elements[i]) +
                " is neither 0 nor 1";
          return false;
        }
    }
    cur_.skip(bytes);
  }
  return true;
}

Status Parser::read_metadata(uint64_t n_kv) {
  h_.metadata.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    std::string why;
    const std::string which = "metadata entry " + std::to_string(i);
    if (!cur_.string(key, why)) return fail(which + ": key: " + why);
    if (key.empty()) return fail(which + ": empty key");
    const std::string named = which + " ('" + std::string(key.substr(0, 80)) + "')";
    uint32_t type = 0;
    if (!cur_.u32(type)) return fail(named + ": value type is cut off by the end of the file");
    if (!valid_type(type)) return fail(named + ": value type " + std::to_string(type) + " is unknown");
    GgufValue value;
    if (!read_value(static_cast<GgufType>(type), value, 0, why)) return fail(named + ": " + why);
    if (!h_.metadata_index.emplace(key, h_.metadata.size()).second)
      return fail(named + ": key appears twice");
    h_.metadata.emplace_back(key, std::move(value));
  }
  if (const GgufValue* a = h_.find("general.alignment")) {
    if (a->type != GgufType::kUint32)
      return fail("general.alignment must be a uint32, found " + std::string(gguf_type_name(a->type)));
    const uint64_t alignment = a->bits;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > kMaxAlignment)
      return fail("general.alignment " + std::to_string(alignment) + " is not a power of two up to 2^30");
    h_.alignment = alignment;
  }
  return ok_status();
}

Status Parser::read_tensor_infos(uint64_t n_tensors) {
  h_.tensors.reserve(static_cast<size_t>(n_tensors));
  std::set<std::string_view> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    std::string why;
    const std::string which = "tensor " + std::to_string(i);
    if (!cur_.string(t.name, why)) return fail(which + ": name: " + why);
    if (t.name.empty()) return fail(which + ": empty name");
    if (t.name.size() > kGgufMaxNameBytes)
      return fail(which + ": name of " + std::to_string(t.name.size()) + " bytes is longer than 64");
    const std::string named = "tensor '" + std::string(t.name) + "'";
    if (!names.insert(t.name).second) return fail(named + " appears twice");
    uint32_t n_dims = 0;
    if (!cur_.u32(n_dims)) return fail(named + ": dimension count is cut off by the end of the file");
    if (n_dims < 1 || n_dims > 4) return fail(named + ": " + std::to_string(n_dims) + " dimensions (expected 1 to 4)");
    t.n_dims = static_cast<int>(n_dims);
    uint64_t numel = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < n_dims; ++d) {
      if (!cur_.u64(t.ne[d])) return fail(named + ": dimensions are cut off by the end of the file");
      if (t.ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return fail(named + ": dimension " + std::to_string(t.ne[d]) + " is absurd");
      overflow = overflow || __builtin_mul_overflow(numel, t.ne[d], &numel);
    }
    std::string shape = "[";
    for (int d = 0; d < t.n_dims; ++d) shape += (d ? ", " : "") + std::to_string(t.ne[d]);
    shape += "]";
    if (overflow || numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fail(named + ": the element count of dimensions " + shape + " overflows");
    if (!cur_.u32(t.ggml_type)) return fail(named + ": type is cut off by the end of the file");
    const GgmlTypeInfo* type = ggml_type_info(t.ggml_type);
    if (!type) return fail(named + ": unknown ggml type " + std::to_string(t.ggml_type));
    if (t.ne[0] % static_cast<uint64_t>(type->block_elements) != 0)
      return fail(named + ": rows of " + std::to_string(t.ne[0]) + " elements are not whole " + std::string(type->name) +
                  " blocks of " + std::to_string(type->block_elements));
    // numel / block * block_bytes: the quotient is exact, the product checked.
    if (__builtin_mul_overflow(numel / static_cast<uint64_t>(type->block_elements),
                               static_cast<uint64_t>(type->block_bytes), &t.n_bytes))
      return fail(named + ": the byte size of dimensions " + shape + " overflows");
    if (!cur_.u64(t.offset)) return fail(named + ": offset is cut off by the end of the file");
    if (t.offset % h_.alignment != 0)
      return fail(named + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                  std::to_string(h_.alignment));
    h_.tensors.push_back(t);
  }
  return ok_status();
}

// Turns relative offsets into file offsets; every tensor must lie inside the
// file and no two may overlap.
Status Parser::place_tensors(size_t file_size) {
  const uint64_t end_of_infos = cur_.pos();
  const uint64_t data = (end_of_infos + h_.alignment - 1) / h_.alignment * h_.alignment;
  h_.data_offset = data;
  if (h_.tensors.empty()) return ok_status();
  if (data > file_size)
    return Error{source_ + ": the data section (at byte " + std::to_string(data) +
                 ") starts past the end of the file (" + std::to_string(file_size) + " bytes; truncated?)"};
  const uint64_t data_size = file_size - data;
  std::vector<size_t> order(h_.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (GgufTensorInfo& t : h_.tensors) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset)
      return Error{source_ + ": tensor '" + std::string(t.name) + "': data [" + std::to_string(t.offset) + ", +" +
                   std::to_string(t.n_bytes) + ") runs past the end of the file (data section holds " +
                   std::to_string(data_size) + " bytes; truncated?)"};
    t.offset += data;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = h_.tensors[a];
    const auto& y = h_.tensors[b];
    return x.offset != y.offset ? x.offset < y.offset : x.n_bytes < y.n_bytes;
  });
  for (size_t i = 1; i < order.size(); ++i) {
    const auto& prev = h_.tensors[order[i - 1]];
    const auto& t = h_.tensors[order[i]];
    if (t.offset < prev.offset + prev.n_bytes && t.n_bytes > 0 && prev.n_bytes > 0)
      return Error{source_ + ": tensor '" + std::string(t.name) + "' overlaps tensor '" + std::string(prev.name) + "'"};
  }
  return ok_status();
}

Result<GgufHeader> Parser::run() {
  uint32_t magic = 0;
  if (!cur_.u32(magic) || magic != kMagic) return Error{source_ + ": not a GGUF file (no 'GGUF' magic)"};
  uint32_t version = 0;
  if (!cur_.u32(version)) return fail("the header is cut off by the end of the file");
  if (version == 2 || version == 3) {
    h_.version = version;
  } else if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3) {
    return Error{source_ + ": big-endian GGUF files are not supported"};
  } else if (version == 1) {
    return Error{source_ + ": GGUF version 1 (32-bit counts) is not supported; convert the file again"};
  } else {
    return Error{source_ + ": GGUF version " + std::to_string(version) + " is not supported (2 and 3 are)"};
  }
  uint64_t n_tensors = 0, n_kv = 0;
  if (!cur_.u64(n_tensors) || !cur_.u64(n_kv)) return fail("the header is cut off by the end of the file");
  // A key/value pair takes at least 8 (key length) + 1 + 4 (type) + 1 bytes,
  // a tensor description 8 + 1 + 4 + 8 + 4 + 8.
  if (n_kv > cur_.remaining() / 14) return fail("metadata count " + std::to_string(n_kv) + " is absurd for the file size");
  if (n_tensors > cur_.remaining() / 33)
    return fail("tensor count " + std::to_string(n_tensors) + " is absurd for the file size");
  DSEEK_TRY(read_metadata(n_kv));
  if (n_tensors > cur_.remaining() / 33)
    return fail("tensor count " + std::to_string(n_tensors) + " is absurd for the file size");
  DSEEK_TRY(read_tensor_infos(n_tensors));
  DSEEK_TRY(place_tensors(cur_.pos() + cur_.remaining()));
  return std::move(h_);
}

}  // namespace

std::string_view gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "?";
}

std::optional<int64_t> GgufValue::as_int() const {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kUint16:
    case GgufType::kUint32: return static_cast<int64_t>(bits);
    case GgufType::kUint64:
      if (bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(bits);
    case GgufType::kInt8: return static_cast<int8_t>(bits);
    case GgufType::kInt16: return static_cast<int16_t>(bits);
    case GgufType::kInt32: return static_cast<int32_t>(bits);
    case GgufType::kInt64: return static_cast<int64_t>(bits);
    default: return std::nullopt;
  }
}

std::optional<double> GgufValue::as_number() const {
  if (type == GgufType::kFloat32) {
    float f;
    uint32_t b = static_cast<uint32_t>(bits);
    std::memcpy(&f, &b, 4);
    return f;
  }
  if (type == GgufType::kFloat64) {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  if (auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (type != GgufType::kBool) return std::nullopt;
  return bits != 0;
}

std::optional<std::string_view> GgufValue::as_string() const {
  if (type != GgufType::kString) return std::nullopt;
  return string;
}

GgufValue GgufValue::element(uint64_t i) const {
  DSEEK_CHECK(type == GgufType::kArray && i < count && elements != nullptr);
  GgufValue v;
  v.type = element_type;
  const int n = scalar_size(element_type);
  std::memcpy(&v.bits, elements + i * static_cast<uint64_t>(n), static_cast<size_t>(n));
  return v;
}

std::string GgufValue::describe() const {
  switch (type) {
    case GgufType::kString: {
      std::string s(string.substr(0, 60));
      return "'" + s + (string.size() > 60 ? "...'" : "'");
    }
    case GgufType::kBool: return bits ? "true" : "false";
    case GgufType::kFloat32:
    case GgufType::kFloat64: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.9g", *as_number());
      return buf;
    }
    case GgufType::kArray:
      return "[" + std::to_string(count) + " x " + std::string(gguf_type_name(element_type)) + "]";
    case GgufType::kUint64: return std::to_string(bits);
    default: return std::to_string(*as_int());
  }
}

const GgmlTypeInfo* ggml_type_info(uint32_t id) {
  for (const GgmlTypeInfo& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

std::optional<uint32_t> ggml_type_of(DType d) {
  for (const GgmlTypeInfo& t : kGgmlTypes)
    if (t.dtype == d) return t.id;
  return std::nullopt;
}

const GgufValue* GgufHeader::find(std::string_view key) const {
  auto it = metadata_index.find(key);
  return it == metadata_index.end() ? nullptr : &metadata[it->second].second;
}

Result<GgufHeader> parse_gguf(const uint8_t* data, size_t size, const std::string& source) {
  Parser parser(data, size, source);
  return parser.run();
}

Result<std::vector<Tensor>> GgufFile::tensors() const {
  std::vector<Tensor> out;
  out.reserve(header.tensors.size());
  for (const GgufTensorInfo& info : header.tensors) {
    const GgmlTypeInfo* type = ggml_type_info(info.ggml_type);
    DSEEK_CHECK(type != nullptr);  // parse_gguf checked it
    if (!type->dtype)
      return Error{mapping->path() + ": tensor '" + std::string(info.name) + "' has type " + std::string(type->name) +
                   ", which dseek cannot compute with (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                   "Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)"};
    Tensor t;
    t.name = std::string(info.name);
    t.dtype = *type->dtype;
    t.rank = info.n_dims;
    for (int d = 0; d < info.n_dims; ++d) t.shape[d] = static_cast<int64_t>(info.ne[info.n_dims - 1 - d]);
    t.data = mapping->data() + info.offset;
    t.n_bytes = static_cast<int64_t>(info.n_bytes);
    out.push_back(std::move(t));
  }
  return out;
}

Result<GgufFile> open_gguf(const std::string& path) {
  auto mapping = MappedFile::open(path);
  if (!mapping) return mapping.error();
  auto header = parse_gguf(mapping.value()->data(), mapping.value()->size(), path);
  if (!header) return header.error();
  GgufFile file;
  file.mapping = mapping.value();
  file.header = std::move(header.value());
  return file;
}

bool looks_like_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace dseek
