#include "train/tokenizer_trainer.h"

#include <deque>
#include <filesystem>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "formats/safetensors_writer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"
#include "train/bpe_trainer.h"
#include "train/dataset.h"

namespace dseek::train {

namespace {

using ordered_json = nlohmann::ordered_json;

// DeepSeek-V3's pre-tokenizer patterns (Oniguruma syntax, as tokenizer.json spells them).
const char* const kDigits = R"(\p{N}{1,3})";
const char* const kCjk = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+";
const std::string kWords = std::string(R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^)") + "\r\n" +
                           R"(\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[)" + "\r\n" + R"(]*|\s*[)" + "\r\n" +
                           R"(]+|\s+(?!\S)|\s+)";

constexpr const char* kBos = "<｜begin▁of▁sentence｜>";
constexpr const char* kEos = "<｜end▁of▁sentence｜>";
constexpr const char* kPad = "<｜▁pad▁｜>";

// An R1-style chat template: system messages joined first, <｜User｜> and
// <｜Assistant｜> turns, earlier reasoning dropped from assistant turns, and a
// generation prompt that opens the reasoning.
const char* const kChatTemplate =
    "{%- set ns = namespace(system='', first=true) -%}"
    "{%- for m in messages -%}{%- if m['role'] == 'system' -%}"
    "{%- if ns.first -%}{%- set ns.system = m['content'] -%}{%- set ns.first = false -%}"
    "{%- else -%}{%- set ns.system = ns.system + '\\n\\n' + m['content'] -%}{%- endif -%}"
    "{%- endif -%}{%- endfor -%}"
    "{{- bos_token + ns.system -}}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'user' -%}{{- '<｜User｜>' + m['content'] -}}"
    "{%- elif m['role'] == 'assistant' -%}"
    "{%- set content = m['content'] if m['content'] is not none else '' -%}"
    "{%- if '</think>' in content -%}{%- set content = content.split('</think>')[-1] -%}{%- endif -%}"
    "{{- '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' -}}"
    "{%- elif m['role'] == 'tool' -%}"
    "{{- '<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + m['content'] + '<｜tool▁output▁end｜><｜tool▁outputs▁end｜>' -}}"
    "{%- endif -%}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<｜Assistant｜><think>\\n' -}}{%- endif -%}";

Result<PreTokenizer> v3_pre_tokenizer() {
  std::vector<PreTokenizerStep> steps;
  for (const std::string& p : {std::string(kDigits), std::string(kCjk), kWords})
    steps.push_back(SplitStep{p, true, SplitBehavior::kIsolated, false});
  steps.push_back(ByteLevelStep{false, false});
  return PreTokenizer::build(steps);
}

ordered_json pre_tokenizer_json() {
  ordered_json steps = ordered_json::array();
  for (const std::string& p : {std::string(kDigits), std::string(kCjk), kWords})
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", p}}}, {"behavior", "Isolated"}, {"invert", false}});
  steps.push_back({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}});
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

ordered_json added_token(int64_t id, const std::string& content, bool special) {
  return {{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},    {"normalized", false}, {"special", special}};
}

// Cuts a document at every reserved token, so BPE never sees their pieces.
void strip_reserved(std::string_view doc, std::vector<std::string_view>& parts) {
  const auto& lead = reserved_leading_tokens();
  const auto& trail = reserved_trailing_tokens();
  size_t start = 0, pos = 0;
  while (pos < doc.size()) {
    size_t hit = 0;
    if (doc[pos] == '<')
      for (const auto* list : {&lead, &trail})
        for (const std::string& t : *list)
          if (doc.compare(pos, t.size(), t) == 0) hit = std::max(hit, t.size());
    if (hit == 0) {
      ++pos;
      continue;
    }
    if (pos > start) parts.push_back(doc.substr(start, pos - start));
    pos += hit;
    start = pos;
  }
  if (start < doc.size()) parts.push_back(doc.substr(start));
}

}  // namespace

const std::vector<std::string>& reserved_leading_tokens() {
  static const std::vector<std::string> tokens{kBos, kEos, kPad};
  return tokens;
}

const std::vector<std::string>& reserved_trailing_tokens() {
  static const std::vector<std::string> tokens{
      "<｜User｜>",           "<｜Assistant｜>",        "<think>",
      "</think>",             "<｜fim▁hole｜>",          "<｜fim▁begin｜>",
      "<｜fim▁end｜>",         "<｜tool▁calls▁begin｜>",  "<｜tool▁calls▁end｜>",
      "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>",     "<｜tool▁outputs▁begin｜>",
      "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>",
      "<｜tool▁sep｜>"};
  return tokens;
}

Result<TrainedTokenizer> train_tokenizer(const TokenizerTrainOptions& o, const std::string& out_dir) {
  const int64_t n_lead = static_cast<int64_t>(reserved_leading_tokens().size());
  const int64_t n_trail = static_cast<int64_t>(reserved_trailing_tokens().size());
  const int64_t budget = o.vocab_size - n_lead - n_trail - 256;
  if (budget < 0)
    return Error{"--vocab " + std::to_string(o.vocab_size) + " is too small: the 256 bytes and " +
                 std::to_string(n_lead + n_trail) + " reserved tokens need " + std::to_string(256 + n_lead + n_trail)};
  if (o.inputs.empty()) return Error{"--input: no files given"};
  auto pre = v3_pre_tokenizer();
  if (!pre) return pre.error();

  TrainedTokenizer out;
  std::unordered_map<std::string, int64_t> words;
  std::vector<std::string_view> parts, pieces;
  std::deque<std::string> storage;
  for (const std::string& path : o.inputs) {
    auto docs = read_documents(path);
    if (!docs) return docs.error();
    for (const std::string& doc : docs.value()) {
      if (out.bytes >= o.max_bytes) break;
      out.bytes += static_cast<int64_t>(doc.size());
      parts.clear();
      strip_reserved(doc, parts);
      for (std::string_view part : parts) {
        pieces.clear();
        storage.clear();
        DSEEK_TRY(pre->split(part, pieces, storage));
        for (std::string_view piece : pieces) ++words[std::string(piece)];
      }
    }
  }
  out.words = static_cast<int64_t>(words.size());
  BpeMerges bpe = learn_bpe(words, budget, o.min_frequency);
  out.merges = static_cast<int64_t>(bpe.merges.size());

  // Ids: the three leading reserved tokens, the bytes, the learned symbols, the trailing reserved tokens.
  ordered_json vocab = ordered_json::object();
  ordered_json added = ordered_json::array();
  int64_t id = 0;
  for (const std::string& t : reserved_leading_tokens()) {
    added.push_back(added_token(id, t, true));
    vocab[t] = id++;
  }
  std::vector<std::string> spelled;
  for (const std::string& symbol : bpe.symbols) {
    spelled.push_back(byte_level::encode(symbol));
    vocab[spelled.back()] = id++;
  }
  for (const std::string& t : reserved_trailing_tokens()) added.push_back(added_token(id++, t, false));
  out.vocab_size = id;
  ordered_json merges = ordered_json::array();
  for (auto [a, b] : bpe.merges) merges.push_back(spelled[a] + " " + spelled[b]);

  ordered_json model = {{"type", "BPE"},
                        {"dropout", nullptr},
                        {"unk_token", nullptr},
                        {"continuing_subword_prefix", nullptr},
                        {"end_of_word_suffix", nullptr},
                        {"fuse_unk", false},
                        {"byte_fallback", false},
                        {"ignore_merges", false},
                        {"vocab", vocab},
                        {"merges", merges}};
  ordered_json bos_ref = {{"SpecialToken", {{"id", kBos}, {"type_id", 0}}}};
  ordered_json post = {
      {"type", "TemplateProcessing"},
      {"single", {bos_ref, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair",
       {bos_ref, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, {{"SpecialToken", {{"id", kBos}, {"type_id", 1}}}},
        {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
      {"special_tokens", {{kBos, {{"id", kBos}, {"ids", {0}}, {"tokens", {kBos}}}}}}};
  ordered_json tokenizer = {{"version", "1.0"},
                            {"truncation", nullptr},
                            {"padding", nullptr},
                            {"added_tokens", added},
                            {"normalizer", nullptr},
                            {"pre_tokenizer", pre_tokenizer_json()},
                            {"post_processor", post},
                            {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
                            {"model", model}};

  ordered_json decoder_map = ordered_json::object();
  for (const auto& t : added) {
    ordered_json entry = t;
    const std::string key = std::to_string(t["id"].get<int64_t>());
    entry.erase("id");
    decoder_map[key] = entry;
  }
  ordered_json config = {{"add_bos_token", true},
                         {"add_eos_token", false},
                         {"bos_token", kBos},
                         {"eos_token", kEos},
                         {"pad_token", kPad},
                         {"unk_token", nullptr},
                         {"clean_up_tokenization_spaces", false},
                         {"legacy", true},
                         {"model_max_length", 131072},
                         {"tokenizer_class", "LlamaTokenizerFast"},
                         {"added_tokens_decoder", decoder_map},
                         {"chat_template", kChatTemplate}};
  ordered_json special_map = {{"bos_token", kBos}, {"eos_token", kEos}, {"pad_token", kPad}};

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Error{out_dir + ": cannot create the folder: " + ec.message()};
  DSEEK_TRY(write_file_atomically(out_dir + "/tokenizer.json", tokenizer.dump(1) + "\n"));
  DSEEK_TRY(write_file_atomically(out_dir + "/tokenizer_config.json", config.dump(2) + "\n"));
  DSEEK_TRY(write_file_atomically(out_dir + "/special_tokens_map.json", special_map.dump(2) + "\n"));
  return out;
}

}  // namespace dseek::train
