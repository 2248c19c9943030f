#include "text/bpe_model.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/utf8.h"

namespace dimple::text {

namespace {

constexpr size_t kMaxCachedPiece = 64, kMaxCachedPieces = 1 << 16;

}  // namespace

BpeModel::BpeModel(const Options& options, const Vocab& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source)
    : opt_(options) {
    std::fill(std::begin(ascii_ids_), std::end(ascii_ids_), -1);
    std::fill(std::begin(byte_fallback_), std::end(byte_fallback_), -1);
    int32_t byte_tokens[256] = {};
    if (opt_.byte_level) {
        for (int b = 0; b < 256; ++b) {
            byte_tokens[b] = vocab.id(bytes_to_byte_level(std::string(1, char(b))));
            check(byte_tokens[b] >= 0, source, ": the vocabulary lacks the token for byte ", b);
        }
    } else {
        all_bytes_ = true;
        for (int b = 0; b < 256; ++b) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            byte_fallback_[b] = vocab.id(name);
            all_bytes_ = all_bytes_ && byte_fallback_[b] >= 0;
        }
        for (const auto& [text, id] : vocab.entries) {
            size_t i = 0;
            if (text.empty()) continue;
            const char32_t cp = next_code_point(text, i);
            if (i != text.size()) continue;
            if (cp < 128)
                ascii_ids_[cp] = id;
            else
                char_ids_[cp] = id;
        }
    }
    bpe_ = Bpe(byte_tokens);
    for (auto& [left, right] : merges) {
        const int32_t l = vocab.id(left), r = vocab.id(right), m = vocab.id(left + right);
        check(l >= 0 && r >= 0 && m >= 0, source, ": merge \"", left, " ", right,
              "\" names a token that is not in the vocabulary");
        bpe_.add_merge(l, r, m);
    }
    if (opt_.ignore_merges)
        for (const auto& [text, id] : vocab.entries) whole_.emplace(text, id);
}

bool BpeModel::lossless() const {
    return opt_.byte_level || (opt_.byte_fallback && all_bytes_) || (opt_.unk_id >= 0 && !opt_.fuse_unk);
}

// Hugging Face's merge_word: a character the vocabulary lacks becomes its bytes' tokens (all of
// them must exist) or the unknown token, which is held back to be fused with the next unknown one
// (Hugging Face holds it across byte-fallback characters too, so they land before it).
void BpeModel::char_symbols(std::string_view piece, std::vector<int32_t>& symbols) const {
    int32_t unk = -1;  // the unknown token held back
    for (size_t i = 0; i < piece.size();) {
        const size_t start = i;
        const char32_t cp = next_code_point(piece, i);
        int32_t id = -1;
        if (cp < 128) {
            id = ascii_ids_[cp];
        } else if (auto it = char_ids_.find(cp); it != char_ids_.end()) {
            id = it->second;
        }
        if (id >= 0) {
            if (unk >= 0) symbols.push_back(unk), unk = -1;
            symbols.push_back(id);
            continue;
        }
        if (opt_.byte_fallback) {
            bool all = true;
            for (size_t k = start; k < i; ++k) all = all && byte_fallback_[uint8_t(piece[k])] >= 0;
            if (all) {
                for (size_t k = start; k < i; ++k) symbols.push_back(byte_fallback_[uint8_t(piece[k])]);
                continue;
            }
        }
        if (opt_.unk_id < 0) continue;
        if (unk >= 0 && !opt_.fuse_unk) symbols.push_back(unk);
        unk = opt_.unk_id;
    }
    if (unk >= 0) symbols.push_back(unk);
}

void BpeModel::encode_uncached(std::string_view piece, std::vector<int32_t>& out) const {
    if (opt_.ignore_merges) {
        if (auto it = whole_.find(piece); it != whole_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    if (opt_.byte_level) {
        bpe_.encode(piece, out);
        return;
    }
    thread_local std::vector<int32_t> symbols;
    symbols.clear();
    char_symbols(piece, symbols);
    bpe_.encode(symbols, out);
    if (symbols.capacity() > Bpe::kKeptScratch) std::vector<int32_t>().swap(symbols);
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
    if ((opt_.byte_level && piece.size() == 1) || piece.size() > kMaxCachedPiece) {
        encode_uncached(piece, out);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(cache_->mu);
        auto it = cache_->map.find(piece);
        if (it != cache_->map.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    const size_t start = out.size();
    encode_uncached(piece, out);
    std::lock_guard<std::mutex> lock(cache_->mu);
    if (cache_->map.size() < kMaxCachedPieces)
        cache_->map.emplace(piece, std::vector<int32_t>(out.begin() + std::ptrdiff_t(start), out.end()));
}

}  // namespace dimple::text
