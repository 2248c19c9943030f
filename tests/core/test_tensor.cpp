#include <gtest/gtest.h>

#include "core/error.h"
#include "core/tensor.h"

using namespace dimple;

TEST(Tensor, ShapeStridesAndViews) {
    Tensor t = Tensor::f32({2, 3, 4});
    EXPECT_EQ(t.numel(), 24);
    EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
    for (int i = 0; i < 24; ++i) t.data<float>()[i] = float(i);
    Tensor rows = t.slice_rows(1, 2);
    EXPECT_EQ(rows.shape(), (Shape{1, 3, 4}));
    EXPECT_EQ(rows.data<float>()[0], 12.f);
    Tensor r = t.reshape({6, 4});
    EXPECT_EQ(r.row(5)[3], 23.f);
    EXPECT_THROW(t.reshape({5, 5}), Error);
    EXPECT_THROW(t.slice_rows(1, 3), Error);
    EXPECT_EQ(t.slice_rows(2, 2).numel(), 0);
}

TEST(Tensor, ConvertsToF32) {
    Tensor b(DType::BF16, {3});
    b.data<uint16_t>()[0] = f32_to_bf16(1.5f);
    b.data<uint16_t>()[1] = f32_to_bf16(-2.0f);
    b.data<uint16_t>()[2] = f32_to_bf16(0.0f);
    Tensor f = b.to_f32();
    EXPECT_EQ(f.dtype(), DType::F32);
    EXPECT_EQ(f.data<float>()[0], 1.5f);
    EXPECT_EQ(f.data<float>()[1], -2.0f);
}

TEST(Tensor, ViewMustFitItsStorage) {
    auto storage = Storage::allocate(16);
    EXPECT_NO_THROW(Tensor(DType::F32, {4}, storage, 0));
    EXPECT_THROW(Tensor(DType::F32, {4}, storage, 4), Error);
}

// An allocation that cannot be satisfied is a clear error, not std::bad_alloc. (Not under
// AddressSanitizer, whose allocator aborts on absurd sizes by design.)
#if !defined(__SANITIZE_ADDRESS__)
TEST(Tensor, OutOfMemoryIsAClearError) {
    try {
        Tensor t(DType::U8, {int64_t(1) << 46});  // 64 TiB
        FAIL() << "allocated 64 TiB";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("out of memory: cannot allocate 64.00 TiB"), std::string::npos) << e.what();
    }
}
#endif

TEST(Tensor, ConcatRowsStacksAlongTheFirstDimension) {
    const Tensor a = Tensor::from(std::vector<float>{1, 2, 3, 4}, {2, 2}), b = Tensor::from(std::vector<float>{5, 6}, {1, 2});
    const Tensor c = Tensor::concat_rows({a, b});
    ASSERT_EQ(c.shape(), (Shape{3, 2}));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(c.data<float>()[i], float(i + 1));
    EXPECT_THROW(Tensor::concat_rows({a, Tensor::f32({1, 3})}), Error);
    EXPECT_THROW(Tensor::concat_rows({a, Tensor(DType::BF16, {1, 2})}), Error);
}
