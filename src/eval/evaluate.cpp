#include "eval/evaluate.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "decode/decode_state.h"

namespace dimple::eval {

namespace {

// The line's own input as a prompt, checked against the options; errors here belong to the line.
Prompt line_prompt(const Engine& engine, const EvalItem& item, const GenerateOptions& options) {
    const std::vector<int64_t> ids = engine.chat_ids({{"user", item.question, 1}});
    const Prompt prompt = engine.prompt(ids, {load_image(item.image)});
    validate_generate_options(options, engine.config(), int64_t(prompt.ids.size()));
    return prompt;
}

}  // namespace

Prediction evaluate(const Engine& engine, const EvalItem& item, const GenerateOptions& options) {
    Prediction p;
    p.line = item.line;
    p.kind = item.kind;
    p.question = item.question;
    p.expected = item.answer;
    p.error = item.error;
    if (!p.error.empty()) return p;
    Prompt prompt;
    try {
        prompt = line_prompt(engine, item, options);
    } catch (const Error& e) {
        p.error = e.what();
        return p;
    }
    const auto start = std::chrono::steady_clock::now();
    const GenerateResult r = generate(engine.language_model(), prompt, options);
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::vector<int64_t> answer(r.sequence.begin() + int64_t(prompt.ids.size()), r.sequence.end());
    p.answer = engine.answer_text(answer);
    p.tokens = engine.answer_length(answer);
    p.steps = r.steps_run;
    p.correct = exact_match(p.answer, p.expected);
    p.image_attention = r.image_attention;
    p.prompt_tokens = int64_t(prompt.ids.size());
    p.image_tokens = std::count(prompt.ids.begin(), prompt.ids.end(), engine.config().ids.image);
    return p;
}

}  // namespace dimple::eval
