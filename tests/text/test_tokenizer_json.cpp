// The steps of a tokenizer.json that the real files of the parity tests do not use, or use in one
// way only, on small hand-made pipelines with results worked out from Hugging Face's Rust code
// (tokenizers: normalizers, pre_tokenizers, models/bpe, decoders, added_vocabulary, processors).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "testing.h"
#include "text/byte_level.h"
#include "text/normalizer.h"
#include "text/pretokenizer.h"
#include "text/regex.h"
#include "text/tokenizer.h"

using namespace dimple;
using namespace dimple::text;
using nlohmann::json;

namespace {

using V = std::vector<std::string>;
using Ids = std::vector<int32_t>;
const std::string kMeta = "\xE2\x96\x81";  // U+2581

Tokenizer load(const json& j) {
    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    return Tokenizer::load(dir);
}

// A SentencePiece-style tokenizer: <unk> 0, <0x00>..<0xFF> 1..256, then `tokens` from 257 in order
// (each merge's result must be among them).
json char_bpe(const V& tokens, const std::vector<std::pair<std::string, std::string>>& merges) {
    json vocab = {{"<unk>", 0}};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = b + 1;
    }
    for (const std::string& t : tokens) vocab[t] = int(vocab.size());
    json m = json::array();
    for (auto& [l, r] : merges) m.push_back({l, r});
    return {{"model",
             {{"type", "BPE"},
              {"vocab", vocab},
              {"merges", m},
              {"byte_fallback", true},
              {"unk_token", "<unk>"},
              {"fuse_unk", true}}},
            {"normalizer", nullptr},
            {"pre_tokenizer", nullptr},
            {"decoder", nullptr},
            {"added_tokens", json::array()}};
}

V split(const json& pre, std::string_view text, bool at_origin = true) {
    Pieces p;
    PreTokenizer::from_json(pre, "test").split(text, at_origin, p);
    return {p.views.begin(), p.views.end()};
}

std::string normalize(const json& n, std::string_view text) { return Normalizer::from_json(n, "test").apply(text); }

std::string streamed(const Tokenizer& t, const Ids& ids) {
    StreamDecoder d(t);
    std::string out;
    for (int32_t id : ids) out += d.feed(id);
    return out + d.finish();
}

}  // namespace

TEST(TokenizerJson, SplitBehavesAsEachBehaviorSays) {
    auto with = [](const char* behavior, bool invert = false) {
        return json{{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
    };
    // Hugging Face's own example: "the-final--countdown".
    const std::string s = "the-final--countdown";
    EXPECT_EQ(split(with("Removed"), s), (V{"the", "final", "countdown"}));
    EXPECT_EQ(split(with("Isolated"), s), (V{"the", "-", "final", "-", "-", "countdown"}));
    EXPECT_EQ(split(with("MergedWithPrevious"), s), (V{"the-", "final-", "-", "countdown"}));
    EXPECT_EQ(split(with("MergedWithNext"), s), (V{"the", "-final", "-", "-countdown"}));
    EXPECT_EQ(split(with("Contiguous"), "a--b-"), (V{"a", "--", "b", "-"}));
    EXPECT_EQ(split(with("Removed", true), s), (V{"-", "-", "-"}));  // inverted: the matches are the text
    const json regex = {{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "MergedWithPrevious"}};
    EXPECT_EQ(split(regex, "a  b\tc"), (V{"a  ", "b\t", "c"}));
    EXPECT_THROW(split(with("Sideways"), s), Error);
}

TEST(TokenizerJson, OtherPreTokenizersSplitAsHuggingFaces) {
    EXPECT_EQ(split({{"type", "Digits"}, {"individual_digits", true}}, "a12b3"), (V{"a", "1", "2", "b", "3"}));
    EXPECT_EQ(split({{"type", "Digits"}, {"individual_digits", false}}, "a12b3"), (V{"a", "12", "b", "3"}));
    EXPECT_EQ(split({{"type", "WhitespaceSplit"}},
                    " a  b\xE3\x80\x80"
                    "c "),
              (V{"a", "b", "c"}));
    EXPECT_EQ(split({{"type", "Whitespace"}}, "Hey, friend!"), (V{"Hey", ",", "friend", "!"}));
    EXPECT_EQ(split({{"type", "Punctuation"}}, "a,b!?"), (V{"a", ",", "b", "!", "?"}));
    // ByteLevel with its own regex (GPT-2's) and a space before every piece.
    EXPECT_EQ(split({{"type", "ByteLevel"}, {"add_prefix_space", true}}, "Hello world"), (V{" Hello", " world"}));
    const json seq = {
        {"type", "Sequence"},
        {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "Digits"}, {"individual_digits", true}}}}};
    EXPECT_EQ(split(seq, "ab12 c"), (V{"ab", "1", "2", "c"}));
    const json after = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "ByteLevel"}}, {{"type", "Digits"}}}}};
    EXPECT_THROW(split(after, "x"), Error);  // ByteLevel must be last
}

TEST(TokenizerJson, MetaspaceReplacesSpacesPrependsAndSplits) {
    const json always = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "always"}, {"split", true}};
    EXPECT_EQ(split(always, "hi you"), (V{kMeta + "hi", kMeta + "you"}));
    EXPECT_EQ(split(always, " hi"), (V{kMeta + "hi"}));  // already starts with one
    EXPECT_EQ(split(always, "a  b"), (V{kMeta + "a", kMeta, kMeta + "b"}));
    json first = always;
    first["prepend_scheme"] = "first";
    EXPECT_EQ(split(first, "hi", true), (V{kMeta + "hi"}));
    EXPECT_EQ(split(first, "hi", false), (V{"hi"}));  // not the start of the input
    json whole = always;
    whole["split"] = false;
    EXPECT_EQ(split(whole, "hi you"), (V{kMeta + "hi" + kMeta + "you"}));
    json never = always;
    never["prepend_scheme"] = "never";
    EXPECT_EQ(split(never, "hi you"), (V{"hi", kMeta + "you"}));
    json legacy = {{"type", "Metaspace"}, {"replacement", kMeta}, {"add_prefix_space", false}};
    EXPECT_EQ(split(legacy, "hi"), (V{"hi"}));
}

TEST(TokenizerJson, MetaspaceTokenizerEncodesAndDecodesRoundTrip) {
    // Merges: i+▁ first, so that a piece holding "hi▁hi" would merge across the words.
    json j = char_bpe({kMeta, "h", "i", "i" + kMeta, kMeta + "h", kMeta + "hi", "<x>"},
                      {{"i", kMeta}, {kMeta, "h"}, {kMeta + "h", "i"}});
    const json meta = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "first"}, {"split", true}};
    j["pre_tokenizer"] = meta;
    j["decoder"] = meta;
    j["added_tokens"] = {{{"id", 263}, {"content", "<x>"}, {"special", true}, {"normalized", false}}};
    const Tokenizer t = load(j);
    const int32_t h = t.token_id("h"), i = t.token_id("i"), mhi = t.token_id(kMeta + "hi"), x = 263;
    EXPECT_EQ(t.encode("hi hi"), (Ids{mhi, mhi}));
    // "first": only the stretch at the start of the input gets the prefix.
    EXPECT_EQ(t.encode("hi<x>hi"), (Ids{mhi, x, h, i}));
    // The decoder drops the first token's replacement characters and turns the others to spaces.
    EXPECT_EQ(t.decode(Ids{mhi, mhi}), "hi hi");
    EXPECT_EQ(t.decode(Ids{h, mhi}), "h hi");
    EXPECT_EQ(streamed(t, Ids{mhi, mhi, x, h}), "hi hi<x>h");
    j["pre_tokenizer"]["split"] = false;
    EXPECT_EQ(load(j).encode("hi hi"), (Ids{t.token_id(kMeta + "h"), t.token_id("i" + kMeta), h, i}));
}

TEST(TokenizerJson, CharacterBpeFallsBackToBytesOrTheUnknownToken) {
    json j = char_bpe({"a", "b", "ab"}, {{"a", "b"}});
    const Tokenizer fb = load(j);
    const int32_t a = fb.token_id("a"), ab = fb.token_id("ab");
    EXPECT_EQ(fb.encode("ab\xC3\xA9"
                        "a"),
              (Ids{ab, 0xC3 + 1, 0xA9 + 1, a}));  // é as <0xC3><0xA9>
    j["model"]["byte_fallback"] = false;
    EXPECT_EQ(load(j).encode("zzabqz"), (Ids{0, ab, 0}));  // unknown runs fused into one <unk>
    j["model"]["fuse_unk"] = false;
    EXPECT_EQ(load(j).encode("zzab"), (Ids{0, 0, ab}));
    j["model"]["unk_token"] = nullptr;
    EXPECT_EQ(load(j).encode("zzabz"), (Ids{ab}));  // no unknown token: Hugging Face drops them
    j["model"]["unk_token"] = "<nope>";
    EXPECT_THROW(load(j), Error);
}

// The decoder Llama 2 and Mistral ship: ▁ to spaces, byte tokens to text, one string, its first
// space stripped. Hugging Face gives a byte run that is not UTF-8 one U+FFFD per byte.
TEST(TokenizerJson, ByteFallbackDecodingFollowsHuggingFace) {
    json j = char_bpe({kMeta, "h", "i", kMeta + "h", kMeta + "hi"}, {{kMeta, "h"}, {kMeta + "h", "i"}});
    j["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "Prepend"}, {"prepend", kMeta}},
                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMeta}}}}};
    j["decoder"] = {{"type", "Sequence"},
                    {"decoders",
                     {{{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    const Tokenizer t = load(j);
    const int32_t mhi = t.token_id(kMeta + "hi"), meta = t.token_id(kMeta), h = t.token_id("h");
    auto byte = [](int b) { return int32_t(b + 1); };
    EXPECT_EQ(t.encode("hi hi"), (Ids{mhi, mhi}));
    for (const Ids& ids : {Ids{mhi, mhi}, Ids{meta, mhi}, Ids{byte(0xE4), byte(0xBD), byte(0xA0), h},
                           Ids{byte(0xE4), byte(0xBD), h}, Ids{h, byte(0xFF)}, Ids{meta, meta}, Ids{}})
        EXPECT_EQ(streamed(t, ids), t.decode(ids)) << json(ids).dump();
    EXPECT_EQ(t.decode(Ids{mhi, mhi}), "hi hi");
    EXPECT_EQ(t.decode(Ids{meta, mhi}), " hi");  // only the first space goes
    EXPECT_EQ(t.decode(Ids{byte(0xE4), byte(0xBD), byte(0xA0), h}), "\xE4\xBD\xA0h");
    EXPECT_EQ(t.decode(Ids{byte(0xE4), byte(0xBD), h}), "\xEF\xBF\xBD\xEF\xBF\xBDh");  // two bytes, two U+FFFD
    EXPECT_EQ(t.decode(t.encode("h\xE4\xBD\xA0 hi")), "h\xE4\xBD\xA0 hi");
    EXPECT_EQ(t.token_bytes(byte(0xE4)), "\xE4");
    EXPECT_EQ(t.token_bytes(mhi), " hi");
}

TEST(TokenizerJson, NoDecoderJoinsTokensWithSpaces) {
    const Tokenizer t = load(char_bpe({"a", "b"}, {}));
    EXPECT_EQ(t.decode(Ids{257, 258, 257}), "a b a");
    EXPECT_EQ(streamed(t, Ids{257, 258, 257}), "a b a");
}

TEST(TokenizerJson, NormalizersTransformAsHuggingFaces) {
    EXPECT_EQ(normalize({{"type", "Prepend"}, {"prepend", kMeta}}, "a"), kMeta + "a");
    EXPECT_EQ(normalize({{"type", "Prepend"}, {"prepend", kMeta}}, ""), "");
    EXPECT_EQ(normalize({{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}}, "a   b  c"),
              "a b c");
    EXPECT_EQ(normalize({{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}}, "\xE3\x80\x80 a "), "a ");
    EXPECT_EQ(normalize({{"type", "NFKC"}}, "\xEF\xAC\x81 \xF0\x9D\x90\x80"), "fi A");  // ligature, bold A
    EXPECT_EQ(normalize({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
    // Lowercase: Rust's to_lowercase, with İ's two code points and Σ as ς at a word's end.
    const json lower = {{"type", "Lowercase"}};
    EXPECT_EQ(normalize(lower, "\xCE\xA3\xCE\x91\xCE\xA3 \xCE\xA3"), "\xCF\x83\xCE\xB1\xCF\x82 \xCF\x83");
    EXPECT_EQ(normalize(lower, "\xC4\xB0X"), "i\xCC\x87x");
    EXPECT_EQ(normalize(lower, "A\xCE\xA3'"), "a\xCF\x82'");
    EXPECT_THROW(normalize({{"type", "Precompiled"}}, "a"), Error);
}

TEST(TokenizerJson, RegexesAreReadAsOnigurumaReadsThem) {
    const std::string ws =
        R"(\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
    EXPECT_EQ(oniguruma_to_pcre2(R"(\s+(?!\S))", "t"), "[" + ws + "]+(?![^" + ws + "])");
    EXPECT_EQ(oniguruma_to_pcre2(R"([\h]\u00e9[]a])", "t"), R"([0-9a-fA-F]\x{00e9}[]a])");
    EXPECT_THROW(oniguruma_to_pcre2(R"([^\S])", "t"), Error);
    EXPECT_THROW(oniguruma_to_pcre2(R"([a[b]])", "t"), Error);
    std::vector<std::pair<size_t, size_t>> m;
    Regex::oniguruma(R"(\w+)", "t")
        .find_all(
            "a\xCC\x81"
            "b c",
            m);  // a mark is a word character
    EXPECT_EQ(m, (std::vector<std::pair<size_t, size_t>>{{0, 4}, {5, 6}}));
    EXPECT_THROW(Regex::oniguruma("(", "t"), Error);
}

TEST(TokenizerJson, AddedTokensStripMatchWholeWordsOrAfterNormalizing) {
    json j = char_bpe({"a", "b", " "}, {});
    j["normalizer"] = {{"type", "Lowercase"}};
    j["added_tokens"] = {
        {{"id", 300}, {"content", "<l>"}, {"lstrip", true}, {"special", true}, {"normalized", false}},
        {{"id", 301}, {"content", "<r>"}, {"rstrip", true}, {"special", true}, {"normalized", false}},
        {{"id", 302}, {"content", "ab"}, {"single_word", true}, {"special", false}, {"normalized", false}},
        {{"id", 303}, {"content", "<N>"}, {"special", false}, {"normalized", true}}};
    const Tokenizer t = load(j);
    const int32_t a = t.token_id("a"), b = t.token_id("b"), sp = t.token_id(" ");
    EXPECT_EQ(t.encode("a \t<l> b"), (Ids{a, 300, sp, b}));
    EXPECT_EQ(t.encode("a <r> \n b"), (Ids{a, sp, 301, b}));
    // Not a word of its own after "x": plain text (x and the comma fall back to bytes).
    EXPECT_EQ(t.encode("ab ab, xab"), (Ids{302, sp, 302, 1 + ',', sp, 1 + 'x', a, b}));
    // A normalized token is found in the normalized text: "<N>" is looked for as "<n>".
    EXPECT_EQ(t.encode("a<N>b"), (Ids{a, 303, b}));
    EXPECT_EQ(t.encode("a<n>b"), (Ids{a, 303, b}));
}

TEST(TokenizerJson, ThePostProcessorsSpecialTokensAreFacts) {
    json j = char_bpe({"<s>", "</s>"}, {});
    j["post_processor"] = {
        {"type", "Sequence"},
        {"processors",
         {{{"type", "ByteLevel"}},
          {{"type", "TemplateProcessing"},
           {"single",
            {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
             {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
             {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}}},
           {"special_tokens",
            {{"<s>", {{"id", "<s>"}, {"ids", {257}}}}, {"</s>", {{"id", "</s>"}, {"ids", {258}}}}}}}}}};
    const Tokenizer t = load(j);
    EXPECT_EQ(t.special_prefix(), (Ids{257}));
    EXPECT_EQ(t.special_suffix(), (Ids{258}));
    j["post_processor"] = {{"type", "BertProcessing"}, {"cls", {"<s>", 257}}, {"sep", {"</s>", 258}}};
    EXPECT_EQ(load(j).special_suffix(), (Ids{258}));
    j["post_processor"] = nullptr;
    EXPECT_TRUE(load(j).special_prefix().empty());
}

// A limit is honoured from the text's length only where no step can shrink text without bound:
// one <unk> may stand for any run of unknown characters, Strip may delete any whitespace.
TEST(TokenizerJson, ALimitNeverRefusesTextThatFits) {
    json j = char_bpe({"a"}, {});
    j["model"]["byte_fallback"] = false;
    const std::string unknown(100000, 'z');
    EXPECT_EQ(load(j).encode(unknown + "a", 5), (Ids{0, 257}));
    j = char_bpe({"a"}, {});
    j["normalizer"] = {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}};
    EXPECT_EQ(load(j).encode(std::string(100000, ' ') + "a", 5), (Ids{257}));
    EXPECT_EQ(load(j).encode(std::string(100000, 'a'), 5).size(), 6u);
}
