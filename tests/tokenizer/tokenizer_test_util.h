// Helpers shared by the tokenizer tests: a small byte-level tokenizer.json
// built in code, and readable dumps of ids and bytes for failure messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace dseek::testing {

// A byte-level BPE tokenizer.json: token id b is the single byte b (in GPT-2's
// alphabet), then one token per merge, in order. No added tokens, ByteLevel
// pre-tokenizer (no regex) and decoder.
nlohmann::json byte_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges = {});

// Builds a Tokenizer from JSON; fails the test (and returns nullopt) on error.
std::optional<Tokenizer> make_tokenizer(const nlohmann::json& tokenizer_json,
                                        const nlohmann::json& config = nlohmann::json());

// The error message for a tokenizer.json that must be rejected ("" if it was
// accepted, which fails the test).
std::string load_error(const nlohmann::json& tokenizer_json, const nlohmann::json& config = nlohmann::json());

// The byte ids of text in a byte_tokenizer_json() tokenizer without merges.
std::vector<int32_t> byte_ids(const std::string& text);

std::string show_ids(const std::vector<int32_t>& ids);
std::string show_bytes(const std::string& bytes);  // printable, \xNN for the rest

}  // namespace dseek::testing
