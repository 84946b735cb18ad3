#include "server/fake_text_model.h"

namespace dseek::testing {

using json = nlohmann::ordered_json;

FakeTextModel::FakeTextModel(Options options) : options_(options) {
  // Words chosen to cross the grammar's boundaries: JSON punctuation with
  // text, half of a multi-byte character, whitespace runs, fences.
  words_ = {"{\"", "\":", "\",", "\"}", "}}", "true", "null", "12", ".5", "e-3", "\\u00e9", "\\n", "  ", "\n\n",
            "hello", " world", "function", "get_weather", "get", "_", "weather", "\n```json\n", "\n```", "```",
            "\xC3", "\xA9", "\xE4\xBD", "\xA0", "\xF0\x9F\x98", "\x80", "é", "你好", "</", "think", ">", "</think>",
            "stop", "STOP", "[1,", "2]", "{}", "city", "Paris"};
  controls_ = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",        "<｜Assistant｜>",
               "<｜tool▁calls▁begin｜>",  "<｜tool▁calls▁end｜>",   "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>",
               "<｜tool▁sep｜>",          "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>",
               "<｜tool▁output▁end｜>",   "<｜fim▁begin｜>",       "<｜fim▁hole｜>",       "<｜fim▁end｜>",
               "<think>"};
  first_control_ = 256 + static_cast<int32_t>(words_.size());
  bos_ = first_control_;
  eos_ = first_control_ + 1;
}

Result<std::vector<int32_t>> FakeTextModel::encode(std::string_view text, bool allow_control) const {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    int32_t best = -1;
    size_t best_len = 0;
    if (allow_control)
      for (size_t c = 0; c < controls_.size(); ++c)
        if (text.substr(i, controls_[c].size()) == controls_[c] && controls_[c].size() > best_len) {
          best = first_control_ + static_cast<int32_t>(c);
          best_len = controls_[c].size();
        }
    if (best < 0) {
      for (size_t w = 0; w < words_.size(); ++w)
        if (text.substr(i, words_[w].size()) == words_[w] && words_[w].size() > best_len) {
          best = 256 + static_cast<int32_t>(w);
          best_len = words_[w].size();
        }
    }
    if (best < 0) {
      best = static_cast<uint8_t>(text[i]);
      best_len = 1;
    }
    ids.push_back(best);
    i += best_len;
  }
  return ids;
}

std::string_view FakeTextModel::token_bytes(int32_t id) const {
  static const std::string kBytes = [] {
    std::string s;
    for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
    return s;
  }();
  if (id >= 0 && id < 256) return std::string_view(kBytes).substr(static_cast<size_t>(id), 1);
  if (id >= 256 && id < first_control_) return words_[static_cast<size_t>(id - 256)];
  if (id >= first_control_ && id < first_control_ + static_cast<int32_t>(controls_.size()))
    return controls_[static_cast<size_t>(id - first_control_)];
  return {};
}

bool FakeTextModel::is_control(int32_t id) const {
  return id >= first_control_ && id < first_control_ + static_cast<int32_t>(controls_.size());
}

std::optional<int32_t> FakeTextModel::control_id(std::string_view text) const {
  for (size_t c = 0; c < controls_.size(); ++c)
    if (controls_[c] == text) return first_control_ + static_cast<int32_t>(c);
  return std::nullopt;
}

Result<std::string> FakeTextModel::render_chat(const json& messages, const json& tools,
                                               bool add_generation_prompt) const {
  std::string out = controls_[0];
  for (const json& m : messages)
    if (m["role"] == "system") out += m["content"].get<std::string>();
  if (options_.renders_tools && tools.is_array()) out += "TOOLS" + tools.dump();
  bool in_tool = false;
  for (const json& m : messages) {
    const std::string role = m["role"];
    if (role == "user") {
      out += "<｜User｜>" + m["content"].get<std::string>();
      in_tool = false;
    } else if (role == "assistant") {
      if (in_tool) out += "<｜tool▁outputs▁end｜>";
      in_tool = false;
      out += "<｜Assistant｜>";
      if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
        out += "<｜tool▁calls▁begin｜>";
        bool first = true;
        for (const json& c : m["tool_calls"]) {
          if (!first && !options_.v31_tools) out += "\n";
          first = false;
          const std::string name = c["function"]["name"], args = c["function"]["arguments"];
          if (options_.v31_tools)
            out += "<｜tool▁call▁begin｜>" + name + "<｜tool▁sep｜>" + args + "<｜tool▁call▁end｜>";
          else
            out += "<｜tool▁call▁begin｜>function<｜tool▁sep｜>" + name + "\n```json\n" + args + "\n```<｜tool▁call▁end｜>";
        }
        out += "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
      } else if (m["content"].is_string()) {
        out += m["content"].get<std::string>() + "<｜end▁of▁sentence｜>";
      }
    } else if (role == "tool") {
      out += in_tool ? "\n<｜tool▁output▁begin｜>" : "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>";
      out += m["content"].get<std::string>() + "<｜tool▁output▁end｜>";
      in_tool = true;
    }
  }
  if (in_tool) out += "<｜tool▁outputs▁end｜>";
  if (add_generation_prompt && !in_tool) out += options_.reasoning ? "<｜Assistant｜><think>\n" : "<｜Assistant｜>";
  return out;
}

}  // namespace dseek::testing
