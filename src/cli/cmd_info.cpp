// `dimple info MODEL_DIR`: what a checkpoint holds and what it will cost to load.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "core/error.h"
#include "core/isa.h"
#include "core/memory.h"
#include "engine/family.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "model/memory_plan.h"
#include "model/parameters.h"

namespace dimple::cli {

namespace {

struct Options {
    std::string model_dir;
    bool json = false;
};

void run_info(const Options& o) {
    const ModelConfig cfg = load_model_config(o.model_dir);
    const Checkpoint ckpt(o.model_dir);

    struct Totals {
        int64_t params = 0;
        size_t disk = 0;
        std::set<std::string> dtypes;
    };
    std::map<Component, Totals> per;
    std::set<std::string> expected_names;
    for (const ParameterSpec& p : expected_parameters(cfg)) {
        // Checks presence, dtype and shape; a linear weight may be int8 with its scales.
        Checkpoint::LinearWeight w;
        if (p.linear) w = ckpt.linear_weight(p.name.substr(0, p.name.size() - 7), p.shape);
        else w.weight = ckpt.get(p.name, p.shape);
        Totals& tot = per[p.component];
        tot.params += w.weight.numel();
        tot.disk += w.weight.nbytes() + (w.scale.empty() ? 0 : w.scale.nbytes());
        tot.dtypes.insert(std::string(dtype_name(w.weight.dtype())));
        expected_names.insert(p.name);
        if (!w.scale.empty()) expected_names.insert(p.name + "_scale");
    }
    std::vector<std::string> unexpected;
    for (const auto& item : ckpt.items())
        if (!expected_names.count(item.name)) unexpected.push_back(item.name);

    int64_t total_params = 0;
    for (auto& [c, t] : per) total_params += t.params;
    // In memory, per compute mode: what the loader plans with (model/memory_plan.h), for the largest
    // request `dimple run` takes by default.
    const RequestLimits limits;
    const Footprint mem{weight_footprint(ckpt, cfg), working_memory(cfg, load_preprocessor_config(o.model_dir), limits)};

    nlohmann::json j;
    j["model_dir"] = o.model_dir;
    j["architecture"] = architecture_name(cfg.arch);
    j["language_model"] = {{"hidden_size", cfg.hidden_size},
                           {"intermediate_size", cfg.intermediate_size},
                           {"layers", cfg.num_layers},
                           {"heads", cfg.num_heads},
                           {"kv_heads", cfg.num_kv_heads},
                           {"head_dim", cfg.head_dim()},
                           {"vocab_size", cfg.vocab_size},
                           {"rope_theta", cfg.rope_theta},
                           {"mrope_section", cfg.mrope_section}};
    if (cfg.vision)
        j["vision"] = {{"depth", cfg.vision->depth},
                       {"hidden_size", cfg.vision->hidden_size},
                       {"intermediate_size", cfg.vision->intermediate_size},
                       {"heads", cfg.vision->num_heads},
                       {"out_hidden_size", cfg.vision->out_hidden_size},
                       {"fullatt_block_indexes", cfg.vision->fullatt_block_indexes}};
    for (auto& [c, t] : per)
        j["parameters"][component_name(c)] = {{"count", t.params},
                                              {"bytes_on_disk", t.disk},
                                              {"dtypes", t.dtypes}};
    j["parameters"]["total"] = total_params;
    j["bytes_on_disk"] = ckpt.file_bytes();
    j["bytes_in_memory"] = {{"bf16", mem.bytes(Compute::BF16)}, {"f32", mem.bytes(Compute::F32)},
                            {"int8", mem.bytes(Compute::Int8)}};
    j["working_memory"] = {{"vision", mem.working.vision},
                           {"language", mem.working.language},
                           {"kept_buffers", mem.working.kept_buffers},
                           {"program", mem.working.program},
                           {"for", {{"prompt_tokens", limits.prompt_tokens},
                                    {"answer_tokens", limits.answer_tokens},
                                    {"images", limits.images}}}};
    const GenerateOptions call = model_family(cfg, nullptr).decoding;
    j["decoding"] = {{"pipeline", pipeline_name(call.pipeline)},
                     {"max_new_tokens", call.max_new_tokens},
                     {"steps", call.steps},
                     {"block_length", call.accel.block_length},
                     {"threshold", call.threshold.value_or(0.f)},
                     {"temperature", call.sampling.temperature},
                     {"cache", call.use_cache}};
    j["special_ids"] = {{"pad", cfg.ids.pad},   {"bos", cfg.ids.bos},
                        {"eos", cfg.ids.eos},   {"mask", cfg.ids.mask},
                        {"image", cfg.ids.image}, {"vision_start", cfg.ids.vision_start},
                        {"vision_end", cfg.ids.vision_end}};
    j["unexpected_tensors"] = unexpected;
    j["kernels"] = isa_name(kernel_isa());

    if (o.json) {
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::printf("model        %s\n", o.model_dir.c_str());
    std::printf("architecture %s%s\n", architecture_name(cfg.arch).c_str(),
                cfg.vision ? " (Qwen2.5-VL vision + projector + Dream LM)" : " (text only)");
    const std::string positions =
        cfg.positions == PositionScheme::Sequential
            ? "1-D positions over every row"
            : "mrope [" + std::to_string(cfg.mrope_section[0]) + "," + std::to_string(cfg.mrope_section[1]) + "," +
                  std::to_string(cfg.mrope_section[2]) + "]";
    std::printf("language     hidden %d, inter %d, %d layers, %d heads / %d kv heads (head_dim %d), "
                "vocab %d, rope_theta %g, %s, %s logits\n",
                cfg.hidden_size, cfg.intermediate_size, cfg.num_layers, cfg.num_heads, cfg.num_kv_heads,
                cfg.head_dim(), cfg.vocab_size, cfg.rope_theta, positions.c_str(),
                cfg.shifted_logits ? "shifted" : "unshifted");
    if (cfg.vision) {
        std::string full;  // "full attention in blocks 7, 15, 23, 31"
        for (int b : cfg.vision->fullatt_block_indexes) full += (full.empty() ? "" : ", ") + std::to_string(b);
        const size_t n_full = cfg.vision->fullatt_block_indexes.size();
        full = n_full == 0 ? "windowed attention only"
                           : std::string("full attention in block") + (n_full == 1 ? " " : "s ") + full;
        std::printf("vision       depth %d, hidden %d, inter %d, %d heads, out %d, %s\n", cfg.vision->depth,
                    cfg.vision->hidden_size, cfg.vision->intermediate_size, cfg.vision->num_heads,
                    cfg.vision->out_hidden_size, full.c_str());
    }
    std::printf("parameters\n");
    for (auto& [c, t] : per) {
        std::string dts;
        for (auto& d : t.dtypes) dts += (dts.empty() ? "" : ",") + d;
        std::printf("  %-15s %14lld  %10s  %s\n", component_name(c).c_str(), (long long)t.params,
                    human_bytes(double(t.disk)).c_str(), dts.c_str());
    }
    std::printf("  %-15s %14lld\n", "total", (long long)total_params);
    std::printf("decoding     %s pipeline, %d tokens, %d steps, %s, threshold %g, temperature %g, prefilling %s "
                "(the family's call: what options left unset take)\n",
                pipeline_name(call.pipeline).c_str(), call.max_new_tokens, call.steps,
                call.accel.block_length > 0 ? ("blocks of " + std::to_string(call.accel.block_length)).c_str()
                                            : "the whole answer as one block",
                double(call.threshold.value_or(0.f)), double(call.sampling.temperature), call.use_cache ? "on" : "off");
    std::printf("on disk      %s\n", human_bytes(double(ckpt.file_bytes())).c_str());
    std::printf("in memory    %s (--compute int8), %s (--compute bf16), %s (--compute f32)%s\n",
                human_bytes(double(mem.bytes(Compute::Int8))).c_str(), human_bytes(double(mem.bytes(Compute::BF16))).c_str(),
                human_bytes(double(mem.bytes(Compute::F32))).c_str(), mem.weights.int8_checkpoint ? "; int8 checkpoint" : "");
    std::printf("  working    %s of it: activations %s, kept buffers %s, program %s (a prompt of up to %lld "
                "tokens, %lld image, a %lld-token answer: `dimple run`'s defaults)\n",
                human_bytes(double(mem.working.total())).c_str(), human_bytes(double(mem.working.activations())).c_str(),
                human_bytes(double(mem.working.kept_buffers)).c_str(), human_bytes(double(mem.working.program)).c_str(),
                (long long)limits.prompt_tokens, (long long)limits.images, (long long)limits.answer_tokens);
    std::printf("special ids  pad %lld, bos %lld, eos %lld, mask %lld", (long long)cfg.ids.pad,
                (long long)cfg.ids.bos, (long long)cfg.ids.eos, (long long)cfg.ids.mask);
    if (cfg.vision)
        std::printf(", image_pad %lld, vision_start %lld, vision_end %lld", (long long)cfg.ids.image,
                    (long long)cfg.ids.vision_start, (long long)cfg.ids.vision_end);
    std::printf("\n");
    std::printf("kernels      %s\n", kernel_isa_description());
    if (!unexpected.empty())
        std::printf("warning      %zu tensors in the checkpoint are not used (first: %s)\n",
                    unexpected.size(), unexpected.front().c_str());
}

}  // namespace

void add_info_command(Command& program) {
    auto opts = std::make_shared<Options>();
    Command& cmd = program.subcommand("info", "Describe a model folder: architecture, parameters, "
                                               "dtypes, sizes, special token ids");
    cmd.option("model_dir", opts->model_dir, "Hugging Face model folder").required();
    cmd.flag("--json", opts->json, "Print one JSON object");
    cmd.on_run([opts] { run_info(*opts); });
}

}  // namespace dimple::cli
