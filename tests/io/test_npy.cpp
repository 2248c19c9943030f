#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;

TEST(Npy, RoundTripsF32AndI64) {
    const std::string dir = dtest::temp_dir();
    Tensor a = Tensor::f32({2, 3});
    for (int i = 0; i < 6; ++i) a.data<float>()[i] = float(i) * 0.5f;
    Tensor b(DType::I64, {4});
    for (int i = 0; i < 4; ++i) b.data<int64_t>()[i] = -i;
    write_npy(dir + "/a.npy", a);
    write_npy(dir + "/b.npy", b);
    EXPECT_TRUE(dtest::all_equal(read_npy(dir + "/a.npy"), a));
    EXPECT_TRUE(dtest::all_equal(read_npy(dir + "/b.npy"), b));
}

TEST(Npy, ReadsTheGoldens) {
    Tensor ids = read_npy(dtest::golden_dir() + "/text_input_ids.npy");
    EXPECT_EQ(ids.dtype(), DType::I64);
    EXPECT_EQ(ids.shape(), (Shape{1, 20}));
    EXPECT_EQ(ids.data<int64_t>()[0], 1823);
}

TEST(Npy, RejectsGarbage) {
    const std::string path = dtest::temp_dir() + "/x.npy";
    std::ofstream(path) << "hello";
    EXPECT_THROW(read_npy(path), Error);
    EXPECT_THROW(read_npy(path + ".missing"), Error);
}
