#include "text/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/nfc.h"
#include "text/tokenizer_files.h"
#include "text/utf8.h"

namespace dimple::text {

namespace {

constexpr size_t kMaxCachedPiece = 64, kMaxCachedPieces = 1 << 16;

}  // namespace

Tokenizer Tokenizer::load(const std::string& dir) { return Tokenizer(read_tokenizer_files(dir)); }

Tokenizer::Tokenizer(const TokenizerFiles& f) {
    int32_t max_id = -1;
    for (auto& [text, id] : f.vocab) max_id = std::max(max_id, id);
    for (auto& a : f.added) max_id = std::max(max_id, a.id);
    tokens_.resize(size_t(max_id + 1));
    ids_.reserve(f.vocab.size() + f.added.size());

    for (auto& [text, id] : f.vocab) {
        Token& t = tokens_[size_t(id)];
        check(!t.exists, f.source, ": id ", id, " is given to both \"", t.text, "\" and \"", text, "\"");
        check(byte_level_to_bytes(text, t.bytes), f.source, ": token \"", text,
              "\" is not written in the byte-level alphabet");
        t.text = text;
        t.exists = true;
        ids_.emplace(text, id);
        max_token_bytes_ = std::max(max_token_bytes_, t.bytes.size());
    }
    int32_t byte_tokens[256];
    for (int b = 0; b < 256; ++b) {
        const int32_t id = token_id(bytes_to_byte_level(std::string(1, char(b))));
        check(id >= 0, f.source, ": the vocabulary lacks the token for byte ", b);
        byte_tokens[b] = id;
    }
    bpe_ = Bpe(byte_tokens);
    for (auto& [left, right] : f.merges) {
        const int32_t l = token_id(left), r = token_id(right), m = token_id(left + right);
        check(l >= 0 && r >= 0 && m >= 0, f.source, ": merge \"", left, " ", right,
              "\" names a token that is not in the vocabulary");
        bpe_.add_merge(l, r, m);
    }

    for (const auto& a : f.added) {
        Token& t = tokens_[size_t(a.id)];
        check(!t.exists || t.text == a.content, f.source, ": added token \"", a.content, "\" has id ", a.id,
              ", which the vocabulary gives to \"", t.text, "\"");
        // An added token decodes to its own text (it was never byte-level encoded).
        t = Token{a.content, a.content, true, a.special};
        ids_[a.content] = a.id;
        added_.push_back({a.content, a.id});
        max_token_bytes_ = std::max(max_token_bytes_, a.content.size());
        added_first_byte_[uint8_t(a.content[0])] = true;
    }
    std::stable_sort(added_.begin(), added_.end(),
                     [](const AddedToken& x, const AddedToken& y) { return x.content.size() > y.content.size(); });
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const { return encode(text, SIZE_MAX - 1); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, size_t max_tokens) const {
    // Every token stands for at most max_token_bytes_ bytes of the normalized text, which is at
    // least a third of the raw text's bytes (NFC composes at most three UTF-8 sequences into one
    // of the same width: Hangul jamo into a syllable). A longer text cannot fit.
    if (max_tokens < SIZE_MAX / 4 && text.size() / 3 > (max_tokens + 1) * max_token_bytes_)
        return std::vector<int32_t>(max_tokens + 1, 0);
    std::string repaired;
    if (!is_valid_utf8(text)) {
        repaired = utf8_lossy(text);
        text = repaired;
    }
    std::vector<int32_t> out;
    out.reserve(std::min(text.size() / 3 + 1, max_tokens + 2));
    // Added tokens are found in the raw text, before normalization: all Qwen2-family added tokens
    // are "normalized": false. The first place where one matches wins, and there the longest.
    size_t plain = 0;  // where the stretch not yet encoded begins
    for (size_t i = 0; i < text.size() && out.size() <= max_tokens; ++i) {
        if (!added_first_byte_[uint8_t(text[i])]) continue;
        for (const AddedToken& a : added_) {
            if (text.substr(i, a.content.size()) != a.content) continue;
            encode_plain(text.substr(plain, i - plain), out, max_tokens);
            out.push_back(a.id);
            plain = i + a.content.size();
            i = plain - 1;
            break;
        }
    }
    if (out.size() <= max_tokens) encode_plain(text.substr(plain), out, max_tokens);
    return out;
}

void Tokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out, size_t limit) const {
    if (text.empty() || out.size() > limit) return;
    const std::string normalized = nfc(text);
    std::vector<std::string_view> pieces;
    pretokenizer_.split(normalized, pieces);
    for (std::string_view piece : pieces) {
        if (out.size() > limit) return;
        // A piece that alone would pass the limit is not encoded (a long one costs O(n log n)).
        if (piece.size() / max_token_bytes_ > limit - out.size()) {
            out.resize(limit + 1, 0);
            return;
        }
        if (piece.size() == 1 || piece.size() > kMaxCachedPiece) {
            bpe_.encode(piece, out);
            continue;
        }
        {
            std::lock_guard<std::mutex> lock(cache_->mu);
            auto it = cache_->map.find(piece);
            if (it != cache_->map.end()) {
                out.insert(out.end(), it->second.begin(), it->second.end());
                continue;
            }
        }
        const size_t start = out.size();
        bpe_.encode(piece, out);
        std::lock_guard<std::mutex> lock(cache_->mu);
        if (cache_->map.size() < kMaxCachedPieces)
            cache_->map.emplace(piece, std::vector<int32_t>(out.begin() + std::ptrdiff_t(start), out.end()));
    }
}

void Tokenizer::append_bytes(std::span<const int32_t> ids, bool skip_special, std::string& out) const {
    for (int32_t id : ids) {
        check(id >= 0 && id < vocab_size() && tokens_[size_t(id)].exists, "token id ", id,
              " is not in the vocabulary (", vocab_size(), " ids)");
        const Token& t = tokens_[size_t(id)];
        if (!(skip_special && t.special)) out += t.bytes;
    }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
    std::string bytes;
    append_bytes(ids, skip_special, bytes);
    return utf8_lossy(bytes);
}

int32_t Tokenizer::token_id(std::string_view token) const {
    auto it = ids_.find(std::string(token));
    return it == ids_.end() ? -1 : it->second;
}

std::string_view Tokenizer::token_text(int32_t id) const {
    return id >= 0 && id < vocab_size() ? std::string_view(tokens_[size_t(id)].text) : std::string_view();
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
    return id >= 0 && id < vocab_size() ? std::string_view(tokens_[size_t(id)].bytes) : std::string_view();
}

bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && tokens_[size_t(id)].special; }

std::string StreamDecoder::feed(std::span<const int32_t> ids) {
    tok_->append_bytes(ids, skip_special_, pending_);
    std::string out;
    pending_.erase(0, append_utf8_lossy(pending_, out, false));
    return out;
}

std::string StreamDecoder::finish() {
    std::string out;
    append_utf8_lossy(pending_, out, true);
    pending_.clear();
    return out;
}

}  // namespace dimple::text
