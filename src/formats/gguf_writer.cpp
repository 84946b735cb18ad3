#include "formats/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dseek {

void GgufWriter::key(const std::string& k, GgufType type) {
  DSEEK_CHECK(std::find(keys_.begin(), keys_.end(), k) == keys_.end());
  keys_.push_back(k);
  ++n_kv_;
  put_string(k);
  put_u32(static_cast<uint32_t>(type));
}

void GgufWriter::set_string(const std::string& k, const std::string& value) {
  key(k, GgufType::kString);
  put_string(value);
}

void GgufWriter::set_u32(const std::string& k, uint32_t value) {
  key(k, GgufType::kUint32);
  put_u32(value);
}

void GgufWriter::set_i32(const std::string& k, int32_t value) {
  key(k, GgufType::kInt32);
  put(&value, 4);
}

void GgufWriter::set_f32(const std::string& k, float value) {
  key(k, GgufType::kFloat32);
  put(&value, 4);
}

void GgufWriter::set_bool(const std::string& k, bool value) {
  key(k, GgufType::kBool);
  const uint8_t b = value ? 1 : 0;
  put(&b, 1);
}

void GgufWriter::set_string_array(const std::string& k, const std::vector<std::string>& values) {
  key(k, GgufType::kArray);
  put_u32(static_cast<uint32_t>(GgufType::kString));
  put_u64(values.size());
  for (const std::string& v : values) put_string(v);
}

void GgufWriter::set_i32_array(const std::string& k, const std::vector<int32_t>& values) {
  key(k, GgufType::kArray);
  put_u32(static_cast<uint32_t>(GgufType::kInt32));
  put_u64(values.size());
  put(values.data(), 4 * values.size());
}

void GgufWriter::put_value(const GgufValue& v) {
  switch (v.type) {
    case GgufType::kString:
      put_string(v.string);
      return;
    case GgufType::kArray: {
      put_u32(static_cast<uint32_t>(v.element_type));
      put_u64(v.count);
      if (v.element_type == GgufType::kString) {
        for (std::string_view s : v.strings) put_string(s);
      } else if (v.element_type == GgufType::kArray) {
        for (const GgufValue& a : v.arrays) put_value(a);
      } else {
        for (uint64_t i = 0; i < v.count; ++i) put_value(v.element(i));
      }
      return;
    }
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: put(&v.bits, 1); return;
    case GgufType::kUint16: case GgufType::kInt16: put(&v.bits, 2); return;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: put(&v.bits, 4); return;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: put(&v.bits, 8); return;
  }
}

void GgufWriter::set_value(const std::string& k, const GgufValue& value) {
  key(k, value.type);
  put_value(value);
}

size_t GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
  DSEEK_CHECK(!shape.empty() && shape.size() <= 4 && name.size() <= kGgufMaxNameBytes);
  DSEEK_CHECK(ggml_type_of(dtype).has_value());
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  const auto row = row_bytes(dtype, shape.back());
  DSEEK_CHECK(row.has_value());
  TensorEntry t{name, dtype, shape, static_cast<uint64_t>(numel / shape.back() * *row), data_size_};
  data_size_ += (t.n_bytes + kAlignment - 1) / kAlignment * kAlignment;
  tensors_.push_back(std::move(t));
  return tensors_.size() - 1;
}

Status GgufWriter::write(const std::string& path, const Fill& fill) {
  std::vector<uint8_t> head;
  auto append = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    head.insert(head.end(), b, b + n);
  };
  const uint32_t version = 3;
  const uint64_t n_tensors = tensors_.size();
  append("GGUF", 4);
  append(&version, 4);
  append(&n_tensors, 8);
  append(&n_kv_, 8);
  append(header_.data(), header_.size());
  for (const TensorEntry& t : tensors_) {
    const uint64_t len = t.name.size();
    append(&len, 8);
    append(t.name.data(), t.name.size());
    const uint32_t n_dims = static_cast<uint32_t>(t.shape.size());
    append(&n_dims, 4);
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) {
      const uint64_t d = static_cast<uint64_t>(*it);
      append(&d, 8);
    }
    const uint32_t type = *ggml_type_of(t.dtype);
    append(&type, 4);
    append(&t.offset, 8);
  }
  head.resize((head.size() + kAlignment - 1) / kAlignment * kAlignment, 0);

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Error{tmp + ": cannot create: " + std::strerror(errno)};
  auto fail = [&](const std::string& what) {
    std::fclose(f);
    std::remove(tmp.c_str());
    return Error{tmp + ": " + what};
  };
  auto put = [&](const void* p, size_t n) { return n == 0 || std::fwrite(p, 1, n, f) == n; };
  if (!put(head.data(), head.size())) return fail(std::string("cannot write: ") + std::strerror(errno));
  static const uint8_t zeros[kAlignment] = {};
  for (size_t i = 0; i < tensors_.size(); ++i) {
    uint64_t written = 0;
    const TensorEntry& t = tensors_[i];
    Status s = fill(i, [&](const uint8_t* data, size_t n) -> Status {
      if (written + n > t.n_bytes) return Error{"tensor " + t.name + ": more bytes than its shape holds"};
      if (!put(data, n)) return Error{std::string("cannot write: ") + std::strerror(errno)};
      written += n;
      return ok_status();
    });
    if (!s.ok()) return fail(s.error().message);
    if (written != t.n_bytes) return fail("tensor " + t.name + ": " + std::to_string(written) + " of " +
                                          std::to_string(t.n_bytes) + " bytes produced");
    const uint64_t padding = (kAlignment - t.n_bytes % kAlignment) % kAlignment;
    if (!put(zeros, padding)) return fail(std::string("cannot write: ") + std::strerror(errno));
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    return Error{tmp + ": cannot write: " + std::strerror(errno)};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{path + ": cannot rename " + tmp + " into place: " + ec.message()};
  return ok_status();
}

}  // namespace dseek
