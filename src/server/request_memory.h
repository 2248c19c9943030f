// Upper bounds of the memory one request holds at each stage, from its sizes alone, so that the
// server can reserve it (memory_budget.h) before doing the work. Each bound follows the code's own
// allocations (named in request_memory.cpp) with a margin; BENCHMARKS.md measures them against
// the resident memory of a server under the worst requests.
#pragma once

#include <cstdint>

#include "io/config.h"
#include "server/job.h"
#include "server/limits.h"

namespace dimple::server {

// Parsing a body of `body_bytes`: the JSON document (its strings, and at most kMaxJsonValues values)
// and the request's own copies of its text. Images are reserved one by one as they are decoded.
uint64_t parse_bytes(uint64_t body_bytes);
// While an image of width x height is decoded (the decoder's rows and the RGB result), and once
// decoded (the RGB pixels the request keeps).
uint64_t image_decode_bytes(int64_t width, int64_t height);
uint64_t image_bytes(int64_t width, int64_t height);

// A prepared job from its admission to its end: its inputs, the images through the vision tower,
// the prompt's embeddings and caches, each step's activations and logits over its rows, the
// history of its steps, and (streaming) its events waiting to be sent.
uint64_t job_bytes(const JobInput& in, const ModelConfig& cfg, const PreprocessorConfig& pre, int64_t prompt_tokens);
// The part of job_bytes that is the images' pixels, freed once the images are encoded.
uint64_t images_share(const std::vector<Image>& images);

}  // namespace dimple::server
