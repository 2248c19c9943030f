#include "engine/llada_v_runs.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "decode/batch_forward.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace dtest::llada_v {

std::string goldens() { return dtest::source_dir() + "/tests/goldens/llada-v-tiny"; }

const Engine& engine() {
    static const Engine e(dtest::reference_goldens_dir() + "/llada-v-tiny/model",
                          EngineOptions{Compute::F32, "", 0, {}, false});
    return e;
}

GenerateOptions run_options(const json& run) {
    const json& o = run["options"];
    GenerateOptions g = engine().family().decoding;
    g.steps = o["steps"].get<int>();
    g.max_new_tokens = o["gen_length"].get<int>();
    g.accel.block_length = o["block_length"].get<int>();
    g.remasking = parse_remasking(o.value("remasking", "low_confidence"));
    g.cfg_scale = o.value("cfg_scale", 0.f);
    g.stop_ids.clear();
    for (const json& s : o.value("stopping_criteria", json::array())) g.stop_ids.push_back(run["tokenizer_table"][s.get<std::string>()][0]);
    return g;
}

bool supported(const json& run) {
    if (run["options"].contains("generation_suffix")) return false;
    for (const json& s : run["options"].value("stopping_criteria", json::array()))
        if (run["tokenizer_table"][s.get<std::string>()].size() != 1) return false;
    return true;
}

Prompt prompt_of(const json& run) {
    const bool image = !run["image"].is_null();
    const std::vector<Image> images =
        image ? std::vector<Image>{load_image(dtest::images_dir() + "/3_resize.jpg")} : std::vector<Image>{};
    return engine().prompt(run["prompt_ids"].get<std::vector<int64_t>>(), images);
}

std::string replay(const json& run, const GenerateOptions& opt,
                   const std::function<void(const DecodeState&, size_t)>& after_forward) {
    const Prompt prompt = prompt_of(run);
    if (int64_t(prompt.ids.size()) != run["prompt_rows"].get<int64_t>()) return "the prompt's rows differ";
    DecodeState state(engine().language_model(), prompt, opt);
    // The original's forwards by (block, step in block), for its uniforms.
    std::map<std::pair<int64_t, int64_t>, int64_t> forward;
    for (size_t k = 0; k < run["steps"].size(); ++k)
        forward[{run["steps"][k]["block"].get<int64_t>(), run["steps"][k]["step_in_block"].get<int64_t>()}] = int64_t(k);
    Tensor uniforms;
    if (opt.remasking == Remasking::Random) {
        uniforms = read_npy(goldens() + "/" + run["uniforms_file"].get<std::string>());
        const int64_t per_block = opt.steps / (opt.max_new_tokens / opt.accel.block_length);
        state.replay_uniforms([&, per_block](int64_t step, int64_t position) {
            const int64_t k = forward.at({step / per_block, step % per_block});
            return uniforms.data<float>()[k * uniforms.dim(uniforms.ndim() - 1) + position];
        });
    }
    std::vector<std::vector<int64_t>> ours, golden;
    DecodeState* const one = &state;
    while (!state.finished()) {
        if (const std::exception_ptr e = step_together(engine().language_model(), {&one, 1}).front())
            std::rethrow_exception(e);
        ours.push_back(state.answer());
        if (after_forward) after_forward(state, ours.size() - 1);
    }
    for (const json& s : run["steps"]) golden.push_back(s["answer_after"].get<std::vector<int64_t>>());
    // The answer ends before the first stop id (the original returns ids [L, stop)).
    std::vector<int64_t> returned = state.answer();
    returned.erase(std::find_first_of(returned.begin(), returned.end(), opt.stop_ids.begin(), opt.stop_ids.end()),
                   returned.end());
    std::ostringstream diff;
    if (returned != run["returned"].get<std::vector<int64_t>>()) diff << "the returned ids differ; ";
    ours.erase(std::unique(ours.begin(), ours.end()), ours.end());
    golden.erase(std::unique(golden.begin(), golden.end()), golden.end());
    if (ours != golden) diff << "the answers step by step differ";
    return diff.str();
}

}  // namespace dtest::llada_v
