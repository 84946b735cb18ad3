#include "formats/safetensors_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "util/numeric_formats.h"

namespace dseek {

namespace {

Result<int64_t> element_count(const TensorToWrite& t) {
  int64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0) return Error{"tensor '" + t.name + "': negative dimension"};
    if (d != 0 && n > (int64_t{1} << 40) / d) return Error{"tensor '" + t.name + "': shape too large"};
    n *= d;
  }
  return n;
}

void append_values(const TensorToWrite& t, int64_t n, std::string& out) {
  const size_t start = out.size();
  switch (t.dtype) {
    case DType::F32:
      out.resize(start + static_cast<size_t>(n) * 4);
      if (n > 0) std::memcpy(out.data() + start, t.data, static_cast<size_t>(n) * 4);
      break;
    case DType::BF16:
    case DType::F16:
      out.resize(start + static_cast<size_t>(n) * 2);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = t.dtype == DType::BF16 ? f32_to_bf16(t.data[i]) : f32_to_f16(t.data[i]);
        std::memcpy(out.data() + start + 2 * i, &h, 2);  // little-endian host (x86-64)
      }
      break;
    default:
      break;
  }
}

}  // namespace

Result<std::string> safetensors_file_bytes(const std::vector<TensorToWrite>& tensors,
                                           const std::map<std::string, std::string>& metadata) {
  // nlohmann's ordered_json keeps insertion order, so offsets read in file order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::set<std::string> seen;
  std::string data;
  for (const TensorToWrite& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") return Error{"safetensors: invalid tensor name '" + t.name + "'"};
    if (!seen.insert(t.name).second) return Error{"safetensors: duplicate tensor name '" + t.name + "'"};
    if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16)
      return Error{"tensor '" + t.name + "': can only write F32, BF16 or F16"};
    auto n = element_count(t);
    if (!n) return n.error();
    if (n.value() > 0 && !t.data) return Error{"tensor '" + t.name + "': no data"};
    const size_t begin = data.size();
    append_values(t, n.value(), data);
    header[t.name] = {{"dtype", std::string(dtype_info(t.dtype).name)},
                      {"shape", t.shape},
                      {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  // Padding with spaces keeps the data region 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  out += text;
  out += data;
  return out;
}

Status write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Error{tmp + ": cannot create: " + std::strerror(errno)};
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return Error{tmp + ": cannot write: " + std::strerror(written ? errno : err)};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error{path + ": cannot rename into place: " + std::strerror(errno)};
  }
  return ok_status();
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  auto bytes = safetensors_file_bytes(tensors, metadata);
  if (!bytes) return bytes.error().within(path);
  return write_file_atomically(path, bytes.value());
}

}  // namespace dseek
