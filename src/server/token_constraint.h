// Constrained decoding: before each draw, every token that cannot continue
// the required output is masked (-inf). The output grammars are byte-level
// (JsonAutomaton) plus control tokens as atoms, so a token is allowed when
// all of its bytes continue the text, and the mask is computed by walking a
// trie of the vocabulary's token bytes with a copy of the grammar state,
// pruning every branch at its first refused byte.
//
// Two grammars:
//  - json_object: one JSON object, then only an end token (response_format
//    json_object: the answer parses, or it was cut by max_tokens);
//  - tool calls in DeepSeek's format (tool_choice required or named):
//    <｜tool▁calls▁begin｜> (<｜tool▁call▁begin｜> ... <｜tool▁call▁end｜>)+
//    <｜tool▁calls▁end｜>, each call naming one of the offered functions with
//    JSON-object arguments.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/json_automaton.h"
#include "server/text_model.h"

namespace dseek::server {

// The bytes of every ordinary token in a trie; control tokens listed apart.
class VocabIndex {
 public:
  explicit VocabIndex(const TextModel& text);
  int32_t vocab_size() const { return vocab_size_; }
  const std::vector<int32_t>& control_tokens() const { return control_; }
  bool is_control(int32_t id) const { return is_control_[static_cast<size_t>(id)]; }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }

  struct Node {
    uint32_t first_child = 0;  // index into nodes_, 0: none
    uint32_t next_sibling = 0;
    uint32_t first_token = 0;  // index into token_ids_ of the tokens ending here
    uint32_t n_tokens = 0;
    uint8_t byte = 0;
  };
  const std::vector<Node>& nodes() const { return nodes_; }  // nodes_[0] is the root
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  size_t max_token_bytes() const { return max_token_bytes_; }

 private:
  int32_t vocab_size_ = 0;
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  std::vector<int32_t> control_;
  std::vector<bool> is_control_;
  std::vector<std::string> bytes_;
  size_t max_token_bytes_ = 0;
};

// DeepSeek's tool-call token format. V3/R1:
//   <calls_begin><call_begin>function<sep>NAME\n```json\nARGS\n```<call_end>
//   [\n<call_begin>...<call_end>]* <calls_end>
// V3.1 and later: <call_begin>NAME<sep>ARGS<call_end>, no type and no fences.
struct ToolCallFormat {
  int32_t calls_begin = -1, calls_end = -1, call_begin = -1, call_end = -1, sep = -1;
  bool v3_fenced = true;

  bool valid() const { return calls_begin >= 0 && calls_end >= 0 && call_begin >= 0 && call_end >= 0 && sep >= 0; }
  // Looks the tokens up; the fenced form when the template writes ```json.
  static ToolCallFormat from(const TextModel& text, bool v3_fenced);
};

// Besides the grammar, the masker keeps the answer finishable within
// max_tokens: a token is allowed only if the output can still be completed
// (closing strings and brackets, the call's fixed tokens, the end token) in
// the tokens left. Single-byte tokens exist for every byte, so a complete
// answer always fits when max_tokens allows the shortest one at all. When
// the budget forced the model to close early, forced() says so and the API
// reports finish_reason "length".
class OutputConstraint {
 public:
  // end_tokens: the tokens that end the answer (EOS, ...): allowed only once
  // the output is complete, and then the only ones allowed.
  static std::unique_ptr<OutputConstraint> json_object(std::shared_ptr<const VocabIndex> vocab,
                                                       std::vector<int32_t> end_tokens, int64_t max_tokens);
  // names: the functions that may be called; max_calls >= 1.
  static std::unique_ptr<OutputConstraint> tool_calls(std::shared_ptr<const VocabIndex> vocab,
                                                      std::vector<int32_t> end_tokens, const ToolCallFormat& format,
                                                      const std::vector<std::string>& names, int max_calls,
                                                      int64_t max_tokens);

  // The scheduler's hook: brings the state up to date with `output` and
  // masks the logits. Runs on the engine thread.
  void apply(std::span<float> logits, std::span<const int32_t> output);

  // The allowed tokens after `output` as a bitmap (vocab bits), for tests.
  std::vector<bool> allowed_after(std::span<const int32_t> output);
  bool complete() const { return state_.ended; }
  // The tokens left were only just enough, so the model was made to close.
  bool forced() const { return forced_; }
  // A token the grammar refused was drawn anyway, or no token was allowed:
  // the constraint gave up (never expected; reported as an error).
  bool broken() const { return broken_; }

 private:
  enum class ItemKind : uint8_t { kControl, kLiteral, kName, kJson, kAfterCall };
  struct Item {
    explicit Item(ItemKind k, int32_t control = -1, std::string text = {})
        : kind(k), id(control), literal(std::move(text)) {}
    ItemKind kind;
    int32_t id;           // kControl
    std::string literal;  // kLiteral
  };
  struct State {
    uint16_t item = 0;
    uint16_t pos = 0;  // kLiteral: bytes matched; kName: node of the name trie
    uint8_t calls = 0;
    bool ended = false;
    JsonAutomaton json;
    bool operator==(const State&) const = default;
  };
  struct NameNode {
    std::vector<std::pair<uint8_t, uint16_t>> children;
    bool terminal = false;
  };

  OutputConstraint(std::shared_ptr<const VocabIndex> vocab, std::vector<int32_t> end_tokens, int64_t max_tokens);
  bool accept_byte(State& s, uint8_t b) const;
  bool accept_control(State& s, int32_t id) const;
  bool accept_token(State& s, int32_t id) const;
  void enter(State& s, uint16_t item) const;
  // limit < 0: no budget; else tokens are allowed only if the output can
  // still be completed in at most `limit` more tokens after them.
  void compute_mask(const State& s, int64_t limit, std::vector<uint64_t>& bits) const;
  uint64_t state_hash(const State& s) const;
  // The fewest tokens (bytes, at one byte per token) that complete the output, the end token included.
  int64_t distance(const State& s) const;
  void finish_setup();

  std::shared_ptr<const VocabIndex> vocab_;
  std::vector<int32_t> end_tokens_;
  std::vector<Item> items_;
  uint16_t call_start_ = 0;     // first item of a call after the first one
  uint8_t max_calls_ = 1;
  int32_t calls_end_ = -1;
  std::vector<NameNode> names_;  // trie of function names, names_[0] the root
  std::vector<int> name_left_;   // by name-trie node: fewest bytes to a whole name
  std::vector<int64_t> after_;   // by item: fewest tokens for the items after it, the end token included
  std::vector<bool> is_end_;     // by token id
  int64_t max_tokens_ = 0;
  bool forced_ = false;

  State state_;
  size_t consumed_ = 0;  // output tokens already fed
  bool broken_ = false;

  // Masks by state: inside a string the state repeats, and so does the mask.
  struct CachedMask {
    State state;
    std::vector<uint64_t> bits;
  };
  std::unordered_map<uint64_t, CachedMask> cache_;
  std::vector<uint64_t> scratch_;
};

}  // namespace dseek::server
