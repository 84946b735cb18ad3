#include "train/dataset.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "formats/safetensors_writer.h"
#include "train/rng.h"
#include "util/mapped_file.h"

namespace dseek::train {

namespace {

constexpr char kTokenMagic[8] = {'D', 'S', 'K', 'T', 'O', 'K', 'S', '1'};

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

int64_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const int64_t n = static_cast<int64_t>(s.size());
  int64_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07, min = 0x10000;
    else return i;
    if (i + len > n) return i;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

Result<std::vector<std::string>> read_documents(const std::string& path) {
  auto text = read_text_file(path, size_t{1} << 32);
  if (!text) return text.error();
  return parse_documents(text.value(), ends_with(path, ".jsonl"), path);
}

Result<std::vector<std::string>> parse_documents(std::string_view t, bool jsonl, const std::string& path) {
  const int64_t bad = first_invalid_utf8(t);
  if (bad >= 0) return Error{path + ": not UTF-8 text (invalid byte at offset " + std::to_string(bad) + ")"};
  std::vector<std::string> docs;
  if (!jsonl) {
    if (!t.empty()) docs.emplace_back(t);
  } else {
    size_t start = 0;
    int64_t line_no = 0;
    while (start < t.size()) {
      size_t end = t.find('\n', start);
      if (end == std::string_view::npos) end = t.size();
      ++line_no;
      std::string_view line(t.data() + start, end - start);
      start = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        return Error{path + ":" + std::to_string(line_no) + ": not valid JSON: " + e.what()};
      }
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
        return Error{path + ":" + std::to_string(line_no) + ": expected an object with a string 'text'"};
      std::string doc = j["text"].get<std::string>();
      if (!doc.empty()) docs.push_back(std::move(doc));
    }
  }
  if (docs.empty()) return Error{path + ": the file holds no text"};
  return docs;
}

Status write_token_file(const std::string& path, const std::vector<int32_t>& ids) {
  std::string bytes(kTokenMagic, 8);
  auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(1, 4);
  put(0, 4);
  put(ids.size(), 8);
  for (int32_t id : ids) put(static_cast<uint32_t>(id), 4);
  return write_file_atomically(path, bytes);
}

Result<std::vector<int32_t>> read_token_file(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return file.error();
  return parse_token_file(file.value()->data(), file.value()->size(), path);
}

Result<std::vector<int32_t>> parse_token_file(const uint8_t* p, size_t size, const std::string& path) {
  auto get = [&](size_t at, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[at + i];
    return v;
  };
  if (size < 24 || std::memcmp(p, kTokenMagic, 8) != 0) return Error{path + ": not a .tokens file (no DSKTOKS1 header)"};
  if (get(8, 4) != 1) return Error{path + ": .tokens version " + std::to_string(get(8, 4)) + " is not supported"};
  const uint64_t count = get(16, 8);
  if (count > (size - 24) / 4 || 24 + 4 * count != size)
    return Error{path + ": the header says " + std::to_string(count) + " ids but the file holds " +
                 std::to_string((size - 24) / 4)};
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t v = get(24 + 4 * i, 4);
    if (v > 0x7fffffff) return Error{path + ": id " + std::to_string(v) + " at position " + std::to_string(i) + " is absurd"};
    ids[i] = static_cast<int32_t>(v);
  }
  return ids;
}

Result<std::vector<int32_t>> load_corpus(const std::vector<std::string>& files, const CorpusOptions& o) {
  std::vector<int32_t> all;
  for (const std::string& path : files) {
    std::vector<int32_t> ids;
    if (ends_with(path, ".tokens")) {
      auto t = read_token_file(path);
      if (!t) return t.error();
      ids = std::move(t.value());
      if (ids.empty()) return Error{path + ": the file holds no tokens"};
    } else {
      auto docs = read_documents(path);
      if (!docs) return docs.error();
      if (!o.encode) return Error{path + ": a text corpus needs a tokenizer (set \"tokenizer\")"};
      for (const std::string& doc : docs.value()) {
        auto enc = o.encode(doc);
        if (!enc) return enc.error().within(path);
        if (o.bos_id >= 0) ids.push_back(o.bos_id);
        ids.insert(ids.end(), enc->begin(), enc->end());
        if (o.eos_id >= 0) ids.push_back(o.eos_id);
      }
    }
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] < 0 || ids[i] >= o.vocab_size)
        return Error{path + ": token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                     " is not below the model's vocab_size " + std::to_string(o.vocab_size)};
    all.insert(all.end(), ids.begin(), ids.end());
  }
  if (all.empty()) return Error{"the corpus is empty"};
  return all;
}

void sample_batch(const std::vector<int32_t>& data, uint64_t seed, int64_t step, int64_t micro, int64_t n_seq,
                  int64_t seq_len, int32_t* out) {
  const uint64_t span = data.size() - static_cast<uint64_t>(seq_len);  // window starts in [0, span)
  for (int64_t s = 0; s < n_seq; ++s) {
    Rng rng(mix_seed(seed, static_cast<uint64_t>(step), static_cast<uint64_t>(micro), static_cast<uint64_t>(s)));
    const uint64_t start = rng.below(span);
    std::memcpy(out + s * (seq_len + 1), data.data() + start, sizeof(int32_t) * (seq_len + 1));
  }
}

void validation_batch(const std::vector<int32_t>& data, int64_t index, int64_t n_batches, int64_t n_seq,
                      int64_t seq_len, int32_t* out) {
  const uint64_t span = data.size() - static_cast<uint64_t>(seq_len);
  const uint64_t windows = static_cast<uint64_t>(n_batches * n_seq);
  for (int64_t s = 0; s < n_seq; ++s) {
    const uint64_t w = static_cast<uint64_t>(index * n_seq + s);
    const uint64_t start = windows <= 1 ? 0 : w * (span - 1) / (windows - 1);
    std::memcpy(out + s * (seq_len + 1), data.data() + start, sizeof(int32_t) * (seq_len + 1));
  }
}

}  // namespace dseek::train
