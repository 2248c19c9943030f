#include "text/image_tokens.h"

namespace dimple::text {

std::vector<int64_t> tokenize_with_images(const Tokenizer& tok, std::string_view text, std::string_view marker,
                                          int64_t image_id, int64_t bos, size_t max_tokens) {
    std::vector<std::vector<int64_t>> pieces;
    for (size_t from = 0;;) {
        const size_t at = text.find(marker, from);
        const std::string_view piece = text.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from);
        std::vector<int64_t> ids(tok.special_prefix().begin(), tok.special_prefix().end());
        for (int32_t id : tok.encode(piece, max_tokens)) ids.push_back(id);
        ids.insert(ids.end(), tok.special_suffix().begin(), tok.special_suffix().end());
        pieces.push_back(std::move(ids));
        if (at == std::string_view::npos) break;
        from = at + marker.size();
    }
    const size_t offset = !pieces.front().empty() && pieces.front().front() == bos ? 1 : 0;
    std::vector<int64_t> out;
    if (offset) out.push_back(bos);
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (i > 0) out.push_back(image_id);  // the separator [image_id] * (offset + 1), minus `offset`
        if (pieces[i].size() > offset) out.insert(out.end(), pieces[i].begin() + long(offset), pieces[i].end());
    }
    return out;
}

}  // namespace dimple::text
