// Helpers of the C API tests: the shipped model loaded once through the API, and answers.
#pragma once

#include <string>
#include <vector>

#include "dimple.h"

namespace capi {

// A model folder loaded in f32 (a test failure, and NULL, when it does not load).
dimple_model* load_f32(const std::string& dir);
// The shipped model (models/dimple-shapes), loaded once in f32 for the whole test program.
dimple_model* shipped_model();
const char* example_image(int n);  // examples/shapes-N.* (a path that lives as long as the program)

// Greedy decoding (temperature 0) with the defaults otherwise.
dimple_decoding_options greedy();

struct Answer {
    dimple_status status = DIMPLE_OK;
    std::string text, error;
    std::vector<dimple_token> ids;
    int steps = 0;
    bool finished = false;
};
// The answer's fields read through dimple_request_get_result.
Answer result_of(const dimple_request* r);
// Asks `question` about one image, run to the end alone.
Answer ask(dimple_model* m, const dimple_image& image, const std::string& question,
           const dimple_decoding_options& o = greedy());

}  // namespace capi
