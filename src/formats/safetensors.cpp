#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

namespace dseek {

namespace {

// The reference implementation refuses headers over 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr int kMaxRank = 4;

Result<SafetensorsEntry> parse_entry(const std::string& name, const nlohmann::json& info,
                                     uint64_t data_start, uint64_t data_size) {
  auto fail = [&](const std::string& what) { return Error{"tensor '" + name + "': " + what}; };
  if (!info.is_object()) return fail("header entry is not an object");
  auto dtype_it = info.find("dtype");
  auto shape_it = info.find("shape");
  auto offsets_it = info.find("data_offsets");
  if (dtype_it == info.end() || !dtype_it->is_string()) return fail("missing string 'dtype'");
  if (shape_it == info.end() || !shape_it->is_array()) return fail("missing array 'shape'");
  if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2)
    return fail("missing 'data_offsets' [begin, end]");

  SafetensorsEntry e{};
  e.name = name;
  auto dtype = dtype_from_safetensors_name(dtype_it->get<std::string>());
  if (!dtype) return fail("unknown dtype '" + dtype_it->get<std::string>() + "'");
  e.dtype = *dtype;

  if (shape_it->size() > kMaxRank)
    return fail("rank " + std::to_string(shape_it->size()) + " is not supported (at most 4)");
  e.rank = static_cast<int>(shape_it->size());
  // Element count with overflow checks: dimensions come from the file.
  uint64_t numel = 1;
  for (int i = 0; i < e.rank; ++i) {
    const auto& d = (*shape_it)[i];
    if (!d.is_number_unsigned()) return fail("shape has a non-integer or negative dimension");
    uint64_t dim = d.get<uint64_t>();
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 2))
      return fail("dimension " + std::to_string(dim) + " is absurd");
    e.shape[i] = static_cast<int64_t>(dim);
    if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim)
      return fail("shape " + shape_it->dump() + " overflows");
    numel *= dim;
  }
  const auto& begin_j = (*offsets_it)[0];
  const auto& end_j = (*offsets_it)[1];
  if (!begin_j.is_number_unsigned() || !end_j.is_number_unsigned())
    return fail("data_offsets are not non-negative integers");
  uint64_t begin = begin_j.get<uint64_t>();
  uint64_t end = end_j.get<uint64_t>();
  if (begin > end) return fail("data_offsets begin > end");
  if (end > data_size)
    return fail("data_offsets end " + std::to_string(end) + " is past the end of the data (" +
                std::to_string(data_size) + " bytes; file truncated?)");
  uint64_t expected = numel * static_cast<uint64_t>(dtype_info(e.dtype).block_bytes);
  if (end - begin != expected)
    return fail("holds " + std::to_string(end - begin) + " bytes but dtype " +
                std::string(dtype_info(e.dtype).name) + " x shape " + shape_it->dump() +
                " needs " + std::to_string(expected));
  e.offset = data_start + begin;
  e.n_bytes = end - begin;
  return e;
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors(const uint8_t* data, size_t size,
                                            const std::string& source) {
  auto fail = [&](const std::string& what) { return Error{source + ": " + what}; };
  if (size < 8) return fail("too short to be a safetensors file (" + std::to_string(size) + " bytes)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  if (header_len > kMaxHeaderBytes) return fail("header length " + std::to_string(header_len) + " is absurd");
  if (header_len > size - 8)
    return fail("header length " + std::to_string(header_len) + " is past the end of the file (" +
                std::to_string(size) + " bytes; file truncated?)");
  if (header_len < 2) return fail("header is empty");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data + 8, data + 8 + header_len);
  } catch (const nlohmann::json::exception& ex) {
    return fail(std::string("header is not valid JSON: ") + ex.what());
  }
  if (!header.is_object()) return fail("header is not a JSON object");

  uint64_t data_start = 8 + header_len;
  uint64_t data_size = size - data_start;
  SafetensorsHeader out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return fail("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) return fail("__metadata__ value '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    auto entry = parse_entry(it.key(), *it, data_start, data_size);
    if (!entry) return entry.error().within(source);
    out.entries.push_back(std::move(entry.value()));
  }
  // Tensors must tile the data region exactly.
  std::sort(out.entries.begin(), out.entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.offset != b.offset ? a.offset < b.offset : a.n_bytes < b.n_bytes;
            });
  uint64_t cursor = data_start;
  for (const auto& e : out.entries) {
    if (e.offset < cursor) return fail("tensor '" + e.name + "' overlaps the previous tensor");
    if (e.offset > cursor) return fail("gap in the data before tensor '" + e.name + "'");
    cursor = e.offset + e.n_bytes;
  }
  if (cursor != size)
    return fail(std::to_string(size - cursor) + " bytes after the last tensor are not described by the header");
  return out;
}

Result<SafetensorsFile> open_safetensors(const std::string& path) {
  auto mapping = MappedFile::open(path);
  if (!mapping) return mapping.error();
  auto header = parse_safetensors(mapping.value()->data(), mapping.value()->size(), path);
  if (!header) return header.error();
  SafetensorsFile file;
  file.mapping = mapping.value();
  file.metadata = std::move(header->metadata);
  for (const auto& e : header->entries) {
    Tensor t;
    t.name = e.name;
    t.dtype = e.dtype;
    t.rank = e.rank;
    t.shape = e.shape;
    t.data = file.mapping->data() + e.offset;
    t.n_bytes = static_cast<int64_t>(e.n_bytes);
    file.tensors.push_back(std::move(t));
  }
  return file;
}

}  // namespace dseek
