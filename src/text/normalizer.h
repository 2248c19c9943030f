// A tokenizer.json's "normalizer": what Hugging Face's tokenizers do to each stretch of text between
// added tokens before it is split into pieces. Supported: NFC, NFD, NFKC, NFKD, Replace (a literal
// or a regex), Prepend, Strip, Lowercase and Sequence; anything else is refused when loading, naming
// it, rather than tokenized differently from Hugging Face.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dimple::text {

class Regex;

class Normalizer {
public:
    Normalizer();  // the identity (tokenizer.json's "normalizer": null)
    Normalizer(Normalizer&&) noexcept;
    Normalizer& operator=(Normalizer&&) noexcept;
    ~Normalizer();

    static Normalizer nfc();
    // Throws dimple::Error naming `where` and the normalizer it does not support.
    static Normalizer from_json(const nlohmann::json& j, const std::string& where);

    // The normalized form of valid UTF-8 text.
    std::string apply(std::string_view text) const;
    bool is_identity() const { return steps_.empty(); }

    // The most by which normalizing may divide a text's length in bytes (NFKC turns the 4-byte
    // U+1D400 into "A"), or infinity where it may delete text (Strip, a Replace by nothing). Encoding
    // with a limit uses it to refuse a text far too long from its length alone.
    double shrink_bound() const;

private:
    struct Step;
    std::vector<std::shared_ptr<const Step>> steps_;
};

}  // namespace dimple::text
