#include <gtest/gtest.h>

#include "text/byte_level.h"
#include "text/utf8.h"

using namespace dimple::text;

namespace {

const std::string R(kReplacementChar);

}  // namespace

TEST(Utf8, ValidTextPassesThrough) {
    for (std::string s : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBF"}) {
        EXPECT_TRUE(is_valid_utf8(s)) << s;
        EXPECT_EQ(utf8_lossy(s), s);
    }
}

TEST(Utf8, EachMaximalInvalidSubsequenceBecomesOneReplacement) {
    // The cases of Unicode's "U+FFFD substitution of maximal subparts" (also WHATWG's decoder).
    EXPECT_EQ(utf8_lossy("a\xFF" "b"), "a" + R + "b");
    EXPECT_EQ(utf8_lossy("\xC0\xAF"), R + R);                      // overlong lead bytes
    EXPECT_EQ(utf8_lossy("\xE2\x82"), R);                          // truncated at the end
    EXPECT_EQ(utf8_lossy("\xE2\x82" "A"), R + "A");                 // cut by an ASCII byte
    EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), R + R + R);              // a surrogate
    EXPECT_EQ(utf8_lossy("\xF4\x90\x80\x80"), R + R + R + R);      // above U+10FFFF
    EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), R);                      // 3 of 4 bytes
    EXPECT_EQ(utf8_lossy("\x80\x80"), R + R);                      // stray continuations
    EXPECT_EQ(utf8_lossy("\xE0\x80\x80"), R + R + R);              // overlong 3-byte
    EXPECT_FALSE(is_valid_utf8("\xC3"));
}

TEST(Utf8, StreamingHoldsBackOnlyACompletableTail) {
    std::string out;
    EXPECT_EQ(append_utf8_lossy("ab\xE2\x82", out, false), 2u);
    EXPECT_EQ(out, "ab");
    out.clear();
    EXPECT_EQ(append_utf8_lossy("\xE2\x82\xAC", out, false), 3u);
    EXPECT_EQ(out, "\xE2\x82\xAC");
    out.clear();
    EXPECT_EQ(append_utf8_lossy("\xE2\x41", out, false), 2u);  // not completable: replaced now
    EXPECT_EQ(out, R + "A");
    out.clear();
    EXPECT_EQ(append_utf8_lossy("\xE2\x82", out, true), 2u);
    EXPECT_EQ(out, R);
}

TEST(ByteLevel, MapsBytesLikeGpt2) {
    EXPECT_EQ(bytes_to_byte_level(" hello\n"), "\xC4\xA0hello\xC4\x8A");  // "Ġhello Ċ"
    EXPECT_EQ(byte_to_unicode('!'), U'!');
    EXPECT_EQ(byte_to_unicode(0x00), char32_t(0x100));
    EXPECT_EQ(byte_to_unicode(0xAD), char32_t(0x143));  // the last of the 68 remapped bytes
    std::string all, back;
    for (int b = 0; b < 256; ++b) all += char(b);
    ASSERT_TRUE(byte_level_to_bytes(bytes_to_byte_level(all), back));
    EXPECT_EQ(back, all);
    EXPECT_FALSE(byte_level_to_bytes(" ", back));  // a raw space is not in the alphabet
    EXPECT_FALSE(byte_level_to_bytes("\xE2\x82\xAC", back));
}
