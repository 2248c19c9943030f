// Answering one line of an evaluation set with the decoding loop every command uses (generate()),
// and scoring the answer.
#pragma once

#include "decode/generate.h"
#include "engine/engine.h"
#include "eval/dataset.h"
#include "eval/score.h"

namespace dimple::eval {

// The question goes through the model's chat template as one user message with the image before
// it. What is wrong with the line itself (its error from the file, an unreadable image, a prompt
// too long for the model) becomes the prediction's error; errors of the options propagate.
Prediction evaluate(const Engine& engine, const EvalItem& item, const GenerateOptions& options);

}  // namespace dimple::eval
