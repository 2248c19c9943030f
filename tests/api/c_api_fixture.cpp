#include "c_api_fixture.h"

#include <gtest/gtest.h>

#include "testing.h"

namespace capi {

dimple_model* load_f32(const std::string& dir) {
    dimple_model_options o;
    dimple_model_options_init(&o);
    o.compute = "f32";
    dimple_model* m = nullptr;
    if (dimple_model_load(dir.c_str(), &o, &m) != DIMPLE_OK) ADD_FAILURE() << dimple_last_error();
    return m;
}

dimple_model* shipped_model() {
    static dimple_model* model = load_f32(dtest::source_dir() + "/models/dimple-shapes");
    return model;
}

const char* example_image(int n) {
    static const std::string paths[] = {dtest::source_dir() + "/examples/shapes-1.png",
                                        dtest::source_dir() + "/examples/shapes-2.jpg",
                                        dtest::source_dir() + "/examples/shapes-3.png"};
    return paths[n - 1].c_str();
}

dimple_decoding_options greedy() {
    dimple_decoding_options o;
    dimple_decoding_options_init(&o);
    o.temperature = 0;
    return o;
}

Answer result_of(const dimple_request* r) {
    Answer a;
    dimple_result res;
    dimple_result_init(&res);
    a.status = dimple_request_get_result(r, &res);
    if (a.status != DIMPLE_OK) {
        a.error = dimple_last_error();
        return a;
    }
    a.text = res.text;
    a.ids.assign(res.answer, res.answer + res.answer_len);
    a.steps = res.steps;
    a.finished = res.finished != 0;
    return a;
}

Answer ask(dimple_model* m, const dimple_image& image, const std::string& question, const dimple_decoding_options& o) {
    const dimple_message msg{"user", question.c_str(), &image, 1};
    dimple_request* r = nullptr;
    Answer a;
    a.status = dimple_request_create(m, &msg, 1, &o, &r);
    if (a.status == DIMPLE_OK) a.status = dimple_request_run(r, nullptr, nullptr);
    if (a.status != DIMPLE_OK) {
        a.error = dimple_last_error();
    } else {
        a = result_of(r);
    }
    dimple_request_free(r);
    return a;
}

}  // namespace capi
