// Parsing a POST /v1/chat/completions body into a ChatRequest. Everything about the request that
// can be checked without the model is checked here, and every problem is an ApiError (400, or 404
// for an unknown model) naming the field: the fuzz target fuzz/fuzz_request_parse.cpp runs this on
// arbitrary bytes.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "decode/speed.h"
#include "server/api_error.h"
#include "server/chat_request.h"
#include "server/limits.h"

namespace dimple::server {

struct ParseContext {
    std::string model_id;  // the one model served: a request naming another gets 404
    Limits limits;
    // Called with an image's declared size before it is decoded (ImageLimits::before_decode), and
    // with its size once decoded.
    std::function<void(int64_t width, int64_t height)> before_image_decode, after_image_decode;
    // What a request's absent fields keep: the model family's published call (engine/family.h).
    GenerateOptions defaults;
    std::map<Speed, SpeedPreset> speeds;  // the family's "speed" presets
};

ChatRequest parse_chat_request(std::string_view body, const ParseContext& ctx);

}  // namespace dimple::server
