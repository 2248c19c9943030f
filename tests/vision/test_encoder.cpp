#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/config.h"
#include "io/npy.h"
#include "model/synthetic.h"
#include "testing.h"
#include "vision/encoder.h"
#include "vision/image.h"
#include "vision/preprocess.h"

using namespace dimple;

namespace {

Tensor golden(const std::string& name) { return read_npy(dtest::golden_dir() + "/" + name + ".npy"); }

// The vision tower's input for a golden case. The repository keeps only every 8th row of the
// photos' pixel values, so a photo's rows are computed from the photo itself: test_preprocess
// checks them against the original's (the resized photo whole, those rows), bit for bit.
Tensor pixel_values(const std::string& p) {
    if (p.rfind("photo", 0) != 0) return golden(p + "_pixel_values");
    const PreprocessorConfig config = load_preprocessor_config(dtest::golden_dir() + "/model");
    return preprocess_image(load_image(dtest::images_dir() + "/" + p.substr(5) + "_resize.jpg"), config).values;
}

std::vector<ImageGrid> golden_grids(const std::string& prefix) {
    const Tensor g = golden(prefix + "_grid_thw");
    std::vector<ImageGrid> out;
    for (int64_t i = 0; i < g.dim(0); ++i) {
        const int64_t* r = g.data<int64_t>() + i * 3;
        out.push_back({r[0], r[1], r[2]});
    }
    return out;
}

// The tiny-a encoders, loaded once per test program.
const VisionEncoder& tiny_encoder(Compute compute) {
    static const std::string dir = dtest::golden_dir() + "/model";
    static const Checkpoint ck(dir);
    static const ModelConfig cfg = load_model_config(dir);
    static std::map<Compute, VisionEncoder> encoders;
    auto it = encoders.find(compute);
    if (it == encoders.end()) it = encoders.emplace(compute, VisionEncoder(ck, cfg, compute)).first;
    return it->second;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    double m = 0;
    for (int64_t i = 0; i < std::min(a.numel(), b.numel()); ++i)
        m = std::max(m, double(std::abs(a.data<float>()[i] - b.data<float>()[i])));
    return m;
}

double max_abs(const Tensor& a) {
    double m = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, double(std::abs(a.data<float>()[i])));
    return m;
}

// Checks an f32 intermediate and prints its error, so that the figures in reports can be re-measured.
void expect_close(const std::string& what, const Tensor& got, const Tensor& want, double atol,
                  double rtol) {
    EXPECT_TRUE(dtest::all_close(got, want, atol, rtol)) << what;
    std::printf("  %-36s max|err| %.3g (max|ref| %.3g)\n", what.c_str(), max_abs_diff(got, want),
                max_abs(want));
}

}  // namespace

// The goldens' own float32-vs-float64 error is <= 1e-5 on these arrays (README, tolerances.json);
// the recommended check for an f32 engine is atol 1e-4, rtol 1e-4.
class VisionGoldenF32 : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionGoldenF32, EveryIntermediateMatches) {
    const std::string p = GetParam();
    const std::vector<ImageGrid> grids = golden_grids(p);
    VisionTrace tr;
    const Tensor out = tiny_encoder(Compute::F32).encode(pixel_values(p), grids, &tr);
    EXPECT_TRUE(dtest::all_equal(tr.window_index, golden(p + "_vis_window_index")));
    EXPECT_TRUE(dtest::all_equal(tr.cu_window_seqlens_raw, golden(p + "_vis_cu_window_seqlens_raw")));
    EXPECT_TRUE(dtest::all_equal(tr.cu_window_seqlens, golden(p + "_vis_cu_window_seqlens")));
    EXPECT_TRUE(dtest::all_equal(tr.cu_seqlens, golden(p + "_vis_cu_seqlens")));
    EXPECT_TRUE(dtest::all_equal(tr.rot_pos_emb, golden(p + "_vis_rot_pos_emb")));
    const double atol = 1e-4, rtol = 1e-4;
    expect_close(p + "_vis_patch_embed", tr.patch_embed, golden(p + "_vis_patch_embed"), atol, rtol);
    ASSERT_EQ(tr.blocks.size(), 4u);
    for (size_t b = 0; b < tr.blocks.size(); ++b) {
        const std::string name = p + "_vis_block" + std::to_string(b) + "_out";
        expect_close(name, tr.blocks[b], golden(name), atol, rtol);
    }
    expect_close(p + "_vis_merger_out_windowed", tr.merger_out_windowed,
                 golden(p + "_vis_merger_out_windowed"), atol, rtol);
    expect_close(p + "_vis_out", tr.vis_out, golden(p + "_vis_out"), atol, rtol);
    expect_close(p + "_projected", out, golden(p + "_projected"), atol, rtol);
    EXPECT_TRUE(dtest::all_equal(tr.projected, out));
}

INSTANTIATE_TEST_SUITE_P(TinyA, VisionGoldenF32, ::testing::Values("image", "two"));

class VisionPhotoF32 : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionPhotoF32, RealPhotosMatch) {
    const std::string p = GetParam();
    VisionTrace tr;
    const Tensor out =
        tiny_encoder(Compute::F32).encode(pixel_values(p), golden_grids(p), &tr);
    expect_close(p + "_vis_out", tr.vis_out, golden(p + "_vis_out"), 1e-4, 1e-4);
    expect_close(p + "_projected", out, golden(p + "_projected"), 1e-4, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(TinyA, VisionPhotoF32, ::testing::Values("photo3", "photo1"));

// bf16 rounds the input of every matrix product to bf16 (the tiny-a weights are bf16 already), so
// the error grows through the blocks. Measured worst |err| relative to the array's max |value| over
// image/two/photo3/photo1: patch_embed 1.7e-3, blocks 3.6e-3, vis_out 7.9e-3, projected 7.2e-3.
// Asserted with margin: |err| <= 2e-2 * max|golden|, elementwise.
// Fast modes against the goldens: |err| <= bound * max|golden|, elementwise, on each array.
void expect_near_goldens(const std::string& p, Compute compute, double bound) {
    const bool photo = p.rfind("photo", 0) == 0;


    VisionTrace tr;
    const Tensor out =
        tiny_encoder(compute).encode(pixel_values(p), golden_grids(p), &tr);
    std::vector<std::pair<std::string, Tensor>> arrays{{p + "_vis_out", tr.vis_out},
                                                       {p + "_projected", out}};
    if (!photo) {
        arrays.emplace_back(p + "_vis_patch_embed", tr.patch_embed);
        for (size_t b = 0; b < tr.blocks.size(); ++b)
            arrays.emplace_back(p + "_vis_block" + std::to_string(b) + "_out", tr.blocks[b]);
    }
    for (const auto& [name, got] : arrays) {
        const Tensor want = golden(name);
        const double scale = max_abs(want);
        expect_close(name + " (" + compute_name(compute) + ")", got, want, bound * scale, 0);
        std::printf("  %-36s relative to max|ref|: %.3g\n", "", max_abs_diff(got, want) / scale);
    }
}


class VisionGoldenBF16 : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionGoldenBF16, StaysNearTheGoldens) {
    if (!cpu_has_bf16_products()) GTEST_SKIP() << "oneDNN has no bf16 products on this CPU";
    expect_near_goldens(GetParam(), Compute::BF16, 2e-2);
}

INSTANTIATE_TEST_SUITE_P(TinyA, VisionGoldenBF16, ::testing::Values("image", "two", "photo3", "photo1"));

// int8 weights per output channel and activations per row into every product. Measured worst
// |err| relative to the array's max |value| over image/two/photo3/photo1: 0.058 with VNNI (AMD
// Zen 5), 0.071 with ONEDNN_MAX_CPU_ISA=AVX2 (7-bit activations). Asserted with margin: 0.12.
class VisionGoldenInt8 : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionGoldenInt8, StaysNearTheGoldens) {
    expect_near_goldens(GetParam(), Compute::Int8, 0.12);
}

INSTANTIATE_TEST_SUITE_P(TinyA, VisionGoldenInt8, ::testing::Values("image", "two", "photo3", "photo1"));

// ---------------------------------------------------------------------------------------------
// A random model of other shapes against a plain double-precision reference written from the
// spec: everything in processor order (no window permutation at all), visibility decided per
// pair of patches from their image frame and (row, col).

namespace {

using Vec = std::vector<double>;

struct Reference {
    const Checkpoint& ck;
    const ModelConfig& cfg;

    Vec weight(const std::string& name, const Shape& shape) const {
        const Tensor t = ck.get(name, shape).to_f32();
        return Vec(t.data<float>(), t.data<float>() + t.numel());
    }

    // x [rows, in] -> x W^T + b, with W [out, in].
    Vec linear(const Vec& x, int64_t in, const std::string& name, int64_t out, bool bias) const {
        const Vec w = weight(name + ".weight", {out, in});
        const Vec b = bias ? weight(name + ".bias", {out}) : Vec(size_t(out), 0.0);
        const int64_t rows = int64_t(x.size()) / in;
        Vec y(size_t(rows * out));
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t o = 0; o < out; ++o) {
                double acc = b[size_t(o)];
                for (int64_t i = 0; i < in; ++i) acc += x[size_t(r * in + i)] * w[size_t(o * in + i)];
                y[size_t(r * out + o)] = acc;
            }
        return y;
    }

    Vec rms_norm(const Vec& x, int64_t n, const std::string& name) const {
        const Vec w = weight(name, {n});
        Vec y(x.size());
        for (size_t r = 0; r < x.size() / size_t(n); ++r) {
            double ss = 0;
            for (int64_t i = 0; i < n; ++i) ss += x[r * size_t(n) + size_t(i)] * x[r * size_t(n) + size_t(i)];
            const double inv = 1.0 / std::sqrt(ss / double(n) + 1e-6);
            for (int64_t i = 0; i < n; ++i)
                y[r * size_t(n) + size_t(i)] = x[r * size_t(n) + size_t(i)] * inv * w[size_t(i)];
        }
        return y;
    }

    // Returns {vis_out, projected}.
    std::pair<Vec, Vec> run(const Tensor& pixels, const std::vector<ImageGrid>& grids) const {
        const VisionConfig& v = *cfg.vision;
        const int64_t H = v.hidden_size, I = v.intermediate_size, heads = v.num_heads, hd = H / heads;
        const int64_t P = v.patch_dim(), wp = v.window_size / v.patch_size;  // window side, patches
        struct Pos { int64_t frame, row, col; };
        std::vector<Pos> pos;
        int64_t frame = 0;
        for (const ImageGrid& g : grids)
            for (int64_t t = 0; t < g.t; ++t, ++frame)
                for (int64_t hb = 0; hb < g.h / 2; ++hb)
                    for (int64_t wb = 0; wb < g.w / 2; ++wb)
                        for (int64_t i = 0; i < 2; ++i)
                            for (int64_t j = 0; j < 2; ++j) pos.push_back({frame, hb * 2 + i, wb * 2 + j});
        const int64_t N = int64_t(pos.size());

        const Vec px(pixels.data<float>(), pixels.data<float>() + pixels.numel());
        const Vec pw = weight("visual.patch_embed.proj.weight", {H, 3, 2, v.patch_size, v.patch_size});
        Vec x(size_t(N * H), 0.0);
        for (int64_t r = 0; r < N; ++r)
            for (int64_t o = 0; o < H; ++o)
                for (int64_t i = 0; i < P; ++i) x[size_t(r * H + o)] += px[size_t(r * P + i)] * pw[size_t(o * P + i)];

        // Rotary: angle k of a patch uses row for the first hd/4 frequencies, col for the next.
        std::vector<Vec> angle(pos.size(), Vec(static_cast<size_t>(hd)));
        for (int64_t r = 0; r < N; ++r)
            for (int64_t k = 0; k < hd; ++k) {
                const int64_t f = k % (hd / 2), nf = hd / 4;
                const double inv = std::pow(10000.0, -2.0 * double(f % nf) / double(hd / 2));
                angle[size_t(r)][size_t(k)] = double(f < nf ? pos[size_t(r)].row : pos[size_t(r)].col) * inv;
            }
        auto rotate = [&](Vec& qkv, int64_t r, int64_t off) {
            for (int64_t h = 0; h < heads; ++h) {
                double* e = &qkv[size_t(r * 3 * H + off + h * hd)];
                const Vec old(e, e + hd);
                for (int64_t k = 0; k < hd; ++k) {
                    const double other = k < hd / 2 ? -old[size_t(k + hd / 2)] : old[size_t(k - hd / 2)];
                    const double a = angle[size_t(r)][size_t(k)];
                    e[k] = old[size_t(k)] * std::cos(a) + other * std::sin(a);
                }
            }
        };

        for (int b = 0; b < v.depth; ++b) {
            const std::string p = "visual.blocks." + std::to_string(b) + ".";
            const bool full = std::count(v.fullatt_block_indexes.begin(), v.fullatt_block_indexes.end(), b) > 0;
            Vec qkv = linear(rms_norm(x, H, p + "norm1.weight"), H, p + "attn.qkv", 3 * H, true);
            for (int64_t r = 0; r < N; ++r) rotate(qkv, r, 0), rotate(qkv, r, H);
            Vec att(size_t(N * H), 0.0);
            for (int64_t h = 0; h < heads; ++h)
                for (int64_t i = 0; i < N; ++i) {
                    Vec s(size_t(N), -INFINITY);
                    double mx = -INFINITY;
                    for (int64_t j = 0; j < N; ++j) {
                        const Pos &a = pos[size_t(i)], &c = pos[size_t(j)];
                        const bool visible = a.frame == c.frame &&
                                             (full || (a.row / wp == c.row / wp && a.col / wp == c.col / wp));
                        if (!visible) continue;
                        double dot = 0;
                        for (int64_t k = 0; k < hd; ++k)
                            dot += qkv[size_t(i * 3 * H + h * hd + k)] * qkv[size_t(j * 3 * H + H + h * hd + k)];
                        s[size_t(j)] = dot / std::sqrt(double(hd));
                        mx = std::max(mx, s[size_t(j)]);
                    }
                    double z = 0;
                    for (double& e : s) z += (e = std::exp(e - mx));
                    for (int64_t j = 0; j < N; ++j)
                        for (int64_t k = 0; k < hd; ++k)
                            att[size_t(i * H + h * hd + k)] += s[size_t(j)] / z * qkv[size_t(j * 3 * H + 2 * H + h * hd + k)];
                }
            const Vec o = linear(att, H, p + "attn.proj", H, true);
            for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
            const Vec n2 = rms_norm(x, H, p + "norm2.weight");
            Vec g = linear(n2, H, p + "mlp.gate_proj", I, true);
            const Vec u = linear(n2, H, p + "mlp.up_proj", I, true);
            for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
            const Vec d = linear(g, I, p + "mlp.down_proj", H, true);
            for (size_t i = 0; i < x.size(); ++i) x[i] += d[i];
        }
        // Processor order keeps each merge unit's 4 patches consecutive.
        Vec m = linear(rms_norm(x, H, "visual.merger.ln_q.weight"), 4 * H, "visual.merger.mlp.0", 4 * H, true);
        for (double& e : m) e = 0.5 * e * (1 + std::erf(e / std::sqrt(2.0)));
        const Vec vis = linear(m, 4 * H, "visual.merger.mlp.2", v.out_hidden_size, true);
        Vec pr = linear(vis, v.out_hidden_size, "img_projector.linear_1", cfg.hidden_size, true);
        for (double& e : pr) e = e / (1 + std::exp(-e));
        return {vis, linear(pr, cfg.hidden_size, "img_projector.linear_2", cfg.hidden_size, true)};
    }
};

std::string synthetic_config(int window_size) {
    return R"({"model_type": "dimple", "hidden_size": 24, "intermediate_size": 40,
      "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 64,
      "mrope_section": [2, 2, 2], "mask_token_id": 63, "pad_token_id": 62, "image_token_id": 61,
      "vision_config": {"depth": 3, "hidden_size": 48, "intermediate_size": 72, "num_heads": 3,
        "out_hidden_size": 40, "fullatt_block_indexes": [0], "patch_size": 14,
        "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": )" +
           std::to_string(window_size) + "}}";
}

Tensor random_pixels(int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, 1.f);
    Tensor t = Tensor::f32({rows, cols});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
    return t;
}

Tensor as_tensor(const Vec& v, int64_t cols) {
    Tensor t = Tensor::f32({int64_t(v.size()) / cols, cols});
    for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = float(v[i]);
    return t;
}

}  // namespace

// window 112 = 4x4 merge units, 56 = 2x2. Grids: (1,8,16) has merged sides 4x8, exact multiples
// of both windows (padded empty windows); (1,10,14) has 5x7, a multiple of neither.
class VisionSynthetic : public ::testing::TestWithParam<int> {};

TEST_P(VisionSynthetic, MatchesDoubleReference) {
    const std::string dir = dtest::temp_dir();
    write_synthetic_checkpoint(dir, synthetic_config(GetParam()), {DType::BF16, 1, 11, 0.08f});
    const ModelConfig cfg = load_model_config(dir);
    const Checkpoint ck(dir);
    const std::vector<ImageGrid> grids{{1, 8, 16}, {1, 10, 14}};
    const Tensor pixels = random_pixels(128 + 140, 1176, 3);

    VisionTrace tr;
    const Tensor out = VisionEncoder(ck, cfg, Compute::F32).encode(pixels, grids, &tr);
    const auto [vis, projected] = Reference{ck, cfg}.run(pixels, grids);
    // Measured: max |err| 2.4e-6 on vis_out (values up to 3.1), 2.1e-7 on projected (up to 0.48);
    // only f32 rounding and summation order differ.
    expect_close("synthetic vis_out", tr.vis_out, as_tensor(vis, 40), 2e-5, 1e-5);
    expect_close("synthetic projected", out, as_tensor(projected, 24), 2e-5, 1e-5);
    ASSERT_EQ(out.shape(), (Shape{67, 24}));
}

TEST_P(VisionSynthetic, ImagesEncodedTogetherEqualImagesEncodedAlone) {
    const std::string dir = dtest::temp_dir();
    write_synthetic_checkpoint(dir, synthetic_config(GetParam()), {DType::BF16, 1, 12, 0.08f});
    const VisionEncoder enc(Checkpoint(dir), load_model_config(dir), Compute::F32);
    const std::vector<ImageGrid> grids{{1, 10, 14}, {1, 8, 16}};
    const Tensor pixels = random_pixels(140 + 128, 1176, 4);
    const Tensor both = enc.encode(pixels, grids);
    const Tensor first = enc.encode(pixels.slice_rows(0, 140).clone(), {&grids[0], 1});
    const Tensor second = enc.encode(pixels.slice_rows(140, 268).clone(), {&grids[1], 1});
    EXPECT_TRUE(dtest::all_close(both.slice_rows(0, 35).clone(), first, 1e-6, 1e-6));
    EXPECT_TRUE(dtest::all_close(both.slice_rows(35, 67).clone(), second, 1e-6, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Windows, VisionSynthetic, ::testing::Values(112, 56));
