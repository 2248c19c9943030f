#include "text/tokenizer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/tokenizer_files.h"
#include "text/utf8.h"

namespace dimple::text {

Tokenizer Tokenizer::load(const std::string& dir) {
    TokenizerFiles files = read_tokenizer_files(dir);
    return Tokenizer(files);
}

Tokenizer::Tokenizer(TokenizerFiles& f)
    : normalizer_(std::move(f.normalizer)),
      pretokenizer_(std::move(f.pretokenizer)),
      decoder_(std::move(f.decoder)),
      prefix_(std::move(f.prefix_ids)),
      suffix_(std::move(f.suffix_ids)),
      clean_up_spaces_(f.clean_up_spaces) {
    const bool byte_level = pretokenizer_.byte_level();
    int32_t max_id = -1;
    for (auto& [text, id] : f.vocab) max_id = std::max(max_id, id);
    for (auto& a : f.added) max_id = std::max(max_id, a.id);
    tokens_.resize(size_t(max_id + 1));
    ids_.reserve(f.vocab.size() + f.added.size());

    // A token's bytes: for byte-level BPE, what its text stands for (what the model matches pieces
    // with); the decoder's view of it is set below.
    BpeModel::Vocab vocab;
    vocab.entries.reserve(f.vocab.size());
    for (auto& [text, id] : f.vocab) {
        Token& t = tokens_[size_t(id)];
        check(!t.exists, f.source, ": id ", id, " is given to both \"", t.text, "\" and \"", text, "\"");
        check(!byte_level || byte_level_to_bytes(text, t.bytes), f.source, ": token \"", text,
              "\" is not written in the byte-level alphabet");
        t.text = text;
        t.exists = t.in_model = true;
        ids_.emplace(text, id);
        max_token_bytes_ = std::max(max_token_bytes_, byte_level ? t.bytes.size() : text.size());
        if (f.ignore_merges || !byte_level) vocab.entries.emplace_back(byte_level ? t.bytes : t.text, id);
    }
    // The model sees only its own vocabulary, as Hugging Face's does (added tokens are found apart).
    vocab.id = [this](std::string_view text) {
        auto it = ids_.find(text);
        return it != ids_.end() && tokens_[size_t(it->second)].in_model ? it->second : -1;
    };
    BpeModel::Options opt{byte_level, f.byte_fallback, f.ignore_merges, f.fuse_unk, -1};
    if (!f.unk_token.empty()) {
        opt.unk_id = vocab.id(f.unk_token);
        check(opt.unk_id >= 0, f.source, ": the unknown token \"", f.unk_token, "\" is not in the vocabulary");
    }
    model_ = BpeModel(opt, vocab, f.merges, f.source);

    std::vector<AddedToken> raw_added, normalized_added;
    for (const auto& a : f.added) {
        Token& t = tokens_[size_t(a.id)];
        check(!t.exists || t.text == a.content, f.source, ": added token \"", a.content, "\" has id ", a.id,
              ", which the vocabulary gives to \"", t.text, "\"");
        t.text = a.content;
        t.exists = true;
        t.special = a.special;
        ids_[a.content] = a.id;
        const AddedToken at{a.normalized ? normalizer_.apply(a.content) : a.content, a.id, a.single_word, a.lstrip,
                            a.rstrip};
        (a.normalized ? normalized_added : raw_added).push_back(at);
        max_token_bytes_ = std::max(max_token_bytes_, a.content.size());
    }
    added_ = AddedTokenMatcher(std::move(raw_added));
    added_normalized_ = AddedTokenMatcher(std::move(normalized_added));
    // What each token adds in the middle of a decode: for byte-level BPE decoded by ByteLevel alone,
    // the bytes the vocabulary's tokens already hold.
    const bool bytes_known = byte_level && decoder_.byte_level_only();
    for (Token& t : tokens_)
        if (t.exists && !(bytes_known && t.in_model)) t.bytes = decoder_.middle_piece(t.text);

    // Every token stands for at most max_token_bytes_ bytes of a piece, and normalizing divides a
    // text's length by at most shrink_bound(): unless a step deletes text, fuses unknown
    // characters into one token, or an added token takes whitespace around it.
    pieces_bounded_ = model_.lossless() && !pretokenizer_.removes_text();
    const double shrink = normalizer_.shrink_bound();
    if (pieces_bounded_ && std::isfinite(shrink) && !added_.strips() && !added_normalized_.strips())
        max_raw_bytes_per_token_ = shrink * double(max_token_bytes_);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const { return encode(text, SIZE_MAX - 1); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, size_t max_tokens) const {
    if (max_raw_bytes_per_token_ > 0 && max_tokens < SIZE_MAX / 4 &&
        double(text.size()) > double(max_tokens + 1) * max_raw_bytes_per_token_)
        return std::vector<int32_t>(max_tokens + 1, 0);
    std::string repaired;
    if (!is_valid_utf8(text)) {
        repaired = utf8_lossy(text);
        text = repaired;
    }
    std::vector<int32_t> out;
    out.reserve(std::min(text.size() / 3 + 1, max_tokens + 2));
    size_t plain = 0;  // where the stretch not yet encoded begins
    for (AddedTokenMatcher::Match m; out.size() <= max_tokens && added_.next(text, plain, m);) {
        encode_plain(text.substr(plain, m.start - plain), plain == 0, out, max_tokens);
        out.push_back(m.id);
        plain = m.end;
    }
    if (out.size() <= max_tokens) encode_plain(text.substr(plain), plain == 0, out, max_tokens);
    return out;
}

void Tokenizer::encode_plain(std::string_view text, bool at_origin, std::vector<int32_t>& out, size_t limit) const {
    if (text.empty() || out.size() > limit) return;
    const std::string normalized = normalizer_.apply(text);
    if (added_normalized_.empty()) {
        encode_pieces(normalized, at_origin, out, limit);
        return;
    }
    size_t plain = 0;
    for (AddedTokenMatcher::Match m; out.size() <= limit && added_normalized_.next(normalized, plain, m);) {
        encode_pieces(std::string_view(normalized).substr(plain, m.start - plain), at_origin && plain == 0, out, limit);
        out.push_back(m.id);
        plain = m.end;
    }
    if (out.size() <= limit)
        encode_pieces(std::string_view(normalized).substr(plain), at_origin && plain == 0, out, limit);
}

void Tokenizer::encode_pieces(std::string_view normalized, bool at_origin, std::vector<int32_t>& out,
                              size_t limit) const {
    if (normalized.empty()) return;
    Pieces pieces;
    pretokenizer_.split(normalized, at_origin, pieces);
    for (std::string_view piece : pieces.views) {
        if (out.size() > limit) return;
        // A piece that alone would pass the limit is not encoded (a long one costs O(n log n)).
        if (pieces_bounded_ && piece.size() / max_token_bytes_ > limit - out.size()) {
            out.resize(limit + 1, 0);
            return;
        }
        model_.encode(piece, out);
    }
}

const Tokenizer::Token& Tokenizer::token(int32_t id) const {
    check(id >= 0 && id < vocab_size() && tokens_[size_t(id)].exists, "token id ", id, " is not in the vocabulary (",
          vocab_size(), " ids)");
    return tokens_[size_t(id)];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
    std::string out;
    if (decoder_.byte_level_only()) {  // the bytes joined (most of the vocabularies dimple meets)
        std::string bytes;
        for (int32_t id : ids) {
            const Token& t = token(id);
            if (!(skip_special && t.special)) bytes += t.bytes;
        }
        return utf8_lossy(bytes);
    }
    Decoder::Stream stream(decoder_);
    for (int32_t id : ids) {
        const Token& t = token(id);
        if (!(skip_special && t.special)) stream.push(t.text, t.bytes, out);
    }
    stream.finish(out);
    return out;
}

int32_t Tokenizer::token_id(std::string_view token) const {
    auto it = ids_.find(token);
    return it == ids_.end() ? -1 : it->second;
}

std::string_view Tokenizer::token_text(int32_t id) const {
    return id >= 0 && id < vocab_size() ? std::string_view(tokens_[size_t(id)].text) : std::string_view();
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
    return id >= 0 && id < vocab_size() ? std::string_view(tokens_[size_t(id)].bytes) : std::string_view();
}

bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && tokens_[size_t(id)].special; }

std::string clean_up_spaces(std::string_view text) {
    std::string s(text);
    for (const auto& [from, to] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
             {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
             {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}}) {
        std::string out;
        size_t pos = 0;
        for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, pos)) {
            out.append(s, pos, at - pos).append(to);
            pos = at + from.size();
        }
        s = out.append(s, pos);
    }
    return s;
}

std::string StreamDecoder::feed(std::span<const int32_t> ids) {
    std::string out;
    for (int32_t id : ids) {
        const Tokenizer::Token& t = tok_->token(id);
        if (!(skip_special_ && t.special)) stream_.push(t.text, t.bytes, out);
    }
    return out;
}

std::string StreamDecoder::finish() {
    std::string out;
    stream_.finish(out);
    return out;
}

}  // namespace dimple::text
