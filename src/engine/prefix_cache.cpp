#include "engine/prefix_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "util/hash.h"

namespace dseek {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'D', 'S', 'K', 'P', 'F', 'X', '0', '1'};
constexpr uint32_t kVersion = 1;

// On-disk header of one block; all fields little-endian as written by x86-64.
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t block_tokens;
  uint64_t fingerprint;
  uint64_t key;
  uint64_t parent;
  int64_t n_layers, k_width, v_width;
  int32_t tokens[PrefixCache::kBlockTokens];
  uint64_t payload_floats;
  uint64_t payload_checksum;
  uint64_t header_checksum;  // of every byte above
};

uint64_t header_checksum(const FileHeader& h) { return fnv1a(&h, offsetof(FileHeader, header_checksum)); }

bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

PrefixCache::PrefixCache(KvCacheShape shape, uint64_t model_fingerprint, PrefixCacheOptions options)
    : shape_(shape), fingerprint_(model_fingerprint), options_(std::move(options)) {
  block_floats_ = kBlockTokens * shape_.n_layers * (shape_.k_width + shape_.v_width);
  if (!options_.disk_dir.empty()) {
    char sub[32];
    std::snprintf(sub, sizeof sub, "%016" PRIx64, fingerprint_);
    options_.disk_dir = (fs::path(options_.disk_dir) / sub).string();
    writer_ = std::thread([this] { writer_loop(); });
  }
}

PrefixCache::~PrefixCache() {
  if (writer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    write_wake_.notify_all();
    writer_.join();
  }
}

std::string PrefixCache::path_of(uint64_t key) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016" PRIx64 ".kv", key);
  return (fs::path(options_.disk_dir) / name).string();
}

uint64_t PrefixCache::namespace_root(std::string_view ns) const {
  return fnv1a(ns, fnv1a(&fingerprint_, sizeof fingerprint_));
}

uint64_t PrefixCache::block_key(uint64_t parent, std::span<const int32_t> tokens) const {
  return fnv1a(tokens.data(), tokens.size_bytes(), fnv1a(&parent, sizeof parent));
}

Status PrefixCache::open() {
  if (options_.disk_dir.empty()) return ok_status();
  std::error_code ec;
  fs::create_directories(options_.disk_dir, ec);
  if (ec) return Error{options_.disk_dir + ": cannot create the cache folder: " + ec.message()};
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& entry : fs::directory_iterator(options_.disk_dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".tmp") {  // a write that never finished (crash, kill -9)
      fs::remove(p, ec);
      continue;
    }
    if (p.extension() != ".kv") continue;
    FileHeader h{};
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && read_all(fd, &h, sizeof h);
    if (fd >= 0) ::close(fd);
    ok = ok && std::memcmp(h.magic, kMagic, 8) == 0 && h.version == kVersion && h.block_tokens == kBlockTokens &&
         h.header_checksum == header_checksum(h) && h.fingerprint == fingerprint_ && h.n_layers == shape_.n_layers &&
         h.k_width == shape_.k_width && h.v_width == shape_.v_width &&
         h.payload_floats == static_cast<uint64_t>(block_floats_) &&
         entry.file_size(ec) == sizeof h + h.payload_floats * sizeof(float) && p.stem().string().size() == 16;
    if (!ok) {
      fs::remove(p, ec);
      ++stats_.corrupt_dropped;
      continue;
    }
    Block b;
    b.parent = h.parent;
    std::copy(std::begin(h.tokens), std::end(h.tokens), b.tokens.begin());
    b.on_disk = true;
    blocks_[h.key] = b;
    stats_.disk_blocks++;
    stats_.disk_bytes += static_cast<int64_t>(sizeof h + h.payload_floats * sizeof(float));
  }
  evict();
  return ok_status();
}

std::shared_ptr<const std::vector<float>> PrefixCache::load_rows(uint64_t key, Block& block) {
  if (block.rows) return block.rows;
  if (!block.on_disk) return nullptr;
  FileHeader h{};
  auto rows = std::make_shared<std::vector<float>>(static_cast<size_t>(block_floats_));
  int fd = ::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && read_all(fd, &h, sizeof h) && h.header_checksum == header_checksum(h) && h.key == key &&
            h.parent == block.parent && std::equal(block.tokens.begin(), block.tokens.end(), h.tokens) &&
            h.payload_floats == rows->size() && read_all(fd, rows->data(), rows->size() * sizeof(float)) &&
            fnv1a(rows->data(), rows->size() * sizeof(float)) == h.payload_checksum;
  if (fd >= 0) ::close(fd);
  if (!ok) {
    ++stats_.corrupt_dropped;
    return nullptr;
  }
  block.rows = rows;
  stats_.ram_blocks++;
  stats_.ram_bytes += block_floats_ * static_cast<int64_t>(sizeof(float));
  return block.rows;
}

void PrefixCache::drop(uint64_t key) {
  auto it = blocks_.find(key);
  if (it == blocks_.end()) return;
  if (it->second.rows) {
    stats_.ram_blocks--;
    stats_.ram_bytes -= block_floats_ * static_cast<int64_t>(sizeof(float));
  }
  if (it->second.on_disk) {
    std::error_code ec;
    fs::remove(path_of(key), ec);
    stats_.disk_blocks--;
    stats_.disk_bytes -= static_cast<int64_t>(sizeof(FileHeader) + block_floats_ * sizeof(float));
  }
  blocks_.erase(it);
}

int64_t PrefixCache::restore(std::string_view ns, std::span<const int32_t> tokens, int64_t max_tokens, KvCache& cache) {
  DSEEK_CHECK(cache.n_tokens() == 0);
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t parent = namespace_root(ns);
  int64_t restored = 0;
  const int64_t limit = std::min<int64_t>(max_tokens, static_cast<int64_t>(tokens.size()));
  while (restored + kBlockTokens <= limit) {
    std::span<const int32_t> block_tokens = tokens.subspan(static_cast<size_t>(restored), kBlockTokens);
    const uint64_t key = block_key(parent, block_tokens);
    auto it = blocks_.find(key);
    if (it == blocks_.end() || it->second.parent != parent ||
        !std::equal(block_tokens.begin(), block_tokens.end(), it->second.tokens.begin()))
      break;
    auto rows = load_rows(key, it->second);
    if (!rows) {
      drop(key);  // damaged on disk: never served, never tried again
      break;
    }
    if (!cache.import_rows(kBlockTokens, rows->data()).ok()) break;
    it->second.last_use = ++clock_;
    restored += kBlockTokens;
    parent = key;
  }
  stats_.hit_tokens += restored;
  evict();
  return restored;
}

void PrefixCache::store(std::string_view ns, std::span<const int32_t> tokens, const KvCache& cache) {
  const int64_t n = std::min<int64_t>(cache.n_tokens(), static_cast<int64_t>(tokens.size()));
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t parent = namespace_root(ns);
  for (int64_t start = 0; start + kBlockTokens <= n; start += kBlockTokens) {
    std::span<const int32_t> block_tokens = tokens.subspan(static_cast<size_t>(start), kBlockTokens);
    const uint64_t key = block_key(parent, block_tokens);
    Block& b = blocks_[key];
    b.last_use = ++clock_;
    if (!b.rows && !b.on_disk) {
      b.parent = parent;
      std::copy(block_tokens.begin(), block_tokens.end(), b.tokens.begin());
      auto rows = std::make_shared<std::vector<float>>(static_cast<size_t>(block_floats_));
      cache.export_rows(start, kBlockTokens, rows->data());
      b.rows = rows;
      stats_.ram_blocks++;
      stats_.ram_bytes += block_floats_ * static_cast<int64_t>(sizeof(float));
      if (!options_.disk_dir.empty()) {
        b.write_pending = true;
        write_queue_.emplace_back(key, rows);
        write_wake_.notify_one();
      }
    }
    parent = key;
  }
  evict();
}

// Least recently used first, within each tier's budget. Called with the lock held.
void PrefixCache::evict() {
  const int64_t block_bytes = block_floats_ * static_cast<int64_t>(sizeof(float));
  const int64_t file_bytes = block_bytes + static_cast<int64_t>(sizeof(FileHeader));
  auto oldest = [&](auto has) {
    uint64_t best_key = 0, best_use = UINT64_MAX;
    bool found = false;
    for (const auto& [key, b] : blocks_)
      if (has(b) && b.last_use < best_use) best_key = key, best_use = b.last_use, found = true;
    return std::pair<bool, uint64_t>{found, best_key};
  };
  while (stats_.ram_bytes > options_.ram_bytes) {
    auto [found, key] = oldest([](const Block& b) { return b.rows != nullptr; });
    if (!found) break;
    Block& b = blocks_[key];
    b.rows.reset();
    stats_.ram_blocks--;
    stats_.ram_bytes -= block_bytes;
    if (!b.on_disk && !b.write_pending) blocks_.erase(key);
  }
  while (stats_.disk_bytes > options_.disk_bytes) {
    auto [found, key] = oldest([](const Block& b) { return b.on_disk; });
    if (!found) break;
    std::error_code ec;
    fs::remove(path_of(key), ec);
    Block& b = blocks_[key];
    b.on_disk = false;
    stats_.disk_blocks--;
    stats_.disk_bytes -= file_bytes;
    if (!b.rows) blocks_.erase(key);
  }
}

void PrefixCache::writer_loop() {
  for (;;) {
    std::pair<uint64_t, std::shared_ptr<const std::vector<float>>> job;
    FileHeader h{};
    {
      std::unique_lock<std::mutex> lock(mutex_);
      writing_ = false;
      write_done_.notify_all();
      write_wake_.wait(lock, [&] { return stopping_ || !write_queue_.empty(); });
      if (write_queue_.empty()) return;  // stopping, nothing left
      job = std::move(write_queue_.front());
      write_queue_.pop_front();
      auto it = blocks_.find(job.first);
      if (it == blocks_.end()) continue;
      writing_ = true;
      std::memcpy(h.magic, kMagic, 8);
      h.version = kVersion;
      h.block_tokens = kBlockTokens;
      h.fingerprint = fingerprint_;
      h.key = job.first;
      h.parent = it->second.parent;
      h.n_layers = shape_.n_layers;
      h.k_width = shape_.k_width;
      h.v_width = shape_.v_width;
      std::copy(it->second.tokens.begin(), it->second.tokens.end(), h.tokens);
    }
    const std::vector<float>& rows = *job.second;
    h.payload_floats = rows.size();
    h.payload_checksum = fnv1a(rows.data(), rows.size() * sizeof(float));
    h.header_checksum = header_checksum(h);
    const std::string path = path_of(job.first);
    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, &h, sizeof h) && write_all(fd, rows.data(), rows.size() * sizeof(float)) &&
              ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.find(job.first);
    if (it == blocks_.end()) {
      ::unlink(ok ? path.c_str() : tmp.c_str());
      continue;
    }
    Block& b = it->second;
    b.write_pending = false;
    if (!ok) {
      ::unlink(tmp.c_str());
      if (!b.rows) blocks_.erase(it);
      continue;
    }
    if (!b.on_disk) {
      b.on_disk = true;
      stats_.disk_blocks++;
      stats_.disk_bytes += static_cast<int64_t>(sizeof h + rows.size() * sizeof(float));
    }
    evict();
  }
}

void PrefixCache::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  write_done_.wait(lock, [&] { return write_queue_.empty() && !writing_; });
}

PrefixCacheStats PrefixCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace dseek
