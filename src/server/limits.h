// What the server accepts, each settable by a `dimple serve` flag (see cmd_serve.cpp and README).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dimple::server {

struct Limits {
    size_t max_body_bytes = size_t(20) << 20;  // --max-body-bytes: a longer body gets 413
    int max_images = 4;                        // --max-images per request
    int64_t max_image_pixels = 16 << 20;       // --max-image-pixels: width * height as declared
    int64_t max_prompt_tokens = 4096;          // --max-prompt-tokens, image tokens included
    int max_tokens = 1024;                     // --max-tokens-limit: the largest max_tokens
    int max_steps = 1024;                      // --max-steps-limit: the largest steps
    int max_stop = 4;                          // stop strings per request (as OpenAI)
    int queue_size = 64;                       // --queue-size: waiting requests; beyond, 429
    int max_batch = 8;                         // --max-batch: requests sharing a forward pass
    double time_limit_s = 300;                 // --time-limit: per request, queueing included
};

}  // namespace dimple::server
