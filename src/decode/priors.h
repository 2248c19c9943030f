// Structure priors: answer positions fixed before decoding, which the model fills around.
//
// Template syntax (the answer region, from its first position): literal text is tokenized and
// fixed; `<mask>` is one free position and `<mask:N>` is N free positions; `\<` is a literal '<'.
// Positions after the template stay free. Example: {"name": "<mask:6>", "age": <mask:2>}
// An exact answer length N fixes position N to eos and every later one to pad.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dimple {

struct TemplatePiece {
    std::string text;     // literal text to fix (empty for a mask run)
    int64_t masks = 0;    // free positions
};

// Splits a template into literal and mask pieces; malformed mask tags are errors naming the offset.
std::vector<TemplatePiece> parse_answer_template(std::string_view tmpl);

using Encoder = std::function<std::vector<int32_t>(std::string_view)>;

// answer offset -> fixed id for a template (literal pieces encoded separately, so no token spans
// a mask boundary). Errors when the template needs more than max_new_tokens positions.
std::map<int64_t, int64_t> template_priors(const std::vector<TemplatePiece>& pieces, const Encoder& encode,
                                           int64_t max_new_tokens);

// Fixes position `length` to eos and the rest to pad (an answer of exactly `length` tokens).
void add_length_prior(std::map<int64_t, int64_t>& fixed, int64_t length, int64_t max_new_tokens,
                      int64_t eos, int64_t pad);

// "OFFSET:ID,OFFSET:ID,..." (the token-level form).
std::map<int64_t, int64_t> parse_fixed_ids(std::string_view spec);

}  // namespace dimple
