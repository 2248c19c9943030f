// What the C API's opaque handles hold: a loaded engine, and a request's decoding state with the
// views of it the API hands out (kept here so their pointers stay valid until the next step).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "decode/decode_state.h"
#include "dimple.h"
#include "engine/decoding_options.h"
#include "engine/engine.h"

struct dimple_model {
    dimple_model(const std::string& dir, const dimple::EngineOptions& options) : engine(dir, options) {}

    dimple::Engine engine;
    // The model's passes run one at a time: the engine's kernels use every thread already, and
    // its kept buffers (core/block_cache.h) are shared.
    std::mutex running;
    std::string family, compute, compute_reason;
};

struct dimple_request {
    dimple_model* model = nullptr;
    std::unique_ptr<dimple::DecodeState> state;
    double prompt_seconds = 0;
    // Views of the state after the last step, for dimple_step and dimple_result.
    std::vector<dimple_token> answer;
    std::vector<uint8_t> committed;
    mutable std::string text;  // the answer's text, made when first asked for after a step
    void refresh();
};

namespace dimple::api {

// The engine's options and the request's, from the caller's structs (NULL: the defaults).
DecodingOptions decoding_options(const dimple_decoding_options* in);
// The messages as the chat template takes them (roles checked; images counted, not read).
std::vector<text::ChatMessage> chat_messages(const dimple_message* messages, size_t n);
// Prompt ids checked against the vocabulary.
std::vector<int64_t> checked_ids(const dimple_model& m, const dimple_token* ids, size_t n);
// The canvas of a request after its last step.
dimple_step step_view(const dimple_request& r, size_t index);

}  // namespace dimple::api
