// Id-for-id parity with the JavaScript port of Hugging Face's tokenizers on the real Qwen
// tokenizer, in both on-disk forms, over a generated corpus of 20,000 strings; and decoding of
// random id sequences (broken UTF-8 included) against the same reference.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "corpus.h"
#include "reference.h"
#include "testing.h"
#include "text/nfc.h"
#include "text/pretokenizer.h"
#include "text/tokenizer.h"

using namespace dimple::text;
using nlohmann::json;

namespace {

constexpr size_t kCorpusSize = 20000;
constexpr size_t kDecodeCases = 2000;

// Random id sequences over what both forms share (ids below 151665): ordinary tokens, specials,
// and single bytes that leave UTF-8 sequences broken or unfinished.
std::vector<std::vector<int32_t>> decode_cases(const Tokenizer& t, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<int32_t> bytes;
    for (int b = 0x80; b < 0x100; ++b) bytes.push_back(t.encode(std::string(1, char(b))).at(0));
    auto below = [&](size_t n) { return size_t(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
    std::vector<std::vector<int32_t>> cases;
    for (size_t i = 0; i < kDecodeCases; ++i) {
        std::vector<int32_t> ids(1 + below(24));
        for (int32_t& id : ids) {
            const size_t r = below(10);
            id = r < 5 ? int32_t(below(151643)) : r < 9 ? bytes[below(bytes.size())] : int32_t(151643 + below(22));
        }
        cases.push_back(std::move(ids));
    }
    return cases;
}

std::string show(const std::vector<int32_t>& v) { return json(v).dump(); }

}  // namespace

TEST(TokenizerParity, MatchesTheJavaScriptReferenceInBothForms) {
    DIMPLE_REQUIRE_NPM();
    const std::vector<std::string> dirs = {dtest::npm_tokenizer_dir(), dtest::dimple_tokenizer_dir()};
    const std::vector<std::string> form = {"tokenizer.json", "vocab.json + merges.txt (Dream's added tokens)"};
    std::vector<Tokenizer> toks;
    for (const std::string& d : dirs) toks.push_back(Tokenizer::load(d));

    // Every added token of either form appears embedded in the corpus, Dream's two included.
    std::vector<std::string> specials;
    for (const Tokenizer& t : toks)
        for (int32_t id = 151643; id < t.vocab_size(); ++id) specials.emplace_back(t.token_text(id));
    const std::vector<std::string> corpus = dtest::make_corpus(kCorpusSize, 20250611, specials);
    const auto cases = decode_cases(toks[0], 7);

    std::vector<json> requests(corpus.begin(), corpus.end());
    for (const auto& c : cases) requests.emplace_back(c);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<json> expected = dtest::run_reference(dirs, requests);
    const double js_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(expected.size(), requests.size());

    size_t bytes = 0;
    for (const std::string& s : corpus) bytes += s.size();
    for (size_t f = 0; f < toks.size(); ++f) {
        size_t id_mismatches = 0, roundtrip_failures = 0, decode_mismatches = 0;
        for (size_t i = 0; i < corpus.size(); ++i) {
            const std::vector<int32_t> ids = toks[f].encode(corpus[i]);
            const auto want = expected[i][f].get<std::vector<int32_t>>();
            if (ids != want && ++id_mismatches <= 5)
                ADD_FAILURE() << form[f] << ": string " << i << " " << json(corpus[i]).dump() << "\n  dimple "
                              << show(ids) << "\n  reference " << show(want);
            if (toks[f].decode(ids) != nfc(corpus[i]) && ++roundtrip_failures <= 5)
                ADD_FAILURE() << form[f] << ": decode(encode(s)) != NFC(s) for string " << i << " "
                              << json(corpus[i]).dump();
        }
        for (size_t k = 0; k < cases.size(); ++k) {
            const std::string got = toks[f].decode(cases[k]);
            const auto want = expected[corpus.size() + k][f].get<std::string>();
            if (got != want && ++decode_mismatches <= 5)
                ADD_FAILURE() << form[f] << ": decode " << show(cases[k]) << "\n  dimple " << json(got).dump()
                              << "\n  reference " << json(want).dump();
        }
        EXPECT_EQ(id_mismatches, 0u) << form[f];
        EXPECT_EQ(roundtrip_failures, 0u) << form[f];
        EXPECT_EQ(decode_mismatches, 0u) << form[f];
        std::printf("%s: %zu strings (%zu bytes), %zu id mismatches; %zu decodes, %zu mismatches\n",
                    form[f].c_str(), corpus.size(), bytes, id_mismatches, cases.size(), decode_mismatches);
    }
    std::printf("reference run: %.1f s\n", js_seconds);
}

TEST(TokenizerParity, BothFormsAgreeAndDreamTokensHaveTheirIds) {
    DIMPLE_REQUIRE_NPM();
    const Tokenizer fast = Tokenizer::load(dtest::npm_tokenizer_dir());
    const Tokenizer slow = Tokenizer::load(dtest::dimple_tokenizer_dir());
    EXPECT_EQ(fast.vocab_size(), 151669);  // Qwen3: 151643 + 26 added
    EXPECT_EQ(slow.vocab_size(), 151667);  // Qwen2.5: 151643 + 22, and Dream's 2
    EXPECT_EQ(slow.token_id("<|beginoftext|>"), 151665);
    EXPECT_EQ(slow.token_id("<|mask|>"), 151666);
    EXPECT_TRUE(slow.is_special(151666));
    EXPECT_EQ(slow.encode("a<|mask|><|mask|>b"), (std::vector<int32_t>{64, 151666, 151666, 65}));
    EXPECT_EQ(fast.token_id("<think>"), 151667);
    EXPECT_EQ(slow.token_id("<think>"), -1);
    for (int32_t id = 0; id < 151665; ++id) {
        ASSERT_EQ(fast.token_text(id), slow.token_text(id)) << id;
        ASSERT_EQ(fast.is_special(id), slow.is_special(id)) << id;
    }
    // Values from Qwen's documentation of the special tokens, and the spec (§1).
    EXPECT_EQ(slow.token_id("<|endoftext|>"), 151643);
    EXPECT_EQ(slow.token_id("<|im_start|>"), 151644);
    EXPECT_EQ(slow.token_id("<|im_end|>"), 151645);
    EXPECT_EQ(slow.token_id("<|vision_start|>"), 151652);
    EXPECT_EQ(slow.token_id("<|image_pad|>"), 151655);
    EXPECT_EQ(fast.encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
}
