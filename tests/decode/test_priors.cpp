#include <gtest/gtest.h>

#include "core/error.h"
#include "decode/priors.h"

using namespace dimple;

namespace {

// A stand-in encoder: one id per byte.
std::vector<int32_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST(Priors, TemplateFixesLiteralsAroundMasks) {
    const auto pieces = parse_answer_template(R"({"a": <mask:3>, "b": <mask>}\<)");
    ASSERT_EQ(pieces.size(), 5u);
    EXPECT_EQ(pieces[0].text, "{\"a\": ");
    EXPECT_EQ(pieces[1].masks, 3);
    EXPECT_EQ(pieces[4].text, "}<");
    const auto fixed = template_priors(pieces, bytes, 32);
    EXPECT_EQ(fixed.at(0), '{');
    EXPECT_EQ(fixed.count(6), 0u);  // masks at 6, 7, 8
    EXPECT_EQ(fixed.count(8), 0u);
    EXPECT_EQ(fixed.at(9), ',');
    EXPECT_EQ(fixed.size(), size_t(6 + 7 + 2));
}

TEST(Priors, MalformedTemplatesAreErrors) {
    EXPECT_THROW(parse_answer_template("x <mask:abc>"), Error);
    EXPECT_THROW(parse_answer_template("x <mask:0>"), Error);
    EXPECT_THROW(parse_answer_template("x <mask:3"), Error);
    EXPECT_THROW(parse_answer_template("<maskx>"), Error);
    EXPECT_THROW(template_priors(parse_answer_template("<mask:10>abc"), bytes, 12), Error);
}

TEST(Priors, LengthPriorEndsWithEosThenPad) {
    std::map<int64_t, int64_t> fixed;
    add_length_prior(fixed, 10, 16, 2002, 2000);
    EXPECT_EQ(fixed.at(10), 2002);
    for (int p = 11; p < 16; ++p) EXPECT_EQ(fixed.at(p), 2000);
    EXPECT_EQ(fixed.size(), 6u);
    EXPECT_THROW(add_length_prior(fixed, 16, 16, 2002, 2000), Error);
}

TEST(Priors, FixedIds) {
    const auto f = parse_fixed_ids("0:123,5:456,15:2002");
    EXPECT_EQ(f.at(5), 456);
    EXPECT_THROW(parse_fixed_ids("0:1,x"), Error);
    EXPECT_THROW(parse_fixed_ids("3-4"), Error);
}
