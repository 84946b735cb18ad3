#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <unordered_map>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_spec.h"
#include "tokenizer/utf8.h"
#include "util/mapped_file.h"

namespace dseek {

namespace {
// Real vocabularies have at most a few hundred thousand ids (bpe.cpp has the
// same bound for the model's vocabulary).
constexpr int32_t kMaxTokenId = (1 << 22) - 1;
}  // namespace

struct Tokenizer::Impl {
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  BpeModel model;
  AddedVocabulary added;
  std::vector<int32_t> prefix_ids, suffix_ids;
  bool clean_up = false;
  bool join_with_space = false;  // no decoder: HF joins token texts with spaces
  int32_t bos_id = -1, eos_id = -1;
  int32_t vocab_size = 0;
  std::vector<std::string> text;   // by id: token text as the files spell it
  std::vector<std::string> bytes;  // by id: decoded bytes
  std::vector<uint8_t> special;    // by id
  std::vector<uint8_t> known;      // by id: some token has this id
  std::unordered_map<std::string, int32_t> added_by_content;
};

Result<Tokenizer> Tokenizer::build(const TokenizerSpec& spec) {
  auto impl = std::make_shared<Impl>();
  impl->normalizer = Normalizer(spec.normalizer);
  auto pre = PreTokenizer::build(spec.pre_tokenizer);
  if (!pre) return pre.error().within("pre_tokenizer");
  impl->pre_tokenizer = std::move(pre.value());
  auto model = BpeModel::build(spec.model, impl->pre_tokenizer.byte_level());
  if (!model) return model.error();
  impl->model = std::move(model.value());
  auto added = AddedVocabulary::build(spec.added_tokens, impl->normalizer);
  if (!added) return added.error().within("added_tokens");
  impl->added = std::move(added.value());
  auto decoder = Decoder::build(spec.decoder);
  if (!decoder) return decoder.error();
  impl->join_with_space = spec.decoder.empty();

  const auto& vocab = impl->model.id_to_token();
  int32_t size = static_cast<int32_t>(vocab.size());
  for (const AddedToken& t : spec.added_tokens) {
    if (t.id < 0 || t.id > kMaxTokenId)
      return Error{"added_tokens: id " + std::to_string(t.id) + " of '" + t.content + "' is out of range"};
    size = std::max(size, t.id + 1);
  }
  impl->vocab_size = size;
  impl->text.assign(static_cast<size_t>(size), std::string());
  impl->special.assign(static_cast<size_t>(size), 0);
  impl->known.assign(static_cast<size_t>(size), 0);
  for (size_t id = 0; id < vocab.size(); ++id) {
    impl->text[id] = vocab[id];
    impl->known[id] = !vocab[id].empty();
  }
  // An added token's content is its text, also where the model vocabulary has
  // the same id (HF looks added tokens up first).
  for (const AddedToken& t : spec.added_tokens) {
    if (t.content.empty()) continue;
    impl->text[static_cast<size_t>(t.id)] = t.content;
    impl->known[static_cast<size_t>(t.id)] = 1;
    impl->added_by_content[t.content] = t.id;
  }
  for (const AddedToken& t : impl->added.tokens())
    if (t.special) impl->special[static_cast<size_t>(t.id)] = 1;
  impl->bytes.resize(static_cast<size_t>(size));
  for (size_t id = 0; id < impl->text.size(); ++id)
    if (impl->known[id]) impl->bytes[id] = decoder->token_bytes(impl->text[id]);

  auto check_id = [&](int32_t id, const char* what) -> Status {
    if (id < 0 || id >= size || !impl->known[static_cast<size_t>(id)])
      return Error{std::string(what) + ": id " + std::to_string(id) + " is not a token"};
    return ok_status();
  };
  for (int32_t id : spec.prefix_ids) DSEEK_TRY(check_id(id, "post_processor"));
  for (int32_t id : spec.suffix_ids) DSEEK_TRY(check_id(id, "post_processor"));
  if (spec.bos_id >= 0) DSEEK_TRY(check_id(spec.bos_id, "bos_token"));
  if (spec.eos_id >= 0) DSEEK_TRY(check_id(spec.eos_id, "eos_token"));
  impl->prefix_ids = spec.prefix_ids;
  impl->suffix_ids = spec.suffix_ids;
  impl->clean_up = spec.clean_up_tokenization_spaces;
  impl->bos_id = spec.bos_id;
  impl->eos_id = spec.eos_id;
  return Tokenizer(std::move(impl));
}

Result<Tokenizer> Tokenizer::from_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  fs::path dir(folder);
  if (!fs::is_directory(dir)) return Error{folder + ": not a model folder (no such directory)"};
  std::string json_path = (dir / "tokenizer.json").string();
  if (!fs::exists(json_path)) return Error{folder + ": no tokenizer.json"};
  auto json = read_text_file(json_path, 256u << 20);
  if (!json) return json.error();
  std::string config;
  std::string config_path = (dir / "tokenizer_config.json").string();
  if (fs::exists(config_path)) {
    auto text = read_text_file(config_path);
    if (!text) return text.error();
    config = std::move(text.value());
  }
  return from_json(json.value(), config, json_path);
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view input, const EncodeOptions& options) const {
  const Impl& t = *impl_;
  std::string repaired;
  std::string_view text = input;
  if (!utf8::is_valid(input)) {
    repaired = utf8::sanitize(input);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 8);
  if (options.add_special_tokens) ids.insert(ids.end(), t.prefix_ids.begin(), t.prefix_ids.end());

  std::vector<TextSegment> raw_segments, segments;
  std::vector<std::string_view> pieces;
  std::deque<std::string> storage;
  t.added.split(text, /*normalized_phase=*/false, options.match_special_tokens, raw_segments);
  for (const TextSegment& raw : raw_segments) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    std::string normalized;
    std::string_view part = raw.text;
    if (!t.normalizer.empty()) {
      auto n = t.normalizer.apply(raw.text);
      if (!n) return n.error();
      normalized = std::move(n.value());
      part = normalized;
    }
    segments.clear();
    t.added.split(part, /*normalized_phase=*/true, options.match_special_tokens, segments);
    for (const TextSegment& seg : segments) {
      if (seg.id >= 0) {
        ids.push_back(seg.id);
        continue;
      }
      pieces.clear();
      storage.clear();
      DSEEK_TRY(t.pre_tokenizer.split(seg.text, pieces, storage));
      for (std::string_view piece : pieces) t.model.encode(piece, ids);
    }
  }
  if (options.add_special_tokens) ids.insert(ids.end(), t.suffix_ids.begin(), t.suffix_ids.end());
  return ids;
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= t.vocab_size || !t.known[static_cast<size_t>(id)]) continue;
    if (skip_special_tokens && t.special[static_cast<size_t>(id)]) continue;
    if (t.join_with_space && !first) out += ' ';
    out += t.bytes[static_cast<size_t>(id)];
    first = false;
  }
  return out;
}

namespace {

// transformers' PreTrainedTokenizerBase.clean_up_tokenization.
std::string clean_up_tokenization(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    std::string out;
    std::string_view f(from);
    size_t pos = 0;
    for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, pos)) {
      out.append(s, pos, at - pos);
      out += to;
      pos = at + f.size();
    }
    out.append(s, pos, std::string::npos);
    s = std::move(out);
  }
  return s;
}

}  // namespace

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
  std::string text = utf8::sanitize(decode_bytes(ids, options.skip_special_tokens));
  if (options.clean_up_tokenization_spaces.value_or(impl_->clean_up)) text = clean_up_tokenization(std::move(text));
  return text;
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= impl_->vocab_size) return {};
  return impl_->bytes[static_cast<size_t>(id)];
}

const std::string* Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= impl_->vocab_size || !impl_->known[static_cast<size_t>(id)]) return nullptr;
  return &impl_->text[static_cast<size_t>(id)];
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->added_by_content.find(std::string(token));
  if (it != impl_->added_by_content.end()) return it->second;
  return impl_->model.token_to_id(token);
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < impl_->vocab_size && impl_->special[static_cast<size_t>(id)];
}

int32_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
int32_t Tokenizer::bos_id() const { return impl_->bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->eos_id; }

}  // namespace dseek
