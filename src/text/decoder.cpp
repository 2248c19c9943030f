#include "text/decoder.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace dimple::text {

using nlohmann::json;

namespace {

// A ByteFallback token: "<0xHH>" exactly.
bool byte_token(std::string_view t, uint8_t& b) {
    auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
    };
    if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>' || hex(t[3]) < 0 || hex(t[4]) < 0) return false;
    b = uint8_t(hex(t[3]) * 16 + hex(t[4]));
    return true;
}

// ByteLevel's reading of one token: its characters' bytes, or the token itself when one of its
// characters is outside the alphabet.
std::string token_bytes(std::string_view t) {
    std::string b;
    return byte_level_to_bytes(t, b) ? b : std::string(t);
}

// Replaces the occurrences of `from` complete in `held` and takes them, with the text before, out
// of it, leaving a tail that more text may complete into an occurrence (a prefix of `from`).
std::string replace_settled(std::string& held, std::string_view from, std::string_view to) {
    std::string done;
    size_t pos = 0;
    for (size_t at = held.find(from); !from.empty() && at != std::string::npos; at = held.find(from, pos)) {
        done.append(held, pos, at - pos).append(to);
        pos = at + from.size();
    }
    size_t keep = held.size();
    for (size_t k = std::max(pos, held.size() - std::min(held.size(), from.size())); k < held.size(); ++k)
        if (from.compare(0, held.size() - k, std::string_view(held).substr(k)) == 0) {
            keep = k;
            break;
        }
    done.append(held, pos, keep - pos);
    held.erase(0, keep);
    return done;
}

std::string replace_literal(std::string_view s, std::string_view from, std::string_view to) {
    std::string out;
    size_t pos = 0;
    for (size_t at = s.find(from); !from.empty() && at != std::string_view::npos; at = s.find(from, pos)) {
        out.append(s.substr(pos, at - pos)).append(to);
        pos = at + from.size();
    }
    return out.append(s.substr(pos));
}

}  // namespace

struct Decoder::Step {
    enum Kind { ByteLevel, ByteFallback, Replace, Strip, Metaspace, Fuse, JoinSpaces } kind;
    explicit Step(Kind k) : kind(k) {}
    bool fused_input = false;  // a step before joined the tokens: this one sees chunks of one token
    std::unique_ptr<Regex> pattern;
    std::string content;         // Replace's replacement; Strip's character; Metaspace's replacement
    size_t start = 0, stop = 0;  // Strip
    bool prepend = true;         // Metaspace: prepend_scheme is not never

    // The step on one whole token (`first`: it is the first token).
    std::string whole(std::string_view t, bool first) const {
        switch (kind) {
            case ByteLevel: return utf8_lossy(token_bytes(t));
            case ByteFallback: {
                uint8_t b;
                if (!byte_token(t, b)) return std::string(t);
                const std::string s(1, char(b));
                return is_valid_utf8(s) ? s : std::string(kReplacementChar);
            }
            case Replace: return pattern->replace_all(t, content);
            case Strip: {
                std::vector<std::string_view> chars;
                for (size_t i = 0, at = 0; i < t.size(); at = i) {
                    next_code_point(t, i);
                    chars.push_back(t.substr(at, i - at));
                }
                size_t lo = 0, hi = chars.size();
                while (lo < start && lo < chars.size() && chars[lo] == content) ++lo;
                for (size_t k = 0; k < stop && hi > lo && chars[hi - 1] == content; ++k) --hi;
                std::string out;
                for (size_t k = lo; k < hi; ++k) out += chars[k];
                return out;
            }
            case Metaspace: return replace_literal(t, content, first && prepend ? "" : " ");
            case Fuse:
            case JoinSpaces: return std::string(t);
        }
        return std::string(t);
    }
};

Decoder::Decoder() { steps_.push_back(std::make_shared<Step>(Step::ByteLevel)); }

Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;
Decoder::~Decoder() = default;

Decoder Decoder::from_json(const json& j, const std::string& where) {
    Decoder d;
    d.steps_.clear();
    if (j.is_null())
        d.steps_.push_back(std::make_shared<Step>(Step::JoinSpaces));
    else
        d.add(j, where);
    return d;
}

void Decoder::add(const json& j, const std::string& where) {
    check(j.is_object() && j.contains("type") && j["type"].is_string(), where, ": a decoder has no \"type\"");
    const std::string type = j["type"].get<std::string>();
    auto step = std::make_shared<Step>(Step::Fuse);
    if (type == "Sequence") {
        check(j.contains("decoders") && j["decoders"].is_array(), where,
              ": a Sequence decoder has no \"decoders\" list");
        for (const json& sub : j["decoders"]) add(sub, where);
        return;
    } else if (type == "ByteLevel") {
        step->kind = Step::ByteLevel;
    } else if (type == "ByteFallback") {
        step->kind = Step::ByteFallback;
    } else if (type == "Fuse") {
        step->kind = Step::Fuse;
    } else if (type == "Replace") {
        check(j.contains("content") && j["content"].is_string(), where, ": a Replace decoder has no \"content\"");
        step->kind = Step::Replace;
        step->pattern = std::make_unique<Regex>(pattern_from_json(j.value("pattern", json()), where));
        step->content = j["content"].get<std::string>();
    } else if (type == "Strip") {
        const std::string c = j.value("content", std::string(" "));
        size_t i = 0;
        check(!c.empty() && (next_code_point(c, i), i == c.size()), where, ": Strip's content must be one character");
        step->kind = Step::Strip;
        step->content = c;
        step->start = j.value("start", size_t(0));
        step->stop = j.value("stop", size_t(0));
    } else if (type == "Metaspace") {
        step->kind = Step::Metaspace;
        step->content = j.value("replacement", std::string("\xE2\x96\x81"));
        const std::string scheme = j.value("prepend_scheme", std::string("always"));
        step->prepend = scheme != "never" && j.value("add_prefix_space", true);
    } else {
        fail(where, ": the decoder \"", type,
             "\" is not supported (supported: ByteLevel, ByteFallback, Replace, Strip, Metaspace, Fuse, Sequence)");
    }
    for (const auto& before : steps_)
        step->fused_input = step->fused_input || before->kind == Step::ByteLevel || before->kind == Step::Fuse;
    steps_.push_back(std::move(step));
}

bool Decoder::byte_level_only() const { return steps_.size() == 1 && steps_[0]->kind == Step::ByteLevel; }

std::string Decoder::middle_piece(std::string_view token) const {
    std::string t(token);
    for (const auto& s : steps_) {
        uint8_t b;
        switch (s->kind) {
            case Step::ByteLevel: return token_bytes(t);
            case Step::ByteFallback:
                if (byte_token(t, b)) return std::string(1, char(b));
                break;
            case Step::Fuse:
            case Step::JoinSpaces: return t;
            default: t = s->whole(t, false); break;
        }
    }
    return t;
}

Decoder::Stream::Stream(const Decoder& d) : d_(&d), state_(d.steps_.size()) {}

void Decoder::Stream::push(std::string_view token, std::string_view bytes, std::string& out) {
    bytes_ = bytes;
    emit(0, token, out);
}

void Decoder::Stream::finish(std::string& out) { flush(0, out, true); }

void Decoder::Stream::emit(size_t i, std::string_view piece, std::string& out) {
    if (i == d_->steps_.size()) {
        out += piece;
        return;
    }
    const Step& s = *d_->steps_[i];
    State& st = state_[i];
    if (s.fused_input) {  // `piece` continues the one token the steps before made
        switch (s.kind) {
            case Step::Fuse: emit(i + 1, piece, out); return;
            case Step::Replace:
                if (s.pattern->is_literal()) {
                    st.held += piece;
                    const std::string done = replace_settled(st.held, s.pattern->pcre2_pattern(), s.content);
                    if (!done.empty()) emit(i + 1, done, out);
                    return;
                }
                break;
            case Step::Strip: {
                std::string done;
                for (size_t k = 0, at = 0; k < piece.size(); at = k) {
                    next_code_point(piece, k);
                    const std::string_view c = piece.substr(at, k - at);
                    if (!st.past_start && st.count < s.start && c == s.content) {
                        ++st.count;
                        continue;
                    }
                    st.past_start = true;
                    if (s.stop > 0 && c == s.content) {
                        st.held += c;  // maybe trailing: settled by what follows, or by the end
                    } else {
                        done += st.held, st.held.clear();
                        done += c;
                    }
                }
                if (!done.empty()) emit(i + 1, done, out);
                return;
            }
            default: break;
        }
        st.held += piece;  // the rest act on the whole text: held to the end
        return;
    }
    switch (s.kind) {
        case Step::ByteLevel: {
            st.held += i == 0 ? std::string(bytes_) : token_bytes(piece);
            std::string text;
            st.held.erase(0, append_utf8_lossy(st.held, text, false));
            if (!text.empty()) emit(i + 1, text, out);
            return;
        }
        case Step::ByteFallback: {
            uint8_t b;
            if (byte_token(piece, b)) {
                st.held += char(b);
                return;
            }
            flush(i, out, false);
            emit(i + 1, piece, out);
            return;
        }
        case Step::JoinSpaces:
            if (st.count++ > 0) emit(i + 1, " ", out);
            emit(i + 1, piece, out);
            return;
        case Step::Metaspace: emit(i + 1, s.whole(piece, st.count++ == 0), out); return;
        default: emit(i + 1, s.whole(piece, false), out); return;
    }
}

void Decoder::Stream::flush(size_t i, std::string& out, bool cascade) {
    if (i == d_->steps_.size()) return;
    const Step& s = *d_->steps_[i];
    State& st = state_[i];
    std::string held = std::move(st.held);
    st.held.clear();
    if (s.kind == Step::ByteFallback && !s.fused_input) {
        // A run of byte tokens: its text, or one U+FFFD per byte (each a token of its own).
        if (is_valid_utf8(held)) {
            if (!held.empty()) emit(i + 1, held, out);
        } else {
            for (size_t k = 0; k < held.size(); ++k) emit(i + 1, kReplacementChar, out);
        }
    } else if (s.kind == Step::ByteLevel && !s.fused_input) {
        if (!held.empty()) emit(i + 1, utf8_lossy(held), out);
    } else if (s.kind == Step::Strip && s.fused_input) {
        // The trailing run of stripped characters: `stop` of them go.
        const size_t n = held.size() / s.content.size(), keep = n - std::min(n, s.stop);
        std::string rest;
        for (size_t k = 0; k < keep; ++k) rest += s.content;
        if (!rest.empty()) emit(i + 1, rest, out);
    } else if (s.fused_input && (s.kind != Step::Replace || !s.pattern->is_literal())) {
        if (!held.empty()) emit(i + 1, s.whole(held, true), out);
    } else if (!held.empty()) {
        emit(i + 1, held, out);
    }
    if (!cascade) return;
    st = State{};
    flush(i + 1, out, true);
}

}  // namespace dimple::text
