// `dimple run`: answer one prompt (text, optional images) by diffusion decoding, showing the answer
// being denoised on a terminal, or printing one JSON object with --json.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/decoding_options.h"
#include "cli/live_view.h"
#include "core/error.h"
#include "core/threads.h"
#include "engine/engine.h"

namespace dimple::cli {

namespace {

struct Options {
    ModelOptions model;
    DecodingOptions decoding;
    std::string prompt, prompt_ids, system;
    std::vector<std::string> images;
    PixelOptions pixel_values;
    bool json = false, quiet = false;
};

void run(const Options& o) {
    set_num_threads(o.model.threads);
    const auto t_load = std::chrono::steady_clock::now();
    ModelOptions model = o.model;
    model.limits.answer_tokens = answer_tokens(o.decoding, load_model_config(model_dir(model)));
    model.limits.images = int64_t(o.images.size() + o.pixel_values.grids.size());
    Engine engine(model_dir(model), engine_options(model));
    const double load_s = seconds_since(t_load);

    std::vector<Image> images;
    for (const std::string& path : o.images) images.push_back(load_image(path));
    const PixelInput pixels = read_pixel_input(o.pixel_values);
    check(images.empty() || pixels.grids.empty(), "give images as files (--image) or as --pixel-values, not both");
    const size_t image_count = images.size() + pixels.grids.size();

    std::vector<int64_t> ids;
    if (!o.prompt_ids.empty()) {
        ids = parse_id_list(o.prompt_ids, "--prompt-ids");
    } else {
        check(!o.prompt.empty(), "give a --prompt (or raw --prompt-ids)");
        std::vector<text::ChatMessage> messages;
        if (!o.system.empty()) messages.push_back({"system", o.system, 0});
        messages.push_back({"user", o.prompt, int(image_count)});
        ids = engine.chat_ids(messages);
    }

    const GenerateOptions g = generate_options(o.decoding, engine);

    const auto t_prompt = std::chrono::steady_clock::now();
    const Prompt prompt = pixels.grids.empty() ? engine.prompt(ids, images)
                                               : engine.prompt(ids, pixels.pixels, pixels.grids);
    const double prompt_s = seconds_since(t_prompt);

    LiveView view(!o.json && !o.quiet && isatty(STDOUT_FILENO));
    StepCallback show;
    if (view.enabled())
        show = [&](int step, const std::vector<int64_t>& answer) {
            char label[32];
            std::snprintf(label, sizeof label, "[step %3d] ", step + 1);
            view.show(label + render_partial(engine, answer));
        };
    const auto t_gen = std::chrono::steady_clock::now();
    const GenerateResult r = generate(engine.language_model(), prompt, g, show);
    const double gen_s = seconds_since(t_gen);
    const std::vector<int64_t> answer(r.sequence.begin() + int64_t(prompt.ids.size()), r.sequence.end());
    const std::string text = engine.answer_text(answer);
    const int64_t tokens = engine.answer_length(answer);

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
    view.clear();
    std::printf("%s\n", engine.has_tokenizer() ? text.c_str() : render_partial(engine, answer).c_str());
    std::fprintf(stderr, "[%d steps, %lld tokens, %.1f tokens/s, %.1f ms/step, prompt %zu tokens in %.0f ms, %s]\n",
                 r.steps_run, (long long)tokens, gen_s > 0 ? double(tokens) / gen_s : 0.0,
                 r.steps_run ? 1e3 * gen_s / r.steps_run : 0.0, prompt.ids.size(), 1e3 * prompt_s,
                 compute_name(engine.language_model().compute()).c_str());
}

}  // namespace

void add_run_command(Command& program) {
    auto o = std::make_shared<Options>();
    Command& cmd = program.subcommand("run", "Answer a prompt (with optional images) by diffusion decoding");
    add_model_options(cmd, o->model, true);
    add_prompt_limit_option(cmd, o->model);
    cmd.option("-p,--prompt", o->prompt, "User message (the chat template is applied)");
    cmd.option("--system", o->system, "System message (default: the template's)");
    cmd.option("--prompt-ids", o->prompt_ids, "Raw prompt ids 1,2,3 instead of --prompt (no template)");
    cmd.option("-i,--image", o->images, "Image file (repeatable); placed before the prompt text");
    add_pixel_options(cmd, o->pixel_values);
    add_decoding_options(cmd, o->decoding);
    cmd.flag("--json", o->json, "Print one JSON object (answer_ids, history, text, steps, timing)");
    cmd.flag("-q,--quiet", o->quiet, "No step-by-step display");
    cmd.on_run([o] { run(*o); });
}

}  // namespace dimple::cli
