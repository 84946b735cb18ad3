#include "convert/tokenizer_metadata.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "util/mapped_file.h"

namespace dseek {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Added tokens that some models forget to mark special but that are control
// tokens all the same (convert_hf_to_gguf.py's does_token_look_special).
bool looks_special(const std::string& t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (starts_with(t, "<|") && ends_with(t, "|>")) return true;
  if (starts_with(t, "<\xEF\xBD\x9C") && ends_with(t, "\xEF\xBD\x9C>")) return true;  // <｜...｜> (DeepSeek)
  return starts_with(t, "<unused") && ends_with(t, ">");
}

void collect_split_regexes(const json& pre, std::vector<std::string>& out) {
  if (!pre.is_object()) return;
  const std::string type = pre.value("type", "");
  if (type == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
    for (const json& p : pre["pretokenizers"]) collect_split_regexes(p, out);
  } else if (type == "Split" && pre.contains("pattern") && pre["pattern"].is_object()) {
    const json& pattern = pre["pattern"];
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) out.push_back(pattern["Regex"].get<std::string>());
    else if (pattern.contains("String") && pattern["String"].is_string()) out.push_back(pattern["String"].get<std::string>());
  }
}

// The content of a tokenizer_config.json special-token entry: a string, or
// an object with "content".
std::optional<std::string> token_content(const json& entry) {
  if (entry.is_string()) return entry.get<std::string>();
  if (entry.is_object() && entry.contains("content") && entry["content"].is_string())
    return entry["content"].get<std::string>();
  return std::nullopt;
}

Result<json> read_json(const std::string& path) {
  auto text = read_text_file(path, size_t{1} << 30);
  if (!text) return text.error();
  try {
    return json::parse(text.value());
  } catch (const json::exception& e) {
    return Error{path + ": not valid JSON: " + e.what()};
  }
}

}  // namespace

std::string pre_tokenizer_name(const std::vector<std::string>& r) {
  for (const std::string& s : r)
    if (s.find("[\xE4\xB8\x80-\xE9\xBE\xA5\xE3\x81\x80-\xE3\x82\x9F\xE3\x82\xA0-\xE3\x83\xBF]+") != std::string::npos)
      return "deepseek-v3";  // [一-龥぀-ゟ゠-ヿ]+
  if (r.size() >= 2 && r[0] == "[\r\n]") {
    if (starts_with(r[1], "\\s?[A-Za-z\xC2\xB5\xC3\x80-\xC3\x96")) return "deepseek-llm";  // \s?[A-Za-zµÀ-Ö...
    if (r[1] == "\\s?\\p{L}+") return "deepseek-coder";
  }
  if (r.size() == 1 && starts_with(r[0], "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|")) {
    const std::string rest = r[0].substr(std::string_view("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|").size());
    if (starts_with(rest, "\\p{N}{1,3}|")) return "llama-bpe";
    if (starts_with(rest, "\\p{N}|")) return "qwen2";
  }
  return "";
}

Result<std::optional<TokenizerMetadata>> read_tokenizer_metadata(const std::string& folder, int64_t vocab_size,
                                                                 const std::string& model_type) {
  const std::string path = (fs::path(folder) / "tokenizer.json").string();
  if (!fs::exists(path)) return std::optional<TokenizerMetadata>{};
  auto tj = read_json(path);
  if (!tj) return tj.error();
  const json& tok = tj.value();
  auto fail = [&](const std::string& what) { return Error{path + ": " + what}; };
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) return fail("no 'model' object");
  const json& model = tok["model"];
  if (model.value("type", "") != "BPE")
    return fail("tokenizer model '" + model.value("type", std::string("?")) +
                "' is not supported (byte-level BPE only, as DeepSeek, Llama 3 and Qwen2 use)");
  if (!model.contains("vocab") || !model["vocab"].is_object()) return fail("model.vocab is not an object");

  TokenizerMetadata t;
  // id -> token text: the BPE vocabulary, then the added tokens.
  std::map<int64_t, std::string> by_id;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) return fail("model.vocab['" + it.key() + "'] is not an id");
    by_id[it->get<int64_t>()] = it.key();
  }
  std::map<std::string, std::pair<int64_t, bool>> added;  // content -> (id, special)
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const json& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string())
        return fail("added_tokens has an entry without an integer 'id' and a string 'content'");
      const int64_t id = a["id"].get<int64_t>();
      const std::string content = a["content"].get<std::string>();
      added[content] = {id, a.value("special", false)};
      by_id[id] = content;
    }
  }
  if (!by_id.empty() && by_id.rbegin()->first >= vocab_size)
    return fail("token id " + std::to_string(by_id.rbegin()->first) + " is not below vocab_size " +
                std::to_string(vocab_size));
  for (int64_t i = 0; i < vocab_size; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      t.tokens.push_back("[PAD" + std::to_string(i) + "]");
      t.token_types.push_back(static_cast<int32_t>(GgufTokenType::kUnused));
      continue;
    }
    std::string text = it->second;
    GgufTokenType type = GgufTokenType::kNormal;
    if (auto a = added.find(text); a != added.end()) {
      if (a->second.second || looks_special(text)) {
        type = GgufTokenType::kControl;
      } else {
        type = GgufTokenType::kUserDefined;
        // llama.cpp expects user-defined tokens pre-normalised: "▁" is a space.
        for (size_t p = text.find("\xE2\x96\x81"); p != std::string::npos; p = text.find("\xE2\x96\x81", p))
          text.replace(p, 3, " ");
      }
    }
    t.tokens.push_back(std::move(text));
    t.token_types.push_back(static_cast<int32_t>(type));
  }
  if (model.contains("merges") && model["merges"].is_array()) {
    for (const json& m : model["merges"]) {
      if (m.is_string()) t.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        t.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else return fail("model.merges has an entry that is neither \"a b\" nor [a, b]");
    }
  }
  std::vector<std::string> regexes;
  if (tok.contains("pre_tokenizer")) collect_split_regexes(tok["pre_tokenizer"], regexes);
  t.pre = pre_tokenizer_name(regexes);
  if (t.pre.empty()) {
    // Unknown regexes: the family's usual one (llama.cpp must know the name).
    t.pre = model_type == "deepseek_v3" ? "deepseek-v3" : model_type == "deepseek_v2" ? "deepseek-llm"
          : model_type == "qwen2"       ? "qwen2"       : "llama-bpe";
    std::fprintf(stderr, "dseek: warning: %s: pre-tokenizer regexes not recognised; writing '%s'\n", path.c_str(),
                 t.pre.c_str());
  }

  // Special tokens as gguf-py's SpecialVocab finds them: tokenizer_config.json
  // names them (resolved through added_tokens), config.json ids fill the rest.
  struct Special {
    const char* name;
    int64_t* id;
  } specials[] = {{"bos", &t.bos}, {"eos", &t.eos}, {"unk", &t.unk}, {"sep", &t.sep},
                  {"pad", &t.pad}, {"cls", &t.cls}, {"mask", &t.mask}};
  auto set_special = [&](int64_t* id, const json& v) {
    if (*id < 0 && v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < vocab_size)
      *id = v.get<int64_t>();
  };
  const std::string config_path = (fs::path(folder) / "tokenizer_config.json").string();
  if (fs::exists(config_path)) {
    auto tc = read_json(config_path);
    if (!tc) return tc.error();
    if (tc->is_object()) {
      if (tc->contains("chat_template") && (*tc)["chat_template"].is_string())
        t.chat_template = (*tc)["chat_template"].get<std::string>();
      for (const Special& s : specials) {
        const std::string add_key = std::string("add_") + s.name + "_token";
        if (tc->contains(add_key) && (*tc)[add_key].is_boolean()) {
          if (std::string(s.name) == "bos") t.add_bos = (*tc)[add_key].get<bool>();
          if (std::string(s.name) == "eos") t.add_eos = (*tc)[add_key].get<bool>();
        }
        const std::string key = std::string(s.name) + "_token";
        if (!tc->contains(key)) continue;
        auto content = token_content((*tc)[key]);
        if (!content) continue;
        if (auto a = added.find(*content); a != added.end()) set_special(s.id, json(a->second.first));
      }
    }
  }
  auto cj = read_json((fs::path(folder) / "config.json").string());
  if (cj && cj->is_object())
    for (const Special& s : specials) {
      const std::string key = std::string(s.name) + "_token_id";
      if (cj->contains(key)) set_special(s.id, (*cj)[key]);
    }
  return std::optional<TokenizerMetadata>(std::move(t));
}

void write_tokenizer_metadata(GgufWriter& w, const TokenizerMetadata& t) {
  w.set_string("tokenizer.ggml.model", t.model);
  w.set_string("tokenizer.ggml.pre", t.pre);
  w.set_string_array("tokenizer.ggml.tokens", t.tokens);
  w.set_i32_array("tokenizer.ggml.token_type", t.token_types);
  if (!t.merges.empty()) w.set_string_array("tokenizer.ggml.merges", t.merges);
  const std::pair<const char*, int64_t> ids[] = {
      {"tokenizer.ggml.bos_token_id", t.bos},      {"tokenizer.ggml.eos_token_id", t.eos},
      {"tokenizer.ggml.unknown_token_id", t.unk},  {"tokenizer.ggml.seperator_token_id", t.sep},
      {"tokenizer.ggml.padding_token_id", t.pad},  {"tokenizer.ggml.cls_token_id", t.cls},
      {"tokenizer.ggml.mask_token_id", t.mask}};
  for (auto [key, id] : ids)
    if (id >= 0) w.set_u32(key, static_cast<uint32_t>(id));
  if (t.add_bos) w.set_bool("tokenizer.ggml.add_bos_token", *t.add_bos);
  if (t.add_eos) w.set_bool("tokenizer.ggml.add_eos_token", *t.add_eos);
  if (!t.chat_template.empty()) w.set_string("tokenizer.chat_template", t.chat_template);
}

}  // namespace dseek
