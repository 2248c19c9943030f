#include "eval/dataset.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace dimple::eval {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// The string field `name`, or an error message in `error` (when it is still empty).
std::string field(const json& j, const char* name, bool required, std::string& error) {
    const auto it = j.find(name);
    if (it == j.end()) {
        if (required && error.empty()) error = std::string("missing \"") + name + "\"";
        return {};
    }
    if (!it->is_string()) {
        if (error.empty()) error = std::string("\"") + name + "\" is not a string";
        return {};
    }
    return it->get<std::string>();
}

}  // namespace

EvalItem parse_item(std::string_view line, int number, const std::string& folder) {
    EvalItem item;
    item.line = number;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        item.error = "not valid JSON";
        return item;
    }
    if (!j.is_object()) {
        item.error = "not a JSON object";
        return item;
    }
    const std::string image = field(j, "image", true, item.error);
    item.question = field(j, "question", true, item.error);
    item.answer = field(j, "answer", true, item.error);
    item.kind = field(j, "kind", false, item.error);
    if (item.error.empty() && image.empty()) item.error = "\"image\" is empty";
    if (item.error.empty()) item.image = (fs::path(folder) / image).lexically_normal().string();
    return item;
}

std::vector<EvalItem> read_dataset(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    check(in.good() && !fs::is_directory(path), path, ": cannot open the evaluation file");
    const std::string folder = fs::path(path).parent_path().string();
    std::vector<EvalItem> items;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (!blank(line)) items.push_back(parse_item(line, number, folder.empty() ? "." : folder));
    }
    check(!in.bad(), path, ": read error");
    return items;
}

}  // namespace dimple::eval
