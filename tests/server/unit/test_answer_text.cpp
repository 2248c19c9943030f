// The answer's text as it becomes final: only a committed prefix is released, whole UTF-8
// characters only, a possible start of a stop string is held back, and the pieces add up to the
// whole text, which equals the engine's answer text.
#include <gtest/gtest.h>

#include "server/answer_text.h"
#include "server_fixture.h"
#include "text/utf8.h"

using namespace dimple;
using namespace dimple::server;

namespace {

std::vector<int64_t> encode(const std::string& s) {
    const std::vector<int32_t> ids = stest::engine().tokenizer().encode(s);
    return {ids.begin(), ids.end()};
}

const SpecialIds& ids() { return stest::engine().config().ids; }

// Unmasks the answer one position at a time in the given order, collecting what each step releases.
std::vector<std::string> reveal(AnswerText& t, const std::vector<int64_t>& answer, const std::vector<size_t>& order) {
    std::vector<int64_t> canvas(answer.size(), ids().mask);
    std::vector<std::string> pieces;
    for (size_t k = 0; k < order.size(); ++k) {
        canvas[order[k]] = answer[order[k]];
        pieces.push_back(k + 1 == order.size() ? t.finish(canvas) : t.update(canvas));
    }
    return pieces;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& p : v) s += p;
    return s;
}

}  // namespace

TEST(AnswerText, ReleasesTheCommittedPrefixOnly) {
    std::vector<int64_t> answer = encode("Hello world, a fine day.");
    const size_t n = answer.size();
    answer.push_back(ids().eos);
    answer.push_back(ids().pad);
    AnswerText t(stest::engine().tokenizer(), ids(), {});
    std::vector<size_t> order;
    for (size_t i = answer.size(); i-- > 0;) order.push_back(i);  // right to left: nothing until the end
    const std::vector<std::string> pieces = reveal(t, answer, order);
    for (size_t k = 0; k + 1 < pieces.size(); ++k) EXPECT_EQ(pieces[k], "") << k;
    EXPECT_EQ(pieces.back(), "Hello world, a fine day.");
    EXPECT_EQ(t.text(), stest::engine().answer_text(answer));
    EXPECT_STREQ(t.finish_reason(), "stop");
    EXPECT_EQ(t.tokens(), int64_t(n));
}

TEST(AnswerText, HoldsBackIncompleteCharacters) {
    const std::string s = "Grüße, 世界! 🙂 ok";
    const std::vector<int64_t> answer = encode(s);
    AnswerText t(stest::engine().tokenizer(), ids(), {});
    std::vector<size_t> order(answer.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const std::vector<std::string> pieces = reveal(t, answer, order);
    for (const std::string& p : pieces) EXPECT_TRUE(text::is_valid_utf8(p)) << p;
    EXPECT_EQ(join(pieces), s);
    EXPECT_STREQ(t.finish_reason(), "length");  // no eos
}

TEST(AnswerText, StopStringsEndTheTextAndAreHeldBackUntilDecided) {
    const std::vector<int64_t> answer = encode("The cat sat on the mat. The end.");
    std::vector<size_t> order(answer.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    {
        AnswerText t(stest::engine().tokenizer(), ids(), {"mat.", "zzz"});
        const std::vector<std::string> pieces = reveal(t, answer, order);
        EXPECT_EQ(join(pieces), "The cat sat on the ");
        EXPECT_TRUE(t.ended());
        EXPECT_STREQ(t.finish_reason(), "stop");
        EXPECT_EQ(t.text(), "The cat sat on the ");
    }
    {
        // " the" could start "the moon": it is held back until " ma" proves it does not.
        const std::string stop = "the moon";
        AnswerText t(stest::engine().tokenizer(), ids(), {stop});
        const std::vector<std::string> pieces = reveal(t, answer, order);
        std::string released;
        for (size_t i = 0; i + 1 < pieces.size(); ++i) {
            released += pieces[i];
            for (size_t k = 1; k < stop.size() && k <= released.size(); ++k)
                EXPECT_NE(released.substr(released.size() - k), stop.substr(0, k)) << released;
        }
        released += pieces.back();
        EXPECT_EQ(released, "The cat sat on the mat. The end.");
        EXPECT_STREQ(t.finish_reason(), "length");
    }
}

// An answer that ends in padding without eos (the model may write pad where eos belongs) did not
// fill max_tokens: "stop"; "length" is for an answer with text in every position.
TEST(AnswerText, PaddingWithoutEosIsNotLength) {
    std::vector<int64_t> answer = encode("Hi");
    answer.insert(answer.end(), 5, ids().pad);
    AnswerText t(stest::engine().tokenizer(), ids(), {});
    std::vector<size_t> order(answer.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    EXPECT_EQ(join(reveal(t, answer, order)), "Hi");
    EXPECT_STREQ(t.finish_reason(), "stop");
}
