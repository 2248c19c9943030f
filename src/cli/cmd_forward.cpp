// `dimple forward`: the unshifted logits (B, L, V) of an id array, for parity work against the
// PyTorch reference and the goldens.
#include <cstring>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/npy.h"
#include "vision/preprocess.h"

namespace dimple::cli {

namespace {

struct Options {
    ModelOptions model;
    std::string ids, mask, out, hidden_out;
    PixelOptions pixel_values;
    std::vector<std::string> images;
};

void run(const Options& o) {
    set_num_threads(o.model.threads);
    Tensor ids = read_npy(o.ids);
    check(ids.dtype() == DType::I64 && (ids.ndim() == 2 || ids.ndim() == 1), o.ids,
          ": expected an int64 (B, L) id array");
    if (ids.ndim() == 1) ids = ids.reshape({1, ids.dim(0)});
    const int64_t B = ids.dim(0), L = ids.dim(1);
    // One pass over every row, and the logits of every row: the plan counts both.
    ModelOptions model = o.model;
    model.limits = {B * L, B * L, int64_t(o.images.size() + o.pixel_values.grids.size())};
    Engine engine(o.model.dir, engine_options(model));
    const ModelConfig& cfg = engine.config();
    const LanguageModel& lm = engine.language_model();
    std::vector<uint8_t> valid(size_t(B * L), 1);
    if (!o.mask.empty()) {
        const Tensor m = read_npy(o.mask);
        check(m.numel() == B * L && m.dtype() == DType::I64, o.mask, ": expected an int64 mask shaped like the ids");
        for (int64_t i = 0; i < B * L; ++i) valid[size_t(i)] = m.data<int64_t>()[i] != 0;
    }

    // Images: raw processor rows with their grids, or image files preprocessed here.
    auto [pixels, grids] = read_pixel_input(o.pixel_values);
    check(o.images.empty() || grids.empty(), "give images as files (--image) or as --pixel-values, not both");
    if (!o.images.empty()) {
        std::vector<PixelValues> pv;
        int64_t rows = 0;
        for (const std::string& path : o.images) {
            pv.push_back(preprocess_image(load_image(path), load_preprocessor_config(o.model.dir)));
            grids.push_back(pv.back().grid);
            rows += pv.back().values.dim(0);
        }
        pixels = Tensor::f32({rows, pv.front().values.dim(1)});
        int64_t r = 0;
        for (const auto& p : pv) {
            std::memcpy(pixels.row(r), p.values.raw(), p.values.nbytes());
            r += p.values.dim(0);
        }
    }

    ForwardInput in;
    in.batch = B;
    in.len = L;
    in.valid = valid;
    in.embeddings = lm.embed({ids.data<int64_t>(), size_t(B * L)});
    if (!grids.empty()) {
        check(engine.has_vision(), "this model has no vision tower");
        const Tensor rows = engine.encode_images(pixels, grids);
        int64_t r = 0;
        for (int64_t i = 0; i < B * L; ++i)
            if (ids.data<int64_t>()[i] == cfg.ids.image) {
                check(r < rows.dim(0), "the ids hold more image tokens than the images give rows (", rows.dim(0), ")");
                std::memcpy(in.embeddings.row(i), rows.row(r++), size_t(cfg.hidden_size) * 4);
            }
        check(r == rows.dim(0), "the images give ", rows.dim(0), " rows but the ids hold ", r, " image tokens");
    }
    size_t image = 0;
    for (int64_t b = 0; b < B; ++b) {
        const std::span<const int64_t> row(ids.data<int64_t>() + b * L, size_t(L));
        const int64_t n = cfg.ids.image < 0 ? 0 : std::count(row.begin(), row.end(), cfg.ids.image);
        std::vector<ImageGrid> mine;  // this row's images: as many as its image tokens consume
        for (int64_t used = 0; used < n && image < grids.size(); ++image) {
            mine.push_back(grids[image]);
            used += grids[image].t * grids[image].h * grids[image].w / 4;
        }
        const Positions p = compute_positions(row, {valid.data() + b * L, size_t(L)}, cfg.ids.image, mine,
                                              cfg.vision ? cfg.vision->spatial_merge_size : 2);
        in.positions.insert(in.positions.end(), p.ids.begin(), p.ids.end());
    }
    const Tensor hidden = lm.forward(in);
    std::vector<int64_t> all(size_t(B * L));
    for (int64_t i = 0; i < B * L; ++i) all[size_t(i)] = i;
    write_npy(o.out, lm.logits(hidden, all).reshape({B, L, cfg.vocab_size}));
    if (!o.hidden_out.empty()) write_npy(o.hidden_out, hidden.reshape({B, L, cfg.hidden_size}));
}

}  // namespace

void add_forward_command(Command& program) {
    auto o = std::make_shared<Options>();
    Command& cmd = program.subcommand("forward", "Write the unshifted logits (B, L, V) of an id array");
    add_model_options(cmd, o->model);
    cmd.option("--ids", o->ids, "int64 (B, L) .npy of token ids (image tokens already expanded)").required();
    cmd.option("--attention-mask", o->mask, "int64 (B, L) .npy, 0 for left padding");
    add_pixel_options(cmd, o->pixel_values);
    cmd.option("--image", o->images, "Image file(s) to preprocess instead of --pixel-values");
    cmd.option("--out", o->out, "Output .npy of logits").required();
    cmd.option("--hidden-out", o->hidden_out, "Also write the final-normed hidden states");
    cmd.on_run([o] { run(*o); });
}

}  // namespace dimple::cli
