// model.packed (io/packed_weights.h): int8 layers stored in this machine's packed layout read back
// as the same products; a layer whose scales changed is not taken; a damaged file is refused with
// its name, never read past its end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "io/packed_weights.h"
#include "kernels/matmul.h"
#include "testing.h"

using namespace dimple;
namespace fs = std::filesystem;

namespace {

struct Layer {
    Tensor weight, scale;
};

// Random int8 weights [out, in] with positive scales.
Layer random_layer(int64_t out, int64_t in, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> q(-127, 127);
    Layer l{Tensor(DType::I8, {out, in}), Tensor::f32({out})};
    for (int64_t i = 0; i < out * in; ++i) l.weight.data<int8_t>()[i] = int8_t(q(rng));
    for (int64_t i = 0; i < out; ++i) l.scale.data<float>()[i] = 0.001f * float(1 + q(rng) % 50 + 50);
    return l;
}

Tensor outputs(const Linear& lin, int64_t rows) {
    Tensor x = Tensor::f32({rows, lin.in_features()});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float((i * 37) % 101) / 50.f - 1.f;
    return lin.forward(x);
}

std::string write_file(const std::vector<std::pair<std::string, Layer>>& layers) {
    const std::string path = dtest::temp_dir() + "/model.packed";
    PackedWeightsWriter w(path);
    for (const auto& [key, l] : layers) {
        const Linear lin(l.weight, &l.scale, nullptr, Compute::Int8);
        w.add(key, lin.prepacked_int8(), lin.out_features(), l.scale);
    }
    w.finish();
    return path;
}

std::string read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST(PackedWeights, StoredLayersComputeWhatTheyComputedWhenPacked) {
    // Two shapes: one under a block of oneDNN's layout, one over several, and a stacked-style key.
    const std::vector<std::pair<std::string, Layer>> layers{{"a.q+a.k+a.v", random_layer(96, 64, 1)},
                                                            {"b.down", random_layer(40, 300, 2)}};
    const std::string path = write_file(layers);
    const PackedWeights packed(path);
    EXPECT_EQ(packed.size(), 2u);
    for (const auto& [key, l] : layers) {
        const PrepackedInt8* p = packed.find(key, l.scale);
        ASSERT_NE(p, nullptr) << key;
        EXPECT_EQ(p->layout, int8_weight_layout(l.weight.dim(1), l.weight.dim(0)));
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p->data) % 64, 0u);
        const Linear stored(*p, l.weight.dim(1), l.weight.dim(0), l.scale, nullptr);
        const Linear fresh(l.weight, &l.scale, nullptr, Compute::Int8);
        for (int64_t rows : {1, 7, 33}) EXPECT_TRUE(dtest::all_equal(outputs(stored, rows), outputs(fresh, rows))) << key;
    }
    // Other scales (the weights quantized again) or another name: not this file's layer.
    Tensor other = layers[1].second.scale.clone();
    other.data<float>()[3] *= 2.f;
    EXPECT_EQ(packed.find("b.down", other), nullptr);
    EXPECT_EQ(packed.find("b.up", layers[1].second.scale), nullptr);
    // A layout that is not this machine's is refused by the layer, not misread.
    PrepackedInt8 foreign = *packed.find("b.down", layers[1].second.scale);
    foreign.layout += " (another CPU)";
    EXPECT_THROW(Linear(foreign, 300, 40, layers[1].second.scale, nullptr), Error);
}

TEST(PackedWeights, DamagedFilesAreRefusedByName) {
    const std::string path = write_file({{"x", random_layer(32, 64, 3)}});
    const std::string good = read_bytes(path);
    const auto refused = [&](const std::string& bytes, const char* why) {
        write_bytes(path, bytes);
        try {
            PackedWeights p(path);
            ADD_FAILURE() << why << ": accepted";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("model.packed"), std::string::npos) << why << ": " << e.what();
        }
    };
    refused(good.substr(0, good.size() - 5), "truncated");
    refused(good.substr(0, 10), "a stub");
    refused("", "empty");
    std::string b = good;
    b[0] = 'X';
    refused(b, "bad magic");
    b = good;
    b[b.size() - 24] ^= 0x40;  // the index offset
    refused(b, "index offset");
    // The index's own numbers pointing outside the data.
    b = good;
    const size_t at = b.find("\"offset\":");
    ASSERT_NE(at, std::string::npos);
    b.replace(at, 9, "\"offset\":9");  // prepends a digit: far past the end
    refused(b, "layer offset");
    b = good;
    const size_t colsum = b.find("\"colsum\":");
    b.replace(colsum, 9, "\"colsum\":9");
    refused(b, "column sums offset");
    b = good;
    b[b.find("\"layers\"") + 1] = 'X';
    refused(b, "no layers");
}

TEST(PackedWeights, AnUnfinishedWriterLeavesNothing) {
    const std::string path = dtest::temp_dir() + "/unfinished.packed";
    {
        PackedWeightsWriter w(path);
        const Layer l = random_layer(16, 16, 4);
        const Linear lin(l.weight, &l.scale, nullptr, Compute::Int8);
        w.add("x", lin.prepacked_int8(), 16, l.scale);
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path + ".tmp"));
}
