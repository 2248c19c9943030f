#include "eval/score.h"

#include <cmath>
#include <cstdio>

namespace dimple::eval {

using nlohmann::json;

std::string_view trim(std::string_view s) {
    constexpr std::string_view space = " \t\r\n\v\f";
    const size_t first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

bool exact_match(std::string_view predicted, std::string_view expected) {
    return trim(predicted) == trim(expected);
}

json to_json(const Prediction& p) {
    json j = {{"line", p.line}};
    if (!p.kind.empty()) j["kind"] = p.kind;
    if (!p.error.empty()) {
        j["error"] = p.error;
        return j;
    }
    j["question"] = p.question;
    j["expected"] = p.expected;
    j["answer"] = p.answer;
    j["correct"] = p.correct;
    j["steps"] = p.steps;
    j["tokens"] = p.tokens;
    j["seconds"] = p.seconds;
    if (!p.image_attention.empty()) {
        json steps = json::array();
        for (const std::vector<float>& layers : p.image_attention) {
            json row = json::array();
            for (float v : layers) row.push_back(std::isfinite(v) ? json(v) : json(nullptr));
            steps.push_back(std::move(row));
        }
        j["image_attention"] = std::move(steps);
        j["prompt_tokens"] = p.prompt_tokens;
        j["image_tokens"] = p.image_tokens;
    }
    return j;
}

void Tally::add(const Prediction& p) {
    if (!p.error.empty()) {
        ++errors;
        return;
    }
    ++items;
    correct += p.correct;
    steps += p.steps;
    tokens += p.tokens;
    seconds += p.seconds;
}

void Summary::add(const Prediction& p) {
    all.add(p);
    if (!p.kind.empty()) by_kind[p.kind].add(p);
}

json to_json(const Tally& t) {
    return {{"items", t.items},
            {"correct", t.correct},
            {"errors", t.errors},
            {"accuracy", t.accuracy()},
            {"mean_steps", t.steps_per_item()},
            {"steps_per_token", t.steps_per_token()},
            {"tokens", t.tokens},
            {"seconds", t.seconds},
            {"tokens_per_s", t.tokens_per_second()}};
}

json to_json(const Summary& s) {
    json j = to_json(s.all);
    j["kinds"] = json::object();
    for (const auto& [kind, t] : s.by_kind) j["kinds"][kind] = to_json(t);
    return j;
}

namespace {

std::string row(const std::string& name, const Tally& t) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-20s %6lld %6lld %7.1f%% %6lld %9.2f %11.3f\n", name.c_str(),
                  (long long)t.items, (long long)t.correct, 100 * t.accuracy(), (long long)t.errors,
                  t.steps_per_item(), t.steps_per_token());
    return buf;
}

}  // namespace

std::string format_summary(const Summary& s) {
    std::string out = "kind                  items  right accuracy errors     steps steps/token\n";
    for (const auto& [kind, t] : s.by_kind) out += row(kind, t);
    out += row("all", s.all);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "mean forward passes: %.2f per question, %.3f per answer token\n"
                  "decoding: %lld answer tokens in %.1f s, %.1f tokens/s\n",
                  s.all.steps_per_item(), s.all.steps_per_token(), (long long)s.all.tokens, s.all.seconds,
                  s.all.tokens_per_second());
    return out + buf;
}

}  // namespace dimple::eval
