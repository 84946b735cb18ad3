// tokenizer.json (Hugging Face tokenizers' serialization) + the parts of
// tokenizer_config.json that transformers applies on top -> TokenizerSpec.
// Every unsupported type or malformed field is an error naming its path.
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"
#include "tokenizer/utf8.h"

namespace dseek {

namespace {

using nlohmann::json;

// Reads fields of one JSON object, with its path for messages
// ("pre_tokenizer.pretokenizers[2]").
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  Error error(const std::string& key, const std::string& what) const { return Error{at(key) + ": " + what}; }

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }
  const json& raw(const std::string& key) const { return j_[key]; }

  Result<std::string> string(const std::string& key) const {
    if (!j_.contains(key)) return error(key, "missing");
    if (!j_[key].is_string()) return error(key, "expected a string");
    return j_[key].get<std::string>();
  }
  Result<bool> boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) return error(key, "expected true or false");
    return j_[key].get<bool>();
  }
  Result<int64_t> integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number_integer()) return error(key, "expected an integer");
    int64_t v = j_[key].is_number_unsigned() && j_[key].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                    ? INT64_MAX
                    : j_[key].get<int64_t>();
    if (v < lo || v > hi) return error(key, std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }
  Result<Obj> object(const std::string& key) const {
    if (!j_.contains(key)) return error(key, "missing");
    if (!j_[key].is_object()) return error(key, "expected an object");
    return Obj(j_[key], at(key));
  }
  Result<std::vector<Obj>> objects(const std::string& key) const {
    if (!j_.contains(key)) return error(key, "missing");
    if (!j_[key].is_array()) return error(key, "expected an array");
    std::vector<Obj> out;
    for (size_t i = 0; i < j_[key].size(); ++i) {
      std::string p = at(key) + "[" + std::to_string(i) + "]";
      if (!j_[key][i].is_object()) return Error{p + ": expected an object"};
      out.emplace_back(j_[key][i], p);
    }
    return out;
  }

 private:
  const json& j_;
  std::string path_;
};

constexpr int64_t kMaxId = (1 << 22) - 1;

Result<std::string> utf8_string(const Obj& o, const std::string& key) {
  auto s = o.string(key);
  if (!s) return s.error();
  if (!utf8::is_valid(s.value())) return o.error(key, "not valid UTF-8");
  return s;
}

// ---- normalizer

Status parse_normalizer(const Obj& o, std::vector<NormalizationForm>& out) {
  auto type = o.string("type");
  if (!type) return type.error();
  const std::string& t = type.value();
  if (t == "NFC") out.push_back(NormalizationForm::kNFC);
  else if (t == "NFD") out.push_back(NormalizationForm::kNFD);
  else if (t == "NFKC") out.push_back(NormalizationForm::kNFKC);
  else if (t == "NFKD") out.push_back(NormalizationForm::kNFKD);
  else if (t == "Sequence") {
    auto items = o.objects("normalizers");
    if (!items) return items.error();
    for (const Obj& item : items.value()) DSEEK_TRY(parse_normalizer(item, out));
  } else {
    return o.error("type", "unsupported normalizer '" + t + "' (supported: NFC, NFD, NFKC, NFKD, Sequence)");
  }
  return ok_status();
}

// ---- pre_tokenizer

Result<SplitBehavior> parse_behavior(const Obj& o) {
  auto b = o.string("behavior");
  if (!b) return b.error();
  const std::string& s = b.value();
  if (s == "Removed") return SplitBehavior::kRemoved;
  if (s == "Isolated") return SplitBehavior::kIsolated;
  if (s == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (s == "Contiguous") return SplitBehavior::kContiguous;
  return o.error("behavior", "unknown split behavior '" + s +
                                 "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

Status parse_pre_tokenizer(const Obj& o, std::vector<PreTokenizerStep>& out) {
  auto type = o.string("type");
  if (!type) return type.error();
  const std::string& t = type.value();
  if (t == "Sequence") {
    auto items = o.objects("pretokenizers");
    if (!items) return items.error();
    for (const Obj& item : items.value()) DSEEK_TRY(parse_pre_tokenizer(item, out));
  } else if (t == "Split") {
    SplitStep step;
    auto pattern = o.object("pattern");
    if (!pattern) return pattern.error();
    if (pattern->has("Regex")) {
      auto r = utf8_string(pattern.value(), "Regex");
      if (!r) return r.error();
      step.pattern = r.value();
    } else if (pattern->has("String")) {
      auto s = utf8_string(pattern.value(), "String");
      if (!s) return s.error();
      step.pattern = s.value();
      step.is_regex = false;
    } else {
      return o.error("pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    auto behavior = parse_behavior(o);
    if (!behavior) return behavior.error();
    step.behavior = behavior.value();
    auto invert = o.boolean("invert", false);
    if (!invert) return invert.error();
    step.invert = invert.value();
    out.push_back(std::move(step));
  } else if (t == "ByteLevel") {
    ByteLevelStep step;
    auto prefix = o.boolean("add_prefix_space", true);
    if (!prefix) return prefix.error();
    auto use_regex = o.boolean("use_regex", true);
    if (!use_regex) return use_regex.error();
    auto trim = o.boolean("trim_offsets", true);  // offsets only; checked for type
    if (!trim) return trim.error();
    step.add_prefix_space = prefix.value();
    step.use_regex = use_regex.value();
    out.push_back(step);
  } else if (t == "Digits") {
    // HF splits on char::is_numeric (General_Category N): each digit alone,
    // or runs of digits.
    auto individual = o.boolean("individual_digits", false);
    if (!individual) return individual.error();
    SplitStep step;
    step.pattern = individual.value() ? "\\p{N}" : "\\p{N}+";
    step.behavior = SplitBehavior::kIsolated;
    out.push_back(std::move(step));
  } else {
    return o.error("type", "unsupported pre-tokenizer '" + t + "' (supported: Sequence, Split, ByteLevel, Digits)");
  }
  return ok_status();
}

// ---- model

Status parse_model(const Obj& o, BpeSpec& spec) {
  std::string type = "BPE";
  if (o.has("type")) {
    auto t = o.string("type");
    if (!t) return t.error();
    type = t.value();
  }
  if (type != "BPE") return o.error("type", "unsupported model '" + type + "' (only BPE is supported)");

  if (!o.has("vocab") || !o.raw("vocab").is_object()) return o.error("vocab", "missing or not an object");
  const json& vocab = o.raw("vocab");
  spec.vocab.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it->is_number_integer())
      return Error{o.at("vocab") + "['" + it.key() + "']: expected an integer id"};
    int64_t id = it->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX))
                                          : it->get<int64_t>();
    if (id < 0 || id > kMaxId)
      return Error{o.at("vocab") + "['" + it.key() + "']: id " + std::to_string(id) + " is out of range"};
    if (!utf8::is_valid(it.key())) return Error{o.at("vocab") + ": a token is not valid UTF-8"};
    spec.vocab.emplace_back(it.key(), static_cast<int32_t>(id));
  }

  if (!o.has("merges") || !o.raw("merges").is_array()) return o.error("merges", "missing or not an array");
  const json& merges = o.raw("merges");
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    std::string where = o.at("merges") + "[" + std::to_string(i) + "]";
    if (m.is_string()) {
      // "a b": exactly two parts separated by one space.
      const std::string s = m.get<std::string>();
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        return Error{where + ": '" + s + "' is not two tokens separated by one space"};
      spec.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      spec.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return Error{where + ": expected \"a b\" or [\"a\", \"b\"]"};
    }
  }

  if (o.has("dropout")) {
    if (!o.raw("dropout").is_number()) return o.error("dropout", "expected a number or null");
    if (o.raw("dropout").get<double>() != 0.0)
      return o.error("dropout", "BPE dropout is not supported (it makes encoding random)");
  }
  if (o.has("unk_token")) {
    auto unk = o.string("unk_token");
    if (!unk) return unk.error();
    spec.unk_token = unk.value();
  }
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!o.has(affix)) continue;
    auto s = o.string(affix);
    if (!s) return s.error();
    if (!s->empty()) return o.error(affix, "a non-empty " + std::string(affix) + " is not supported");
  }
  auto fuse = o.boolean("fuse_unk", false);
  if (!fuse) return fuse.error();
  auto fallback = o.boolean("byte_fallback", false);
  if (!fallback) return fallback.error();
  auto ignore = o.boolean("ignore_merges", false);
  if (!ignore) return ignore.error();
  spec.fuse_unk = fuse.value();
  spec.byte_fallback = fallback.value();
  spec.ignore_merges = ignore.value();
  return ok_status();
}

// ---- added_tokens

Status parse_added_tokens(const Obj& root, std::vector<AddedToken>& out) {
  if (!root.has("added_tokens")) return ok_status();
  auto items = root.objects("added_tokens");
  if (!items) return items.error();
  for (const Obj& o : items.value()) {
    AddedToken t;
    auto id = o.integer("id", -1, 0, kMaxId);
    if (!id) return id.error();
    if (!o.has("id")) return o.error("id", "missing");
    t.id = static_cast<int32_t>(id.value());
    auto content = utf8_string(o, "content");
    if (!content) return content.error();
    t.content = content.value();
    auto special = o.boolean("special", false);
    if (!special) return special.error();
    t.special = special.value();
    // HF's AddedToken default: normalized unless special.
    auto normalized = o.boolean("normalized", !t.special);
    auto lstrip = o.boolean("lstrip", false);
    auto rstrip = o.boolean("rstrip", false);
    auto single_word = o.boolean("single_word", false);
    for (const auto* r : {&normalized, &lstrip, &rstrip, &single_word})
      if (!*r) return r->error();
    t.normalized = normalized.value();
    t.lstrip = lstrip.value();
    t.rstrip = rstrip.value();
    t.single_word = single_word.value();
    out.push_back(std::move(t));
  }
  return ok_status();
}

// ---- post_processor

struct Template {
  bool present = false;
  std::vector<int32_t> prefix, suffix;
};

Status parse_template(const Obj& o, Template& tpl) {
  auto special = o.object("special_tokens");
  if (!special) return special.error();
  auto single = o.objects("single");
  if (!single) return single.error();
  std::vector<int32_t> prefix, suffix;
  bool seen_sequence = false;
  for (const Obj& item : single.value()) {
    if (item.has("Sequence")) {
      auto seq = item.object("Sequence");
      if (!seq) return seq.error();
      auto id = seq->string("id");
      if (!id) return id.error();
      if (id.value() != "A") return seq->error("id", "a single-sequence template can only hold sequence A");
      if (seen_sequence) return Error{o.at("single") + ": sequence A appears twice"};
      seen_sequence = true;
    } else if (item.has("SpecialToken")) {
      auto tok = item.object("SpecialToken");
      if (!tok) return tok.error();
      auto name = tok->string("id");
      if (!name) return name.error();
      auto entry = special->object(name.value());
      if (!entry) return Error{tok->at("id") + ": '" + name.value() + "' is not in " + o.at("special_tokens")};
      if (!entry->has("ids") || !entry->raw("ids").is_array()) return entry->error("ids", "missing or not an array");
      for (const json& v : entry->raw("ids")) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxId)
          return entry->error("ids", "expected token ids");
        (seen_sequence ? suffix : prefix).push_back(static_cast<int32_t>(v.get<int64_t>()));
      }
    } else {
      return Error{item.path() + ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}"};
    }
  }
  if (!seen_sequence) return Error{o.at("single") + ": the template has no sequence A"};
  // A later template wraps what the earlier ones produced.
  tpl.prefix.insert(tpl.prefix.begin(), prefix.begin(), prefix.end());
  tpl.suffix.insert(tpl.suffix.end(), suffix.begin(), suffix.end());
  tpl.present = true;
  return ok_status();
}

Status parse_post_processor(const Obj& o, Template& tpl) {
  auto type = o.string("type");
  if (!type) return type.error();
  const std::string& t = type.value();
  if (t == "ByteLevel") return ok_status();  // only adjusts offsets
  if (t == "TemplateProcessing") return parse_template(o, tpl);
  if (t == "Sequence") {
    auto items = o.objects("processors");
    if (!items) return items.error();
    for (const Obj& item : items.value()) DSEEK_TRY(parse_post_processor(item, tpl));
    return ok_status();
  }
  return o.error("type", "unsupported post-processor '" + t + "' (supported: TemplateProcessing, ByteLevel, Sequence)");
}

// ---- decoder

Status parse_decoder(const Obj& o, std::vector<DecoderStep>& out) {
  auto type = o.string("type");
  if (!type) return type.error();
  const std::string& t = type.value();
  DecoderStep step;
  if (t == "ByteLevel") {
    step.kind = DecoderStep::Kind::kByteLevel;
  } else if (t == "ByteFallback") {
    step.kind = DecoderStep::Kind::kByteFallback;
  } else if (t == "Fuse") {
    step.kind = DecoderStep::Kind::kFuse;
  } else if (t == "Replace") {
    step.kind = DecoderStep::Kind::kReplace;
    auto pattern = o.object("pattern");
    if (!pattern) return pattern.error();
    if (!pattern->has("String")) return o.error("pattern", "only {\"String\": ...} patterns are supported");
    auto from = utf8_string(pattern.value(), "String");
    if (!from) return from.error();
    auto to = utf8_string(o, "content");
    if (!to) return to.error();
    step.pattern = from.value();
    step.content = to.value();
  } else if (t == "Strip") {
    step.kind = DecoderStep::Kind::kStrip;
    auto content = utf8_string(o, "content");
    if (!content) return content.error();
    auto start = o.integer("start", 0, 0, 1 << 20);
    if (!start) return start.error();
    auto stop = o.integer("stop", 0, 0, 1 << 20);
    if (!stop) return stop.error();
    step.content = content.value();
    step.start = static_cast<int>(start.value());
    step.stop = static_cast<int>(stop.value());
  } else if (t == "Sequence") {
    auto items = o.objects("decoders");
    if (!items) return items.error();
    for (const Obj& item : items.value()) DSEEK_TRY(parse_decoder(item, out));
    return ok_status();
  } else {
    return o.error("type",
                   "unsupported decoder '" + t + "' (supported: ByteLevel, ByteFallback, Fuse, Replace, Strip, Sequence)");
  }
  out.push_back(std::move(step));
  return ok_status();
}

// ---- tokenizer_config.json

// bos_token / eos_token: a string, or an AddedToken object with "content".
Result<std::optional<std::string>> config_token(const json& config, const std::string& key) {
  if (!config.contains(key) || config[key].is_null()) return std::optional<std::string>();
  const json& v = config[key];
  if (v.is_string()) return std::optional<std::string>(v.get<std::string>());
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return std::optional<std::string>(v["content"].get<std::string>());
  return Error{"tokenizer_config.json: " + key + ": expected a string or an object with \"content\""};
}

Result<std::optional<bool>> config_bool(const json& config, const std::string& key) {
  if (!config.contains(key) || config[key].is_null()) return std::optional<bool>();
  if (!config[key].is_boolean()) return Error{"tokenizer_config.json: " + key + ": expected true or false"};
  return std::optional<bool>(config[key].get<bool>());
}

Result<TokenizerSpec> parse(const json& root, const json& config) {
  if (!root.is_object()) return Error{"expected a JSON object"};
  Obj r(root, "");
  TokenizerSpec spec;
  if (r.has("normalizer")) {
    auto o = r.object("normalizer");
    if (!o) return o.error();
    DSEEK_TRY(parse_normalizer(o.value(), spec.normalizer));
  }
  if (r.has("pre_tokenizer")) {
    auto o = r.object("pre_tokenizer");
    if (!o) return o.error();
    DSEEK_TRY(parse_pre_tokenizer(o.value(), spec.pre_tokenizer));
  }
  if (!r.has("model")) return Error{"model: missing"};
  auto model = r.object("model");
  if (!model) return model.error();
  DSEEK_TRY(parse_model(model.value(), spec.model));
  DSEEK_TRY(parse_added_tokens(r, spec.added_tokens));
  Template tpl;
  if (r.has("post_processor")) {
    auto o = r.object("post_processor");
    if (!o) return o.error();
    DSEEK_TRY(parse_post_processor(o.value(), tpl));
  }
  if (r.has("decoder")) {
    auto o = r.object("decoder");
    if (!o) return o.error();
    DSEEK_TRY(parse_decoder(o.value(), spec.decoder));
  }

  // Ids of tokens named in tokenizer_config.json: added tokens first.
  auto id_of = [&](const std::string& content) -> int32_t {
    for (const AddedToken& t : spec.added_tokens)
      if (t.content == content) return t.id;
    for (const auto& [token, id] : spec.model.vocab)
      if (token == content) return id;
    return -1;
  };
  if (!config.is_null() && !config.is_object()) return Error{"tokenizer_config.json: expected a JSON object"};
  const json empty = json::object();
  const json& cfg = config.is_object() ? config : empty;
  auto bos = config_token(cfg, "bos_token");
  if (!bos) return bos.error();
  auto eos = config_token(cfg, "eos_token");
  if (!eos) return eos.error();
  if (bos.value()) {
    spec.bos_id = id_of(*bos.value());
    if (spec.bos_id < 0) return Error{"tokenizer_config.json: bos_token '" + *bos.value() + "' is not a token"};
  } else if (tpl.prefix.size() == 1) {
    spec.bos_id = tpl.prefix[0];
  }
  if (eos.value()) {
    spec.eos_id = id_of(*eos.value());
    if (spec.eos_id < 0) return Error{"tokenizer_config.json: eos_token '" + *eos.value() + "' is not a token"};
  }

  // Which special tokens encode() adds. transformers' Llama tokenizer classes
  // rebuild the post-processor from add_bos_token (default true) and
  // add_eos_token (default false) whatever tokenizer.json says; other classes
  // use tokenizer.json's template, and add_bos_token/add_eos_token only where
  // it has none (DeepSeek-V3's file has a ByteLevel post-processor only).
  auto add_bos = config_bool(cfg, "add_bos_token");
  if (!add_bos) return add_bos.error();
  auto add_eos = config_bool(cfg, "add_eos_token");
  if (!add_eos) return add_eos.error();
  std::string cls = cfg.contains("tokenizer_class") && cfg["tokenizer_class"].is_string()
                        ? cfg["tokenizer_class"].get<std::string>()
                        : std::string();
  bool llama_class = cls == "LlamaTokenizerFast" || cls == "LlamaTokenizer";
  if (tpl.present && !llama_class) {
    spec.prefix_ids = tpl.prefix;
    spec.suffix_ids = tpl.suffix;
  } else {
    if (add_bos.value().value_or(llama_class)) {
      if (spec.bos_id < 0) return Error{"tokenizer_config.json: add_bos_token is true but there is no bos_token"};
      spec.prefix_ids = {spec.bos_id};
    }
    if (add_eos.value().value_or(false)) {
      if (spec.eos_id < 0) return Error{"tokenizer_config.json: add_eos_token is true but there is no eos_token"};
      spec.suffix_ids = {spec.eos_id};
    }
  }
  auto clean = config_bool(cfg, "clean_up_tokenization_spaces");
  if (!clean) return clean.error();
  // transformers' current default is false (it used to be true).
  spec.clean_up_tokenization_spaces = clean.value().value_or(false);
  return spec;
}

}  // namespace

Result<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json,
                                       const std::string& source) {
  json root, config;
  try {
    root = json::parse(tokenizer_json);
  } catch (const json::exception& e) {
    return Error{source + ": not valid JSON: " + e.what()};
  }
  if (!tokenizer_config_json.empty()) {
    try {
      config = json::parse(tokenizer_config_json);
    } catch (const json::exception& e) {
      return Error{"tokenizer_config.json: not valid JSON: " + std::string(e.what())};
    }
  }
  Result<TokenizerSpec> spec = [&]() -> Result<TokenizerSpec> {
    try {
      return parse(root, config);
    } catch (const json::exception& e) {  // a type nlohmann refused that a check above missed
      return Error{std::string("malformed: ") + e.what()};
    }
  }();
  if (!spec) return spec.error().within(source);
  auto tokenizer = build(spec.value());
  if (!tokenizer) return tokenizer.error().within(source);
  return tokenizer;
}

}  // namespace dseek
