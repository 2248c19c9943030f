// One forward pass for the next step of several requests at once (continuous batching): their
// feeds are packed one after another into a single call, each on its own prefill cache and with
// its own length, and the logits of all their masks come from one language-model head product
// (feeds that skip different layers run as separate calls, a dLLM-Cache feed on its own).
#pragma once

#include <exception>
#include <span>
#include <vector>

#include "decode/decode_state.h"

namespace dimple {

// The logits [feed.logit_rows.size(), vocab] of each feed, in order.
std::vector<Tensor> batch_logits(const LanguageModel& lm, std::span<const StepFeed> feeds);

// The decoding loop's step, shared by every caller (generate(), the server's scheduler, the C
// API's batches): the next step of each unfinished state, their passes in one batch_logits call.
// Returns per state what its own step threw (null: nothing), so that one request's failure is not
// the others'; a failure of the shared pass is thrown.
std::vector<std::exception_ptr> step_together(const LanguageModel& lm, std::span<DecodeState* const> states);

}  // namespace dimple
