// `dimple run`: answer one prompt (text, optional images) by diffusion decoding, showing the answer
// being denoised on a terminal, or printing one JSON object with --json.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/threads.h"
#include "decode/priors.h"
#include "engine/engine.h"

namespace dimple::cli {

namespace {

struct Options {
    ModelOptions model;
    std::string prompt, prompt_ids, system, answer_template, fix_ids;
    std::vector<std::string> images;
    std::optional<int64_t> length;
    int steps = 64, max_new_tokens = 64, top_k = 50;
    std::string alg = "origin", pipeline = "dim";
    float threshold = 0.95f, temperature = 0.2f, top_p = 0.95f, alg_temp = 0.f, eps = 1e-3f;
    bool cache = true, original_confidence = true, json = false, quiet = false;
    uint64_t seed = 0;
};

// The answer as text with every mask shown as a placeholder glyph (tokens decoded one by one).
std::string render_partial(const Engine& e, const std::vector<int64_t>& answer) {
    std::string out;
    const ModelConfig& c = e.config();
    for (int64_t id : answer) {
        if (id == c.ids.mask) out += "\u2591";  // light shade
        else if (id == c.ids.eos || id == c.ids.pad) out += "\u00b7";
        else if (e.has_tokenizer()) out += e.tokenizer().decode(std::vector<int32_t>{int32_t(id)}, true);
        else out += "[" + std::to_string(id) + "]";
    }
    return out;
}

void run(const Options& o) {
    set_num_threads(o.model.threads);
    const auto t_load = std::chrono::steady_clock::now();
    Engine engine(o.model.dir, engine_options(o.model));
    const double load_s = seconds_since(t_load);

    std::vector<Image> images;
    for (const std::string& path : o.images) images.push_back(load_image(path));

    std::vector<int64_t> ids;
    if (!o.prompt_ids.empty()) {
        ids = parse_id_list(o.prompt_ids, "--prompt-ids");
    } else {
        check(!o.prompt.empty(), "give a --prompt (or raw --prompt-ids)");
        std::vector<text::ChatMessage> messages;
        if (!o.system.empty()) messages.push_back({"system", o.system, 0});
        messages.push_back({"user", o.prompt, int(images.size())});
        ids = engine.chat_ids(messages);
    }

    GenerateOptions g;
    g.max_new_tokens = o.max_new_tokens;
    g.steps = o.steps;
    g.eps = o.eps;
    g.pipeline = parse_pipeline(o.pipeline);
    g.alg = parse_algorithm(o.alg);
    g.sampling.temperature = o.temperature;
    g.sampling.top_p = o.top_p;
    g.sampling.top_k = o.top_k > 0 ? std::optional<int>(o.top_k) : std::nullopt;
    g.alg_temp = o.alg_temp;
    g.use_original_confidence = o.original_confidence;
    g.threshold = o.threshold > 0 ? std::optional<float>(o.threshold) : std::nullopt;
    g.use_cache = o.cache;
    g.seed = o.seed;
    g.fixed = engine.priors(o.answer_template, o.length, o.max_new_tokens);
    for (const auto& [offset, id] : parse_fixed_ids(o.fix_ids)) g.fixed[offset] = id;

    const auto t_prompt = std::chrono::steady_clock::now();
    const Prompt prompt = engine.prompt(ids, images);
    const double prompt_s = seconds_since(t_prompt);

    const bool live = !o.json && !o.quiet && isatty(STDOUT_FILENO);
    StepCallback show;
    if (live)
        show = [&](int step, const std::vector<int64_t>& answer) {
            std::printf("\r\033[J[step %3d] %s", step + 1, render_partial(engine, answer).c_str());
            std::fflush(stdout);
        };
    const auto t_gen = std::chrono::steady_clock::now();
    const GenerateResult r = generate(engine.language_model(), prompt, g, show);
    const double gen_s = seconds_since(t_gen);
    const std::vector<int64_t> answer(r.sequence.begin() + int64_t(prompt.ids.size()), r.sequence.end());
    const std::string text = engine.answer_text(answer);
    int64_t tokens = 0;  // answer tokens before eos
    for (int64_t id : answer) {
        if (id == engine.config().ids.eos) break;
        ++tokens;
    }

    if (o.json) {
        nlohmann::json j;
        j["prompt_tokens"] = prompt.ids.size();
        j["answer_ids"] = answer;
        j["history"] = r.history;
        j["text"] = text;
        j["steps"] = r.steps_run;
        j["answer_tokens"] = tokens;
        j["timing"] = {{"load_s", load_s},
                       {"prompt_s", prompt_s},
                       {"generate_s", gen_s},
                       {"step_s", r.step_seconds},
                       {"mean_step_s", r.steps_run ? gen_s / r.steps_run : 0.0},
                       {"tokens_per_s", gen_s > 0 ? double(tokens) / gen_s : 0.0}};
        j["compute"] = compute_name(engine.language_model().compute());
        const char* wait = std::getenv("OMP_WAIT_POLICY");
        j["omp_wait_policy"] = wait ? wait : "";
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    if (live) std::printf("\r\033[J");
    std::printf("%s\n", engine.has_tokenizer() ? text.c_str() : render_partial(engine, answer).c_str());
    std::fprintf(stderr, "[%d steps, %lld tokens, %.1f tokens/s, %.1f ms/step, prompt %zu tokens in %.0f ms, %s]\n",
                 r.steps_run, (long long)tokens, gen_s > 0 ? double(tokens) / gen_s : 0.0,
                 r.steps_run ? 1e3 * gen_s / r.steps_run : 0.0, prompt.ids.size(), 1e3 * prompt_s,
                 compute_name(engine.language_model().compute()).c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("run", "Answer a prompt (with optional images) by diffusion decoding");
    add_model_options(cmd, o->model);
    cmd->add_option("-p,--prompt", o->prompt, "User message (the chat template is applied)");
    cmd->add_option("--system", o->system, "System message (default: the template's)");
    cmd->add_option("--prompt-ids", o->prompt_ids, "Raw prompt ids 1,2,3 instead of --prompt (no template)");
    cmd->add_option("-i,--image", o->images, "Image file (repeatable); placed before the prompt text");
    cmd->add_option("-n,--max-new-tokens", o->max_new_tokens, "Answer length in tokens (masks)")->capture_default_str();
    cmd->add_option("-s,--steps", o->steps, "Diffusion steps at most")->capture_default_str();
    cmd->add_option("--alg", o->alg, "origin | origin-ratio | autoregressive | maskgit_plus | topk_margin | entropy")
        ->capture_default_str();
    cmd->add_option("--pipeline", o->pipeline, "dim (Dimple) | dream (Dream's original)")->capture_default_str();
    cmd->add_option("--threshold", o->threshold, "Confident decoding: commit every token above it (0: off)")
        ->capture_default_str();
    cmd->add_option("-t,--temperature", o->temperature, "0 = greedy")->capture_default_str();
    cmd->add_option("--top-p", o->top_p, "Nucleus filter (1: off)")->capture_default_str();
    cmd->add_option("--top-k", o->top_k, "Top-k filter (0: off)")->capture_default_str();
    cmd->add_option("--alg-temp", o->alg_temp, "Sample positions by softmax(confidence/alg_temp) (0: top confidences)")
        ->capture_default_str();
    cmd->add_option("--eps", o->eps, "Final timestep of the schedule")->capture_default_str();
    cmd->add_flag("--cache,!--no-cache", o->cache, "Prefilling: reuse the prompt's keys/values (default on)");
    cmd->add_flag("--original-confidence,!--processed-confidence", o->original_confidence,
                  "dim: confidence from the unfiltered softmax (default on)");
    cmd->add_option("--seed", o->seed, "Seed of the random choices")->capture_default_str();
    cmd->add_option("--template", o->answer_template,
                    "Structure prior for the answer, e.g. '{\"name\": \"<mask:6>\"}' (see README)");
    cmd->add_option("--length", o->length, "Exact answer length: eos at this offset, then pad");
    cmd->add_option("--fix-ids", o->fix_ids, "Fix answer positions to raw ids: OFFSET:ID,...");
    cmd->add_flag("--json", o->json, "Print one JSON object (answer_ids, history, text, steps, timing)");
    cmd->add_flag("-q,--quiet", o->quiet, "No step-by-step display");
    cmd->callback([o] { run(*o); });
}

}  // namespace dimple::cli
