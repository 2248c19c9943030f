#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/error.h"
#include "io/safetensors.h"
#include "testing.h"

using namespace dimple;

namespace {

Tensor random_f32(Shape shape, uint32_t seed) {
    Tensor t(DType::F32, std::move(shape));
    std::mt19937 rng(seed);
    std::normal_distribution<float> d;
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
    return t;
}

std::string write_file(const std::string& bytes) {
    const std::string path = dtest::temp_dir() + "/t.safetensors";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string header_bytes(const std::string& json, size_t data_bytes) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((json.size() >> (8 * i)) & 0xff);
    return out + json + std::string(data_bytes, '\0');
}

// The message of the Error that opening `bytes` as a safetensors file raises.
std::string open_error(const std::string& bytes) {
    try {
        SafetensorsFile f(write_file(bytes));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Safetensors, RoundTripsTensorsOfEveryFloatType) {
    Tensor a = random_f32({3, 5}, 1);
    Tensor b(DType::BF16, {4});
    Tensor c(DType::F16, {2, 2});
    for (int i = 0; i < 4; ++i) b.data<uint16_t>()[i] = f32_to_bf16(float(i) - 1.5f);
    for (int i = 0; i < 4; ++i) c.data<uint16_t>()[i] = f32_to_f16(float(i) * 0.25f);
    const std::string path = write_file(serialize_safetensors({{"a", a}, {"b", b}, {"c", c}}));
    SafetensorsFile f(path);
    ASSERT_EQ(f.header().tensors.size(), 3u);
    for (const auto& e : f.header().tensors) {
        Tensor v = f.view(e).to_f32();
        if (e.name == "a") {
            EXPECT_TRUE(dtest::all_equal(v, a));
        } else if (e.name == "b") {
            EXPECT_EQ(v.data<float>()[3], 1.5f);
        } else {
            EXPECT_EQ(v.data<float>()[2], 0.5f);
        }
    }
}

TEST(Safetensors, TruncatedFileIsAClearError) {
    const std::string good = serialize_safetensors({{"w", random_f32({16, 16}, 2)}});
    EXPECT_NE(open_error(good.substr(0, 5)).find("too small"), std::string::npos);
    EXPECT_NE(open_error(good.substr(0, 40)).find("past the end"), std::string::npos);
    const std::string msg = open_error(good.substr(0, good.size() - 10));
    EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("past the data section"), std::string::npos) << msg;
}

TEST(Safetensors, BadHeadersAreClearErrors) {
    EXPECT_NE(open_error(header_bytes("{not json", 0)).find("not valid JSON"), std::string::npos);
    EXPECT_NE(open_error(header_bytes("[1,2]", 0)).find("not a JSON object"), std::string::npos);
    EXPECT_NE(open_error(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}").find("implausible"),
              std::string::npos);
    const std::string no_dtype = R"({"w":{"shape":[2],"data_offsets":[0,8]}})";
    EXPECT_NE(open_error(header_bytes(no_dtype, 8)).find("missing dtype"), std::string::npos);
    const std::string neg = R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})";
    EXPECT_NE(open_error(header_bytes(neg, 8)).find("negative"), std::string::npos);
}

TEST(Safetensors, WrongDtypeIsAClearError) {
    const std::string f64 = R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
    EXPECT_NE(open_error(header_bytes(f64, 16)).find("unsupported dtype F64"), std::string::npos);
    // A dtype whose element size disagrees with the byte range.
    const std::string size = R"({"w":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})";
    EXPECT_NE(open_error(header_bytes(size, 16)).find("does not match"), std::string::npos);
}

TEST(Safetensors, LyingOffsetsAreClearErrors) {
    const std::string past = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})";
    EXPECT_NE(open_error(header_bytes(past, 16)).find("past the data section"), std::string::npos);
    const std::string rev = R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})";
    EXPECT_NE(open_error(header_bytes(rev, 16)).find("reversed"), std::string::npos);
    const std::string overlap =
        R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
    EXPECT_NE(open_error(header_bytes(overlap, 16)).find("overlap"), std::string::npos);
}

TEST(Safetensors, MissingFileIsAClearError) {
    try {
        SafetensorsFile f("/nonexistent/model.safetensors");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos);
    }
}
