// A chat completion request as the server runs it, after parsing (request_parse.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "decode/generate.h"
#include "text/chat_template.h"
#include "vision/image.h"

namespace dimple::server {

struct ChatRequest {
    std::string model;                        // as the client named it ("" = not given)
    std::vector<text::ChatMessage> messages;  // each message's images come before its text
    std::vector<Image> images;                // all messages' images, in order
    GenerateOptions options;                  // decoding options; priors come from the two below
    std::string answer_template;              // structure prior (`template`)
    std::optional<int64_t> length;            // exact answer length
    std::vector<std::string> stop;            // the answer ends before the first of these
    bool stream = false, stream_canvas = false, include_usage = false;
};

}  // namespace dimple::server
