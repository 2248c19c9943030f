#include "text/pretokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>

#include "core/error.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace dimple::text {

using nlohmann::json;

namespace {

// GPT-2's regex, which the ByteLevel pre-tokenizer applies when its use_regex is on (the default).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behavior(const json& j, const std::string& where) {
    const std::string b = j.is_string() ? j.get<std::string>() : "";
    if (b == "Isolated") return Behavior::Isolated;
    if (b == "Removed") return Behavior::Removed;
    if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (b == "MergedWithNext") return Behavior::MergedWithNext;
    if (b == "Contiguous") return Behavior::Contiguous;
    fail(where, ": the split behavior \"", b,
         "\" is not one of Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous");
}

struct Segment {
    size_t start, end;
    bool match;
};

// Hugging Face's NormalizedString::split: the text cut at the pattern's matches, the matches kept
// as pieces of their own or joined to a neighbour or dropped.
void split_segments(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches, bool invert,
                    Behavior b, std::vector<Segment>& out) {
    std::vector<Segment> seg;
    size_t pos = 0;
    for (auto [s, e] : matches) {
        if (s > pos) seg.push_back({pos, s, invert});
        seg.push_back({s, e, !invert});
        pos = e;
    }
    if (pos < text.size()) seg.push_back({pos, text.size(), invert});
    switch (b) {
        case Behavior::Isolated: out = std::move(seg); return;
        case Behavior::Removed:
            for (const Segment& s : seg)
                if (!s.match) out.push_back(s);
            return;
        case Behavior::Contiguous:
            for (const Segment& s : seg) {
                if (!out.empty() && out.back().match == s.match)
                    out.back().end = s.end;
                else
                    out.push_back(s);
            }
            return;
        case Behavior::MergedWithPrevious: {
            bool previous_match = false;
            for (const Segment& s : seg) {
                if (s.match && !previous_match && !out.empty())
                    out.back().end = s.end;
                else
                    out.push_back(s);
                previous_match = s.match;
            }
            return;
        }
        case Behavior::MergedWithNext: {
            bool next_match = false;  // walking backwards: whether the segment after was a match
            for (size_t k = seg.size(); k-- > 0;) {
                if (seg[k].match && !next_match && !out.empty())
                    out.back().start = seg[k].start;
                else
                    out.push_back(seg[k]);
                next_match = seg[k].match;
            }
            std::reverse(out.begin(), out.end());
            return;
        }
    }
}

}  // namespace

struct PreTokenizer::Step {
    enum Kind { Split, ByteLevelPrefix, Metaspace } kind;
    explicit Step(Kind k) : kind(k) {}
    std::unique_ptr<Regex> regex;  // Split's pattern (ByteLevel's GPT-2 regex is a Split after it)
    Behavior behavior = Behavior::Isolated;
    bool invert = false;
    std::string replacement;  // Metaspace
    enum Prepend { Always, First, Never } prepend = Always;
    bool metaspace_split = true;
};

PreTokenizer::PreTokenizer() {
    auto s = std::make_shared<Step>(Step::Split);
    s->regex = std::make_unique<Regex>(Regex::oniguruma(kQwen2Pattern, "Qwen2's pre-tokenizer"));
    steps_.push_back(std::move(s));
    byte_level_ = true;
}

PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

PreTokenizer PreTokenizer::from_json(const json& j, const std::string& where) {
    PreTokenizer p;
    p.steps_.clear();
    p.byte_level_ = false;
    if (!j.is_null()) p.add(j, where);
    return p;
}

void PreTokenizer::add(const json& j, const std::string& where) {
    check(j.is_object() && j.contains("type") && j["type"].is_string(), where, ": a pre-tokenizer has no \"type\"");
    const std::string type = j["type"].get<std::string>();
    check(!byte_level_, where, ": the pre-tokenizer ", type,
          " comes after ByteLevel, which is supported only as the last step");
    auto split = [&](Regex re, Behavior b, bool invert = false) {
        auto s = std::make_shared<Step>(Step::Split);
        s->regex = std::make_unique<Regex>(std::move(re));
        s->behavior = b;
        s->invert = invert;
        steps_.push_back(std::move(s));
    };
    if (type == "Sequence") {
        check(j.contains("pretokenizers") && j["pretokenizers"].is_array(), where,
              ": a Sequence pre-tokenizer has no \"pretokenizers\" list");
        for (const json& sub : j["pretokenizers"]) add(sub, where);
    } else if (type == "Split") {
        split(pattern_from_json(j.value("pattern", json()), where), behavior(j.value("behavior", json()), where),
              j.value("invert", false));
    } else if (type == "ByteLevel") {
        // Defaults: Hugging Face requires add_prefix_space (the JavaScript port reads its absence as
        // false); use_regex is on unless turned off.
        if (j.value("add_prefix_space", false)) steps_.push_back(std::make_shared<Step>(Step::ByteLevelPrefix));
        if (j.value("use_regex", true)) split(Regex::oniguruma(kGpt2Pattern, where), Behavior::Isolated);
        byte_level_ = true;
    } else if (type == "Metaspace") {
        auto s = std::make_shared<Step>(Step::Metaspace);
        s->replacement = j.value("replacement", std::string("\xE2\x96\x81"));
        size_t i = 0;
        check(!s->replacement.empty() && (next_code_point(s->replacement, i), i == s->replacement.size()), where,
              ": Metaspace's replacement must be one character");
        const std::string scheme = j.value("prepend_scheme", std::string("always"));
        check(scheme == "always" || scheme == "first" || scheme == "never", where, ": Metaspace's prepend_scheme \"",
              scheme, "\" is not always, first or never");
        s->prepend = scheme == "always" ? Step::Always : scheme == "first" ? Step::First : Step::Never;
        // The older form: add_prefix_space false means never (Hugging Face refuses it with another scheme).
        if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean() &&
            !j["add_prefix_space"].get<bool>()) {
            check(s->prepend == Step::Never || !j.contains("prepend_scheme"), where,
                  ": Metaspace's add_prefix_space false contradicts its prepend_scheme");
            s->prepend = Step::Never;
        }
        s->metaspace_split = j.value("split", true);
        steps_.push_back(std::move(s));
    } else if (type == "Digits") {
        // Rust's char::is_numeric is the N categories: each digit alone, or runs of them.
        split(Regex::oniguruma(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+", where), Behavior::Isolated);
    } else if (type == "Punctuation") {
        split(Regex::oniguruma(R"([\p{P}!-/:-@\[-`{-~])", where),
              j.contains("behavior") ? behavior(j["behavior"], where) : Behavior::Isolated);
    } else if (type == "Whitespace") {
        split(Regex::oniguruma(R"(\w+|[^\w\s]+)", where), Behavior::Removed, true);
    } else if (type == "WhitespaceSplit") {
        split(Regex::oniguruma(R"(\s+)", where), Behavior::Removed);
    } else {
        fail(where, ": the pre-tokenizer \"", type,
             "\" is not supported (supported: Split, ByteLevel, Metaspace, Digits, Punctuation, Whitespace, "
             "WhitespaceSplit, Sequence)");
    }
}

bool PreTokenizer::removes_text() const {
    for (const auto& s : steps_)
        if (s->kind == Step::Split && s->behavior == Behavior::Removed) return true;
    return false;
}

void PreTokenizer::split(std::string_view text, bool at_origin, Pieces& out) const {
    if (text.empty()) return;
    if (steps_.empty()) {
        out.views.push_back(text);
        return;
    }
    const std::string_view whole[1] = {text};
    std::span<const std::string_view> in(whole);
    std::vector<std::string_view> buffers[2];  // between steps
    thread_local std::vector<std::pair<size_t, size_t>> matches;
    std::vector<Segment> segs;
    bool origin = at_origin;  // whether in[0] begins the input
    for (size_t k = 0; k < steps_.size(); ++k) {
        const Step& st = *steps_[k];
        std::vector<std::string_view>& dst = k + 1 == steps_.size() ? out.views : buffers[k % 2];
        if (&dst != &out.views) dst.clear();
        const size_t first_out = dst.size();
        bool next_origin = false;
        for (size_t p = 0; p < in.size(); ++p) {
            const std::string_view piece = in[p];
            const size_t before = dst.size();
            if (st.kind == Step::ByteLevelPrefix) {
                if (piece[0] == ' ') {
                    dst.push_back(piece);
                } else {
                    std::string s(1, ' ');
                    s.append(piece);
                    dst.push_back(out.own(std::move(s)));
                }
            } else if (st.kind == Step::Split) {
                matches.clear();
                st.regex->find_all(piece, matches);
                if (st.behavior == Behavior::Isolated && !st.invert) {  // the common case, without segments
                    size_t pos = 0;
                    for (auto [s, e] : matches) {
                        if (s > pos) dst.push_back(piece.substr(pos, s - pos));
                        dst.push_back(piece.substr(s, e - s));
                        pos = e;
                    }
                    if (pos < piece.size()) dst.push_back(piece.substr(pos));
                } else {
                    segs.clear();
                    split_segments(piece, matches, st.invert, st.behavior, segs);
                    if (p == 0 && !segs.empty() && segs[0].start == 0) next_origin = origin;
                    for (const Segment& s : segs) dst.push_back(piece.substr(s.start, s.end - s.start));
                    continue;
                }
            } else {  // Metaspace
                std::string s;
                s.reserve(piece.size() + 8);
                for (char c : piece) c == ' ' ? void(s += st.replacement) : void(s += c);
                const bool starts = s.compare(0, st.replacement.size(), st.replacement) == 0;
                if (!starts && (st.prepend == Step::Always || (st.prepend == Step::First && p == 0 && origin)))
                    s.insert(0, st.replacement);
                const std::string_view owned = out.own(std::move(s));
                if (!st.metaspace_split) {
                    dst.push_back(owned);
                } else {  // split before each replacement character (MergedWithNext)
                    size_t start = 0;
                    for (size_t at = owned.find(st.replacement, 1); at != std::string_view::npos;
                         at = owned.find(st.replacement, at + 1)) {
                        dst.push_back(owned.substr(start, at - start));
                        start = at;
                    }
                    dst.push_back(owned.substr(start));
                }
            }
            if (p == 0 && dst.size() > before) next_origin = origin;
        }
        // Steps never make empty pieces but Split's segments may be empty after a merge: drop them.
        size_t w = first_out;
        for (size_t r = first_out; r < dst.size(); ++r)
            if (!dst[r].empty()) dst[w++] = dst[r];
        dst.resize(w);
        origin = next_origin;
        in = dst;
    }
}

}  // namespace dimple::text
