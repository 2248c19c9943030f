// Reading the tokenizer's JSON files with errors that name the file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "io/config.h"

namespace dimple::text {

inline nlohmann::json read_json_file(const std::string& path) {
    try {
        return nlohmann::json::parse(read_text_file(path));
    } catch (const nlohmann::json::exception& e) {
        fail(path, ": not valid JSON (", e.what(), ")");
    }
}

}  // namespace dimple::text
