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
    // HTTP (server/http/http_server.h)
    int max_connections = 256;                 // --max-connections: open at once; beyond, 503
    size_t max_header_bytes = 16 << 10;        // --max-header-bytes: request line and headers; beyond, 431
    double request_timeout_s = 60;             // --request-timeout: a request's first byte to its last; beyond, 408
    double idle_timeout_s = 30;                // --idle-timeout: a connection with no byte read or written
};

// Fixed limits (no flag): header fields per request (beyond, 431), JSON values per body (beyond,
// 400), and a response's bytes that a client may leave unread before its connection is dropped.
constexpr size_t kMaxHeaderFields = 100;
constexpr int64_t kMaxJsonValues = 1 << 16;
constexpr size_t kMaxUnsentBytes = size_t(4) << 20;

}  // namespace dimple::server
