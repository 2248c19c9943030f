// The Qwen2 split on hand-checked cases, including the characters where Hugging Face (whose
// Oniguruma regex dimple follows) and the JavaScript reference disagree, which the parity corpus
// therefore leaves out.
#include <gtest/gtest.h>

#include "text/pretokenizer.h"

using namespace dimple::text;

namespace {

std::vector<std::string> split(std::string_view s) {
    static const PreTokenizer p;
    Pieces pieces;
    p.split(s, true, pieces);
    return {pieces.views.begin(), pieces.views.end()};
}

using V = std::vector<std::string>;

}  // namespace

TEST(PreTokenizer, SplitsLikeTheQwen2Regex) {
    EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
    EXPECT_EQ(split("I'M here, we'll"), (V{"I", "'M", " here", ",", " we", "'ll"}));
    EXPECT_EQ(split("a  b"), (V{"a", " ", " b"}));  // the last space goes with the word
    EXPECT_EQ(split("a\n\n b"), (V{"a", "\n\n", " b"}));
    EXPECT_EQ(split("x = 12345;"), (V{"x", " =", " ", "1", "2", "3", "4", "5", ";"}));
    EXPECT_EQ(split("end.\r\n\tnext  "), (V{"end", ".\r\n", "\tnext", "  "}));
    EXPECT_EQ(split("$hello"), (V{"$hello"}));  // one leading non-letter joins the letters
    EXPECT_EQ(split("\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C"), (V{"\xE4\xBD\xA0\xE5\xA5\xBD", "\xEF\xBC\x8C"}));
    EXPECT_TRUE(split("").empty());
}

TEST(PreTokenizer, WhitespaceIsUnicodeWhiteSpaceAsInHuggingFace) {
    // U+0085 (NEL) is White_Space: a run of two leaves its last one to the word.
    EXPECT_EQ(split("x\xC2\x85\xC2\x85y"), (V{"x", "\xC2\x85", "\xC2\x85y"}));
    // U+FEFF is not (JavaScript's \s takes it): it is punctuation-like here.
    EXPECT_EQ(split("x\xEF\xBB\xBF\xEF\xBB\xBFy"), (V{"x", "\xEF\xBB\xBF\xEF\xBB\xBF", "y"}));
    // U+180E is not either (PCRE2's own \s would take it).
    EXPECT_EQ(split("x\xE1\xA0\x8E\xE1\xA0\x8Ey"), (V{"x", "\xE1\xA0\x8E\xE1\xA0\x8E", "y"}));
    // U+3000 and U+00A0 are.
    EXPECT_EQ(split("a\xE3\x80\x80\xE3\x80\x80" "b"), (V{"a", "\xE3\x80\x80", "\xE3\x80\x80" "b"}));
}

TEST(PreTokenizer, ContractionsAreCaseInsensitiveWithUnicodeFolding) {
    EXPECT_EQ(split("IT'S"), (V{"IT", "'S"}));
    EXPECT_EQ(split("it'Ll"), (V{"it", "'Ll"}));
    // (?i) folds U+017F (long s) to s, as Oniguruma does; JavaScript's rewrite of the group does not.
    EXPECT_EQ(split("'\xC5\xBFt"), (V{"'\xC5\xBF", "t"}));
}

TEST(PreTokenizer, LongRunsDoNotExhaustTheMatcher) {
    const std::string spaces(1 << 20, ' ');
    EXPECT_EQ(split("a" + spaces + "b").size(), 3u);
    EXPECT_EQ(split(std::string(1 << 20, 'z')).size(), 1u);
}
