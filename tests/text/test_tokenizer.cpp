// The tokenizer on small hand-made vocabularies (no npm needed): merge order, added tokens,
// normalization, decoding and the streaming decoder, and the errors of malformed folders.
#include <gtest/gtest.h>

#include <malloc.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "testing.h"
#include "text/byte_level.h"
#include "text/pretokenizer.h"
#include "text/tokenizer.h"

using namespace dimple;
using namespace dimple::text;
using nlohmann::json;

namespace {

struct Added {
    int id;
    std::string content;
    bool special = true;
};

// A tokenizer.json whose ids 0..255 are the byte tokens (id = byte value), followed by one token
// per merge, in order; merges are given in raw bytes. Added tokens take ids from 1000.
std::string tiny_tokenizer(const std::vector<std::pair<std::string, std::string>>& merges,
                           const std::vector<Added>& added = {}) {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[bytes_to_byte_level(std::string(1, char(b)))] = b;
    json m = json::array();
    for (auto& [l, r] : merges) {
        const std::string lt = bytes_to_byte_level(l), rt = bytes_to_byte_level(r);
        if (!vocab.contains(lt + rt)) vocab[lt + rt] = int(vocab.size());
        m.push_back({lt, rt});
    }
    json a = json::array();
    for (const Added& t : added)
        a.push_back({{"id", t.id}, {"content", t.content}, {"special", t.special}, {"normalized", false},
                     {"lstrip", false}, {"rstrip", false}, {"single_word", false}});
    const json j = {{"added_tokens", a},
                    {"normalizer", {{"type", "NFC"}}},
                    {"pre_tokenizer",
                     {{"type", "Sequence"},
                      {"pretokenizers",
                       {{{"type", "Split"}, {"pattern", {{"Regex", std::string(kQwen2Pattern)}}}, {"behavior", "Isolated"}},
                        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
                    {"decoder", {{"type", "ByteLevel"}}},
                    {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}}}};
    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    return dir;
}

std::vector<int32_t> ids(std::initializer_list<int32_t> l) { return l; }

std::string expect_load_error(const std::string& dir) {
    try {
        Tokenizer::load(dir);
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "loading " << dir << " did not fail";
    return "";
}

}  // namespace

TEST(Bpe, AppliesTheLowestRankFirst) {
    // ab = 256, bc = 257: "abc" has both pairs; the earlier merge (ab) wins.
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({{"a", "b"}, {"b", "c"}}));
    EXPECT_EQ(t.encode("abc"), ids({256, 'c'}));
    const Tokenizer u = Tokenizer::load(tiny_tokenizer({{"b", "c"}, {"a", "b"}}));
    EXPECT_EQ(u.encode("abc"), ids({'a', 256}));
}

TEST(Bpe, RepeatedPairsMergeLeftmostFirstAndMergesChain) {
    // aa = 256, aaaa = 257.
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({{"a", "a"}, {"aa", "aa"}}));
    EXPECT_EQ(t.encode("aaa"), ids({256, 'a'}));
    EXPECT_EQ(t.encode("aaaaa"), ids({257, 'a'}));
    EXPECT_EQ(t.encode("a"), ids({'a'}));
    // A long piece (one regex match) stays exact: 10000 letters = 2500 x "aaaa".
    EXPECT_EQ(t.encode(std::string(10001, 'a')).size(), 2501u);
}

#if !defined(__SANITIZE_ADDRESS__)  // AddressSanitizer's allocator does not report to mallinfo2
// The buffers a thread keeps between pieces are for short pieces: a long one's are freed when it is
// encoded (a 10 MB piece used to leave 300 MB with each of a server's threads).
TEST(Bpe, ALongPieceLeavesNoBuffersBehind) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({{"a", "a"}, {"aa", "aa"}}));
    t.encode("aaaa");  // the thread's buffers for short pieces exist
    auto in_use = [] {
        const struct mallinfo2 m = mallinfo2();
        return m.uordblks + m.hblkhd;
    };
    const size_t before = in_use();
    EXPECT_EQ(t.encode(std::string(size_t(1) << 20, 'a')).size(), size_t(1) << 18);
    EXPECT_LT(in_use(), before + (size_t(1) << 20));
}
#endif

// With a limit, encoding stops once the text is known to take more tokens, and a text too long
// for the limit whatever its tokens is refused from its length before any encoding.
TEST(Tokenizer, AnEncodingWithALimitStopsPastIt) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({{"a", "a"}, {"aa", "aa"}}, {{1000, "<|x|>"}}));
    const std::string text = "aaaa b<|x|>c aaaaaa dd <|x|> eee";
    const std::vector<int32_t> all = t.encode(text);
    for (size_t limit = 0; limit < all.size() + 3; ++limit) {
        const std::vector<int32_t> got = t.encode(text, limit);
        if (limit >= all.size())
            EXPECT_EQ(got, all) << limit;
        else
            EXPECT_GT(got.size(), limit) << limit;
    }
    EXPECT_EQ(t.encode(std::string(size_t(50) << 20, 'a'), 100).size(), 101u);
    EXPECT_EQ(t.encode(std::string(3000, 'a'), 100).size(), 101u);
}

TEST(Bpe, MergesDoNotCrossPreTokenizedPieces) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({{"a", " "}, {" ", "b"}}));
    EXPECT_EQ(t.encode("a b"), ids({'a', 257}));  // pieces "a", " b"
}

TEST(Tokenizer, AddedTokensMatchLongestFirstAndAreNeverSplit) {
    const Tokenizer t = Tokenizer::load(
        tiny_tokenizer({{"<", "|"}}, {{1000, "<|a|>"}, {1001, "<|a|><|b|>"}, {1002, "<|b|>", false}}));
    EXPECT_EQ(t.encode("<|a|><|b|>"), ids({1001}));
    EXPECT_EQ(t.encode("x<|a|><|a|>y"), ids({'x', 1000, 1000, 'y'}));
    EXPECT_EQ(t.encode("<|b|> <|a|"), ids({1002, ' ', 256, 'a', '|'}));
    EXPECT_EQ(t.token_id("<|a|><|b|>"), 1001);
    EXPECT_EQ(t.token_id("<|zz|>"), -1);
    EXPECT_TRUE(t.is_special(1000));
    EXPECT_FALSE(t.is_special(1002));
    EXPECT_EQ(t.decode(ids({'x', 1000, 1002}), true), "x<|b|>");  // only special ones are skipped
    EXPECT_EQ(t.vocab_size(), 1003);
    EXPECT_EQ(t.token_text(1000), "<|a|>");
    EXPECT_EQ(t.token_text(500), "");  // a gap in the ids
}

TEST(Tokenizer, NormalizesToNfcButNotAddedTokens) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({}, {{1000, "e\xCC\x81"}}));
    // "é" decomposed is an added token as written; elsewhere text is composed first.
    EXPECT_EQ(t.encode("e\xCC\x81"), ids({1000}));
    EXPECT_EQ(t.encode("xe\xCC\x81"), ids({'x', 1000}));
    EXPECT_EQ(t.decode(t.encode("A\xCC\x8A!")), "\xC3\x85!");  // A + ring -> Å
}

TEST(Tokenizer, InvalidUtf8IsRepairedWithReplacementCharacters) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({}));
    EXPECT_EQ(t.encode("a\xFF" "b"), t.encode("a\xEF\xBF\xBD" "b"));
    EXPECT_EQ(t.encode("\xE2\x82"), t.encode("\xEF\xBF\xBD"));
    EXPECT_EQ(t.decode(t.encode("x\xC0\xAFy")), "x\xEF\xBF\xBD\xEF\xBF\xBDy");
    EXPECT_TRUE(t.encode("").empty());
}

TEST(Tokenizer, DecodesBytesAcrossTokensAndReplacesBrokenSequences) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({}));
    EXPECT_EQ(t.decode(ids({0xE2, 0x82, 0xAC})), "\xE2\x82\xAC");
    EXPECT_EQ(t.decode(ids({0xE2, 0x82, 'a'})), "\xEF\xBF\xBD" "a");
    EXPECT_THROW(t.decode(ids({-1})), Error);
    EXPECT_THROW(t.decode(ids({256})), Error);
}

TEST(StreamDecoder, HoldsBackAnIncompleteCharacterUntilItIsComplete) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({}, {{1000, "<s>"}}));
    StreamDecoder d(t);
    EXPECT_EQ(d.feed('a'), "a");
    EXPECT_EQ(d.feed(0xE2), "");
    EXPECT_EQ(d.feed(0x82), "");
    EXPECT_EQ(d.feed(0xAC), "\xE2\x82\xAC");
    EXPECT_EQ(d.feed(0xF0), "");
    EXPECT_EQ(d.feed(1000), "\xEF\xBF\xBD<s>");  // a special token cuts the sequence
    EXPECT_EQ(d.feed(0xC3), "");
    EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");
    StreamDecoder skip(t, true);
    EXPECT_EQ(skip.feed(ids({'a', 1000, 'b'})), "ab");
}

TEST(StreamDecoder, PiecesJoinToTheWholeDecode) {
    const Tokenizer t = Tokenizer::load(tiny_tokenizer({{"\xE4", "\xBD"}}));
    const std::string text = "h\xC3\xA9llo \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80!";
    const std::vector<int32_t> all = t.encode(text);
    StreamDecoder d(t);
    std::string joined;
    for (int32_t id : all) joined += d.feed(id);
    joined += d.finish();
    EXPECT_EQ(joined, t.decode(all));
    EXPECT_EQ(joined, text);
}

TEST(TokenizerFiles, ReadsTheVocabAndMergesForm) {
    const std::string dir = dtest::temp_dir();
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[bytes_to_byte_level(std::string(1, char(b)))] = b;
    vocab["\xC4\xA0t"] = 256;  // "Ġt"
    std::ofstream(dir + "/vocab.json") << vocab.dump();
    std::ofstream(dir + "/merges.txt") << "#version: 0.2\n\xC4\xA0 t\n";
    std::ofstream(dir + "/tokenizer_config.json")
        << R"({"added_tokens_decoder": {"300": {"content": "<|mask|>", "special": true}}})";
    const Tokenizer t = Tokenizer::load(dir);
    EXPECT_EQ(t.encode("a t<|mask|>"), ids({'a', 256, 300}));
    EXPECT_EQ(t.vocab_size(), 301);
}

TEST(TokenizerFiles, MalformedFoldersFailWithTheFileNamed) {
    EXPECT_NE(expect_load_error(dtest::temp_dir()).find("no tokenizer here"), std::string::npos);

    // A step dimple does not support is refused by name, not tokenized differently.
    std::string dir = tiny_tokenizer({});
    json j = json::parse(std::ifstream(dir + "/tokenizer.json"));
    j["normalizer"] = {{"type", "BertNormalizer"}};
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    EXPECT_NE(expect_load_error(dir).find("the normalizer \"BertNormalizer\" is not supported"), std::string::npos);
    j["normalizer"] = nullptr;
    j["pre_tokenizer"]["pretokenizers"][0] = {{"type", "UnicodeScripts"}};
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    EXPECT_NE(expect_load_error(dir).find("the pre-tokenizer \"UnicodeScripts\" is not supported"), std::string::npos);
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "[a&&b]"}}}, {"behavior", "Isolated"}};
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    EXPECT_NE(expect_load_error(dir).find("class intersection"), std::string::npos);
    j["pre_tokenizer"] = nullptr;
    j["decoder"] = {{"type", "WordPiece"}};
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    EXPECT_NE(expect_load_error(dir).find("the decoder \"WordPiece\" is not supported"), std::string::npos);
    j["decoder"] = nullptr;
    j["model"]["type"] = "Unigram";
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    EXPECT_NE(expect_load_error(dir).find("the model \"Unigram\" is not supported (only BPE)"), std::string::npos);

    dir = tiny_tokenizer({{"a", "b"}});
    j = json::parse(std::ifstream(dir + "/tokenizer.json"));
    j["model"]["merges"].push_back({"q", "zz"});
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    EXPECT_NE(expect_load_error(dir).find("merge \"q zz\""), std::string::npos);

    dir = tiny_tokenizer({}, {{1000, "<x>"}});
    std::ofstream(dir + "/tokenizer_config.json")
        << R"({"added_tokens_decoder": {"1000": {"content": "<y>"}}})";
    EXPECT_NE(expect_load_error(dir).find("added token 1000 is \"<y>\" here"), std::string::npos);


    std::ofstream(dir + "/tokenizer.json") << "{\"model\": ";
    EXPECT_NE(expect_load_error(dir).find("tokenizer.json: not valid JSON"), std::string::npos);
}
