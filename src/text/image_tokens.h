// Prompts whose images are markers in the text (LLaVA's "<image>"): the text around the markers
// tokenized, the markers turned into an image id the engine replaces with the image's rows.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace dimple::text {

// LLaVA's tokenizer_image_token (LLaDA-V mm_utils.py; spec llada.md section 2): the text split at
// each `marker`, each piece tokenized as Hugging Face's default call does (the post-processor's
// special prefix and suffix around it), the pieces joined with `image_id`. When the first piece
// starts with `bos`, that bos is kept once and every piece loses its first id: with a tokenizer
// that adds no bos itself, the first token after each image is dropped, as the original drops it.
// `max_tokens` bounds each piece's encoding (Tokenizer::encode).
std::vector<int64_t> tokenize_with_images(const Tokenizer& tok, std::string_view text, std::string_view marker,
                                          int64_t image_id, int64_t bos, size_t max_tokens = SIZE_MAX - 1);

}  // namespace dimple::text
