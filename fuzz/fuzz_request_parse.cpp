// Feeds arbitrary bytes to the chat request parser (the body of POST /v1/chat/completions): each
// input must give either a request within the limits or an ApiError with a 4xx status naming the
// problem; never a crash, a hang, a leak or another exception. Small limits keep each run fast.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/request_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    dimple::server::ParseContext ctx;
    ctx.model_id = "tiny";
    ctx.limits.max_images = 2;
    ctx.limits.max_image_pixels = 1 << 16;
    ctx.limits.max_tokens = 256;
    ctx.limits.max_steps = 256;
    try {
        const dimple::server::ChatRequest r =
            dimple::server::parse_chat_request({reinterpret_cast<const char*>(data), size}, ctx);
        const dimple::GenerateOptions& o = r.options;
        int images = 0;
        for (const auto& m : r.messages) images += m.images;
        if (r.messages.empty() || images != int(r.images.size()) || images > ctx.limits.max_images ||
            o.max_new_tokens < 1 || o.max_new_tokens > ctx.limits.max_tokens || o.steps < 1 ||
            o.steps > ctx.limits.max_steps || r.stop.size() > size_t(ctx.limits.max_stop) ||
            (r.stream_canvas && !r.stream) || (r.length && (*r.length < 0 || *r.length >= o.max_new_tokens)))
            std::abort();
        for (const dimple::Image& img : r.images)
            if (img.width <= 0 || img.height <= 0 || int64_t(img.width) * img.height > ctx.limits.max_image_pixels ||
                img.rgb.size() != size_t(img.width) * size_t(img.height) * 3)
                std::abort();
    } catch (const dimple::server::ApiError& e) {
        if (e.status < 400 || e.status >= 500 || std::string_view(e.what()).empty()) std::abort();
    }
    return 0;
}
