// `dimple eval`: answers every line of a JSONL evaluation set with the same decoding as
// `dimple run`, and reports exact-match accuracy (overall and per kind) with the decoding cost.
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/decoding_options.h"
#include "cli/progress.h"
#include "core/error.h"
#include "core/threads.h"
#include "eval/evaluate.h"

namespace dimple::cli {

namespace {

struct Options {
    ModelOptions model;
    DecodingOptions decoding;
    std::string data, predictions;
    bool image_attention = false;
    bool json = false;
};

void run(const Options& o) {
    set_num_threads(o.model.threads);
    const std::string dir = model_dir(o.model);
    const std::vector<eval::EvalItem> items = eval::read_dataset(o.data);
    std::ofstream predictions;
    if (!o.predictions.empty()) {
        predictions.open(o.predictions, std::ios::binary | std::ios::trunc);
        check(predictions.good(), o.predictions, ": cannot write the predictions file");
    }
    check(!o.image_attention || predictions.is_open(), "--image-attention is written to the --predictions file");
    ModelOptions model = o.model;
    model.limits.answer_tokens = answer_tokens(o.decoding, load_model_config(model_dir(model)));
    model.limits.images = 1;  // one per line
    const Engine engine(dir, engine_options(model));
    engine.tokenizer();  // a model without one cannot read questions: say so once, not per line
    check(engine.has_vision(), "this model has no vision tower: it cannot answer questions about images");
    GenerateOptions options = generate_options(o.decoding, engine);
    options.measure_image_attention = o.image_attention;

    eval::Summary summary;
    ProgressBar progress(int64_t(items.size()));
    for (size_t i = 0; i < items.size(); ++i) {
        const eval::Prediction p = eval::evaluate(engine, items[i], options);
        summary.add(p);
        if (!p.error.empty()) {
            progress.clear();
            std::fprintf(stderr, "%s:%d: %s\n", o.data.c_str(), p.line, p.error.c_str());
        }
        if (predictions.is_open()) {
            predictions << eval::to_json(p).dump() << '\n' << std::flush;
            check(predictions.good(), o.predictions, ": write error");
        }
        char note[64];
        std::snprintf(note, sizeof note, "accuracy %.1f%%", 100 * summary.all.accuracy());
        progress.update(int64_t(i + 1), note);
    }
    progress.clear();
    if (o.json) {
        nlohmann::json j = eval::to_json(summary);
        j["compute"] = compute_name(engine.language_model().compute());
        std::printf("%s\n", j.dump().c_str());
    } else {
        std::printf("%s", eval::format_summary(summary).c_str());
    }
}

}  // namespace

void add_eval_command(Command& program) {
    auto o = std::make_shared<Options>();
    Command& cmd = program.subcommand("eval", "Answer a JSONL evaluation set and report exact-match accuracy");
    add_model_options(cmd, o->model, true);
    add_prompt_limit_option(cmd, o->model);
    cmd.option("--data", o->data, "JSONL: one {\"image\", \"question\", \"answer\"[, \"kind\"]} a line")
        .required();
    cmd.option("--predictions", o->predictions, "Write one JSON object per line (answer, steps, correct, ...)");
    add_decoding_options(cmd, o->decoding);
    cmd.flag("--json", o->json, "Print the summary as one JSON object");
    cmd.flag("--image-attention", o->image_attention,
             "With --predictions: record, per step and layer, the share of attention the masks' rows give the "
             "image tokens (slow: the visual-token redundancy study)");
    cmd.on_run([o] { run(*o); });
}

}  // namespace dimple::cli
