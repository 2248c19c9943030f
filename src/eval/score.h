// Scoring an evaluation: exact-match accuracy (after trimming whitespace) and decoding cost, overall
// and per kind of question.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace dimple::eval {

// `s` without leading and trailing whitespace (space, tab, CR, LF, VT, FF).
std::string_view trim(std::string_view s);
bool exact_match(std::string_view predicted, std::string_view expected);

// The outcome of one line of the evaluation file.
struct Prediction {
    int line = 0;
    std::string kind, question, expected;
    std::string answer;   // the model's text
    bool correct = false;
    int steps = 0;        // forward passes (diffusion steps run)
    int64_t tokens = 0;   // answer tokens before eos
    double seconds = 0;   // decoding time (prompt encoding excluded)
    std::string error;    // non-empty: the line could not be evaluated
    // Per step and layer, the attention the masks' rows gave the image (GenerateOptions::
    // measure_image_attention); empty when not measured.
    std::vector<std::vector<float>> image_attention;
    int64_t prompt_tokens = 0, image_tokens = 0;  // written with image_attention (what uniform attention gives)
};

// One JSON object for the predictions file: line, kind, question, expected, answer, correct,
// steps, tokens, seconds (and image_attention, NaN as null, prompt_tokens, image_tokens when
// measured); or line, kind and
// error for a bad line.
nlohmann::json to_json(const Prediction& p);

struct Tally {
    int64_t items = 0, correct = 0, errors = 0;  // items: answered lines; errors: bad lines
    int64_t steps = 0, tokens = 0;
    double seconds = 0;

    void add(const Prediction& p);
    double accuracy() const { return items ? double(correct) / double(items) : 0.0; }
    double steps_per_item() const { return items ? double(steps) / double(items) : 0.0; }
    // Forward passes per answer token, over all answers together (sum of steps / sum of tokens).
    double steps_per_token() const { return tokens ? double(steps) / double(tokens) : 0.0; }
    double tokens_per_second() const { return seconds > 0 ? double(tokens) / seconds : 0.0; }
};

struct Summary {
    Tally all;
    std::map<std::string, Tally> by_kind;  // only lines that name a kind

    void add(const Prediction& p);
};

nlohmann::json to_json(const Tally& t);
nlohmann::json to_json(const Summary& s);
// A table: one row per kind, then the overall row, then the cost line.
std::string format_summary(const Summary& s);

}  // namespace dimple::eval
