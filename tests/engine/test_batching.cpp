// Continuous batching must not change an answer: requests decoded together (joining at different
// steps, one packed forward pass per step, each on its own prefill cache and with its own length)
// give, in --compute f32 at temperature 0, exactly what each gives alone, token for token and step
// for step; with and without prefilling, with images, with different prompt and answer lengths.
#include <gtest/gtest.h>

#include <filesystem>

#include "decode/batch_forward.h"
#include "decode/decode_state.h"
#include "engine/engine.h"
#include "io/npy.h"
#include "golden_inputs.h"
#include "testing.h"

using namespace dimple;
using dtest::ids_from_npy;
using dtest::image_from_npy;

namespace {



struct Request {
    Prompt prompt;
    GenerateOptions options;
};

// Text prompts of three lengths and, for vision models, the golden image prompt.
std::vector<Prompt> prompts(const Engine& engine, const std::string& dir) {
    const std::vector<int64_t> text = ids_from_npy(dir + "/text_input_ids.npy");
    std::vector<Prompt> out;
    out.push_back(engine.prompt(text, {}));
    out.push_back(engine.prompt({text.begin(), text.begin() + 3}, {}));
    out.push_back(engine.prompt({text.begin() + 2, text.end() - 1}, {}));
    if (std::filesystem::exists(dir + "/image_raw_uint8_hwc.npy")) {
        std::vector<int64_t> ids;  // one placeholder per image, as the chat template writes it
        const int64_t pad = engine.config().ids.image;
        for (int64_t id : ids_from_npy(dir + "/image_input_ids.npy"))
            if (id != pad || ids.back() != pad) ids.push_back(id);
        out.push_back(engine.prompt(ids, {image_from_npy(dir + "/image_raw_uint8_hwc.npy")}));
    }
    return out;
}

std::vector<Request> requests(const Engine& engine, const std::string& dir) {
    const std::vector<Prompt> ps = prompts(engine, dir);
    std::vector<Request> out;
    const Algorithm algs[] = {Algorithm::MaskgitPlus, Algorithm::TopkMargin, Algorithm::Entropy, Algorithm::Origin};
    for (size_t i = 0; i < 8; ++i) {
        GenerateOptions o;
        o.sampling = {0.f, std::nullopt, 50};
        o.max_new_tokens = int(6 + 3 * i);
        o.steps = int(4 + 2 * (i % 3) + (i % 2 ? o.max_new_tokens : 0));
        o.use_cache = i % 3 != 1;
        o.alg = algs[i % 4];
        o.threshold = i % 2 ? std::optional<float>(0.3f) : std::nullopt;
        o.pipeline = i == 5 ? Pipeline::Dream : Pipeline::Dim;
        o.seed = i;
        if (i == 6) o.fixed = {{1, ps[0].ids[1]}, {int64_t(o.max_new_tokens) - 1, engine.config().ids.eos}};
        out.push_back({ps[(i + 1) % ps.size()], o});
    }
    return out;
}

}  // namespace

class Batching : public ::testing::TestWithParam<std::string> {};

TEST_P(Batching, RequestsDecodedTogetherAnswerAsAlone) {
    DIMPLE_GOLDEN_SET_DIR(dir, GetParam());
    const Engine engine(dir + "/model", {Compute::F32, "", 0, {}});
    const LanguageModel& lm = engine.language_model();
    const std::vector<Request> reqs = requests(engine, dir);

    std::vector<GenerateResult> alone;
    for (const Request& r : reqs) alone.push_back(generate(lm, r.prompt, r.options));

    // Request k joins before step k; each leaves when done.
    std::vector<std::unique_ptr<DecodeState>> states(reqs.size());
    size_t joined = 0, largest_batch = 0;
    for (int step = 0;; ++step) {
        if (joined < reqs.size()) {
            states[joined] = std::make_unique<DecodeState>(lm, reqs[joined].prompt, reqs[joined].options);
            ++joined;
        }
        std::vector<DecodeState*> running, fed;
        std::vector<StepFeed> feeds;
        for (auto& s : states)
            if (s && !s->finished()) {
                running.push_back(s.get());
                if (s->needs_logits()) {
                    feeds.push_back(s->feed());
                    fed.push_back(s.get());
                }
            }
        if (running.empty() && joined == reqs.size()) break;
        largest_batch = std::max(largest_batch, feeds.size());
        const std::vector<Tensor> logits = feeds.empty() ? std::vector<Tensor>{} : batch_logits(lm, feeds);
        for (DecodeState* s : running) {
            const auto it = std::find(fed.begin(), fed.end(), s);
            s->step(it == fed.end() ? Tensor() : logits[size_t(it - fed.begin())]);
        }
    }
    EXPECT_GE(largest_batch, 4u);
    for (size_t i = 0; i < reqs.size(); ++i) {
        const GenerateResult& b = states[i]->result();
        EXPECT_EQ(b.steps_run, alone[i].steps_run) << "request " << i;
        EXPECT_EQ(b.history, alone[i].history) << "request " << i;
    }
}

// Packing feeds into one pass leaves every logit bit for bit as it is alone.
TEST_P(Batching, PackedLogitsEqualLogitsAlone) {
    DIMPLE_GOLDEN_SET_DIR(dir, GetParam());
    const Engine engine(dir + "/model", {Compute::F32, "", 0, {}});
    const LanguageModel& lm = engine.language_model();
    const std::vector<Request> reqs = requests(engine, dir);
    std::vector<std::unique_ptr<DecodeState>> states;
    std::vector<StepFeed> feeds;
    std::vector<Tensor> alone;
    for (const Request& r : reqs) {
        // A state per run: feed() fills the state's cache, so the batched run gets its own.
        DecodeState a(lm, r.prompt, r.options);
        const StepFeed f = a.feed();
        alone.push_back(batch_logits(lm, {&f, 1}).front());
        states.push_back(std::make_unique<DecodeState>(lm, r.prompt, r.options));
        feeds.push_back(states.back()->feed());
    }
    const std::vector<Tensor> packed = batch_logits(lm, feeds);
    for (size_t i = 0; i < reqs.size(); ++i) EXPECT_TRUE(dtest::all_equal(packed[i], alone[i])) << "request " << i;
}

INSTANTIATE_TEST_SUITE_P(Sets, Batching, ::testing::ValuesIn(dtest::golden_sets()), dtest::GoldenSetName());
