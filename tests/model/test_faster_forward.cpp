// What the faster-decoding options ask of a forward pass (model/kv_cache.h, visual_pruning.h,
// ForwardInput::skip_layers): skipped layers leave the rows untouched, pruning hides exactly the
// dropped keys from the later layers, and a pruned cache is the unpruned one with a key mask.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "golden_runs.h"
#include "io/npy.h"
#include "kernels/ops.h"
#include "model/language_model.h"
#include "model/prompt.h"
#include "testing.h"

using namespace dimple;

namespace {

struct Case {
    Checkpoint ckpt;
    ModelConfig cfg;
    LanguageModel lm;
    Prompt prompt;
    explicit Case(const std::string& dir)
        : ckpt(dir + "/model"),
          cfg(load_model_config(dir + "/model")),
          lm(ckpt, cfg, Compute::F32),
          prompt(dtest::golden_prompt(lm, dir, "image")) {}
    int64_t len() const { return int64_t(prompt.ids.size()); }
    std::vector<int64_t> image_rows() const {
        std::vector<int64_t> r;
        for (int64_t i = 0; i + 1 < len(); ++i)
            if (prompt.ids[size_t(i)] == cfg.ids.image) r.push_back(i);
        return r;
    }
    // The whole prompt as one packed sequence, keeping all but its last token's keys in `keep`.
    ForwardInput first_pass(KvCache* keep, VisualPruning* prune = nullptr) const {
        ForwardInput in;
        in.batch = 1;
        in.len = len();
        in.embeddings = prompt.embeddings.clone();
        in.positions = prompt.positions.ids;
        in.packed.push_back({len(), nullptr, len() - 1, keep, prune});
        return in;
    }
    // The last prompt token and four mask rows on a cache.
    ForwardInput next_pass(const KvCache* past, VisualPruning* prune = nullptr) const {
        ForwardInput in;
        in.batch = 1;
        in.len = 5;
        const std::vector<int64_t> masks(4, cfg.ids.mask);
        const Tensor answer = lm.embed(masks);
        in.embeddings = Tensor::f32({5, cfg.hidden_size});
        std::copy_n(prompt.embeddings.row(len() - 1), cfg.hidden_size, in.embeddings.row(0));
        std::copy_n(answer.data<float>(), answer.numel(), in.embeddings.row(1));
        in.positions.push_back(prompt.positions.ids.back());
        for (int64_t j = 0; j < 4; ++j) {
            const int64_t id = len() + j + prompt.positions.rope_delta;
            in.positions.push_back({id, id, id});
        }
        in.packed.push_back({5, past, 0, nullptr, prune});
        return in;
    }
};

}  // namespace

TEST(FasterForward, AttentionReceivedIsAProbabilityMass) {
    // One head, two dimensions: q = (1, 0); keys (0, 0), (1, 0), (2, 0); scale 1/sqrt(2).
    const float q[2] = {1, 0}, k[6] = {0, 0, 1, 0, 2, 0};
    const std::vector<int64_t> rows{0}, all{0, 1, 2};
    const std::vector<double> got = attention_received(q, rows, k, 3, {1, 1, 2, 2, 2}, all);
    const double s = 1 / std::sqrt(2.0), z = 1 + std::exp(s) + std::exp(2 * s);
    EXPECT_NEAR(got[0], 1 / z, 1e-12);
    EXPECT_NEAR(got[2], std::exp(2 * s) / z, 1e-12);
    // Random GQA heads: the mass over all keys is one per query row and head.
    Rng rng(7);
    std::normal_distribution<float> n(0, 1);
    std::vector<float> qs(3 * 4 * 8), ks(10 * 2 * 8);
    for (float& x : qs) x = n(rng);
    for (float& x : ks) x = n(rng);
    std::vector<int64_t> keys(10);
    std::iota(keys.begin(), keys.end(), 0);
    const std::vector<int64_t> three{0, 1, 2};
    const std::vector<double> mass = attention_received(qs.data(), three, ks.data(), 10, {4, 2, 8, 32, 16}, keys);
    EXPECT_NEAR(std::accumulate(mass.begin(), mass.end(), 0.0), 12.0, 1e-9);
    EXPECT_EQ(least_attended(keys, mass, 7).size(), 3u);
    const std::vector<double> ties{1, 2, 2, 0};
    const std::vector<int64_t> four{10, 11, 12, 13};
    EXPECT_EQ(least_attended(four, ties, 2), (std::vector<int64_t>{10, 13}));
}

TEST(FasterForward, SkippingEveryLayerLeavesOnlyTheFinalNorm) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Case c(dir);
    ForwardInput in = c.first_pass(nullptr);
    in.packed[0].keep = 0;
    in.skip_layers.assign(size_t(c.cfg.num_layers), 1);
    const Tensor out = c.lm.forward(in);
    Tensor want = Tensor::f32({c.len(), c.cfg.hidden_size});
    const Tensor w = c.ckpt.get("model.norm.weight", {c.cfg.hidden_size}).to_f32();
    rms_norm(c.prompt.embeddings.data<float>(), w.data<float>(), want.data<float>(), c.len(), c.cfg.hidden_size,
             float(c.cfg.rms_norm_eps));
    EXPECT_TRUE(dtest::all_equal(out, want));
    KvCache keep;
    ForwardInput filling = c.first_pass(&keep);
    filling.skip_layers.assign(size_t(c.cfg.num_layers), 0);
    EXPECT_THROW(c.lm.forward(filling), Error);  // a cache must get every layer
}

TEST(FasterForward, PruningHidesTheDroppedKeysFromLaterLayersOnly) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Case c(dir);
    const std::vector<int64_t> image = c.image_rows();
    ASSERT_GE(image.size(), 8u);
    std::vector<int64_t> text;
    for (int64_t r = 0; r < c.len(); ++r)
        if (!std::binary_search(image.begin(), image.end(), r)) text.push_back(r);

    KvCache full;
    std::vector<Tensor> trace_full, trace_kept, trace_pruned;
    ForwardInput plain = c.first_pass(&full);
    plain.trace = &trace_full;
    const Tensor exact = c.lm.forward(plain);

    // Keeping every candidate changes nothing.
    VisualPruning all{0, image, text, int64_t(image.size()), {}, {}};
    KvCache same;
    ForwardInput keep_all = c.first_pass(&same, &all);
    keep_all.trace = &trace_kept;
    EXPECT_TRUE(dtest::all_equal(c.lm.forward(keep_all), exact));
    EXPECT_TRUE(all.dropped.empty());

    // Keeping a quarter: hidden states agree through the pruning layer, differ after it, and the
    // cache it fills holds fewer keys after that layer.
    VisualPruning quarter{0, image, text, int64_t(image.size()) / 4, {}, {}};
    KvCache pruned;
    ForwardInput first = c.first_pass(&pruned, &quarter);
    first.trace = &trace_pruned;
    c.lm.forward(first);
    EXPECT_EQ(quarter.dropped.size(), image.size() - image.size() / 4);
    EXPECT_TRUE(dtest::all_equal(trace_pruned[1], trace_full[1]));  // the output of layer 0
    EXPECT_FALSE(dtest::all_close(trace_pruned[2], trace_full[2], 1e-4, 0));
    EXPECT_EQ(pruned.layer_len(0), c.len() - 1);
    for (size_t l = 1; l < pruned.k.size(); ++l)
        EXPECT_EQ(pruned.layer_len(l), c.len() - 1 - int64_t(quarter.dropped.size()));

    // On a full cache, pruning among the cached keys (a mask) equals the same keys dropped from
    // the cache (compaction), whose keys the attention then meets in another order.
    VisualPruning late{0, image, {0, 1, 2, 3, 4}, 3, {}, {}};
    const Tensor masked = c.lm.forward(c.next_pass(&full, &late));
    ASSERT_EQ(late.dropped.size(), image.size() - 3);
    KvCache compacted = full;
    drop_rows(compacted, 1, late.dropped);
    const Tensor dropped = c.lm.forward(c.next_pass(&compacted));
    EXPECT_TRUE(dtest::all_close(masked, dropped, 1e-5, 1e-5));
    EXPECT_FALSE(dtest::all_close(masked, c.lm.forward(c.next_pass(&full)), 1e-4, 0));

    // A second pruning on the compacted cache maps its keys through later_index.
    VisualPruning again{0, {}, {0, 1, 2, 3, 4}, 1, std::vector<int64_t>(size_t(c.len() - 1), -1), {}};
    int64_t at = 0;
    for (int64_t r = 0; r + 1 < c.len(); ++r)
        if (!std::binary_search(late.dropped.begin(), late.dropped.end(), r)) {
            again.later_index[size_t(r)] = at++;
            if (std::binary_search(image.begin(), image.end(), r)) again.candidates.push_back(r);
        }
    ASSERT_EQ(again.candidates.size(), 3u);
    const Tensor masked2 = c.lm.forward(c.next_pass(&compacted, &again));
    std::vector<int64_t> rows2;
    for (int64_t d : again.dropped) rows2.push_back(again.later_index[size_t(d)]);
    KvCache compacted2 = compacted;
    drop_rows(compacted2, 1, rows2);
    EXPECT_TRUE(dtest::all_close(masked2, c.lm.forward(c.next_pass(&compacted2)), 1e-5, 1e-5));
}

// Pruned rows leave the later layers' computation (the fast way); that computes what hiding them
// from the others' attention computes (the reference), for every row still seen and for the cache
// it fills, also with a second, unpruned sequence packed behind the pruned one (whose rows move).
TEST(FasterForward, RemovingPrunedRowsComputesWhatHidingThemComputes) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Case c(dir);
    const std::vector<int64_t> image = c.image_rows();
    std::vector<int64_t> text;
    for (int64_t r = 0; r < c.len(); ++r)
        if (!std::binary_search(image.begin(), image.end(), r)) text.push_back(r);
    const int64_t keep = int64_t(image.size()) / 3, L = c.len();
    for (int layer : {0, 1}) {
        VisualPruning by_mask{layer, image, text, keep, {}, {}}, removed{layer, image, text, keep, {}, {}};
        KvCache masked_cache, removed_cache, plain_cache, second_cache;
        ForwardInput reference = c.first_pass(&masked_cache, &by_mask);
        reference.prune_by_mask = true;
        const Tensor want = c.lm.forward(reference);
        const Tensor plain = c.lm.forward(c.first_pass(&plain_cache));

        // Two sequences in one call: the pruned prompt, then the same prompt unpruned.
        ForwardInput both = c.first_pass(&removed_cache, &removed);
        both.len = 2 * L;
        both.embeddings = Tensor::concat_rows({c.prompt.embeddings, c.prompt.embeddings});
        both.positions.insert(both.positions.end(), c.prompt.positions.ids.begin(), c.prompt.positions.ids.end());
        both.packed.push_back({L, nullptr, L - 1, &second_cache, nullptr});
        std::vector<Tensor> trace;
        both.trace = &trace;
        const Tensor got = c.lm.forward(both);

        ASSERT_EQ(removed.dropped, by_mask.dropped) << layer;
        ASSERT_FALSE(removed.dropped.empty());
        for (int64_t r = 0; r < L; ++r) {
            if (std::binary_search(removed.dropped.begin(), removed.dropped.end(), r)) continue;
            EXPECT_TRUE(dtest::all_close(got.slice_rows(r, r + 1), want.slice_rows(r, r + 1), 1e-5, 1e-5)) << layer << " row " << r;
            EXPECT_TRUE(dtest::all_close(got.slice_rows(L + r, L + r + 1), plain.slice_rows(r, r + 1), 1e-5, 1e-5)) << layer << " row " << r;
        }
        EXPECT_EQ(trace.size(), size_t(c.cfg.num_layers + 1));
        EXPECT_EQ(trace.back().dim(0), 2 * L);  // every row, the pruned ones as they left
        for (size_t l = 0; l < masked_cache.k.size(); ++l) {
            EXPECT_EQ(removed_cache.layer_len(l), masked_cache.layer_len(l)) << l;
            EXPECT_TRUE(dtest::all_close(removed_cache.k[l], masked_cache.k[l], 1e-5, 1e-5)) << l;
            EXPECT_TRUE(dtest::all_close(removed_cache.v[l], masked_cache.v[l], 1e-5, 1e-5)) << l;
            EXPECT_TRUE(dtest::all_close(second_cache.k[l], plain_cache.k[l], 1e-5, 1e-5)) << l;
        }
    }
}

TEST(FasterForward, JoinedCachesHoldTheChosenRows) {
    KvCache a{1, 3, {Tensor::f32({1, 3, 2})}, {Tensor::f32({1, 3, 2})}, {1, 1, 1}};
    KvCache b{1, 4, {Tensor::f32({1, 4, 2})}, {Tensor::f32({1, 4, 2})}, {1, 1, 1, 1}};
    for (int64_t i = 0; i < 6; ++i) a.k[0].data<float>()[i] = float(i), a.v[0].data<float>()[i] = float(-i);
    for (int64_t i = 0; i < 8; ++i) b.k[0].data<float>()[i] = float(100 + i), b.v[0].data<float>()[i] = float(-100 - i);
    const std::vector<int64_t> rows{3, 1};
    const KvCache j = join_rows(a, b, rows);
    EXPECT_EQ(j.len, 5);
    EXPECT_EQ(j.layer_len(0), 5);
    const std::vector<float> k(j.k[0].data<float>(), j.k[0].data<float>() + 10);
    EXPECT_EQ(k, (std::vector<float>{0, 1, 2, 3, 4, 5, 106, 107, 102, 103}));
    EXPECT_EQ(j.v[0].data<float>()[6], -106.f);
    KvCache d = j;
    const std::vector<int64_t> drop{0, 4};
    drop_rows(d, 0, drop);
    const std::vector<float> kd(d.k[0].data<float>(), d.k[0].data<float>() + 6);
    EXPECT_EQ(kd, (std::vector<float>{2, 3, 4, 5, 106, 107}));
    const std::vector<int64_t> outside{4};
    EXPECT_THROW(join_rows(a, b, outside), Error);
}
