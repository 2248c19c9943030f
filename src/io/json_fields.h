// Typed access to the fields of a JSON object (a model folder's config files), naming the file and
// key in every error: the one place config.json, generation and tower configs are read through.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace dimple {

struct Fields {
    const nlohmann::json& j;
    std::string label;

    bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }

    int64_t integer(const char* key, int64_t lo, int64_t hi) const {
        check(has(key), label, ": missing required field \"", key, "\"");
        return integer_or(key, 0, lo, hi);
    }
    int64_t integer_or(const char* key, int64_t fallback, int64_t lo, int64_t hi) const {
        if (!has(key)) return fallback;
        check(j[key].is_number_integer(), label, ": field \"", key, "\" must be an integer");
        const int64_t v = j[key].get<int64_t>();
        check(v >= lo && v <= hi, label, ": field \"", key, "\" = ", v, " is out of range [", lo,
              ", ", hi, "]");
        return v;
    }
    double number_or(const char* key, double fallback, double lo, double hi) const {
        if (!has(key)) return fallback;
        check(j[key].is_number(), label, ": field \"", key, "\" must be a number");
        const double v = j[key].get<double>();
        check(v >= lo && v <= hi, label, ": field \"", key, "\" = ", v, " is out of range");
        return v;
    }
    std::string string_or(const char* key, const std::string& fallback) const {
        if (!has(key)) return fallback;
        check(j[key].is_string(), label, ": field \"", key, "\" must be a string");
        return j[key].get<std::string>();
    }
    bool boolean_or(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        check(j[key].is_boolean(), label, ": field \"", key, "\" must be true or false");
        return j[key].get<bool>();
    }
    std::vector<int64_t> int_list(const char* key) const {
        std::vector<int64_t> out;
        if (!has(key)) return out;
        check(j[key].is_array(), label, ": field \"", key, "\" must be a list of integers");
        for (auto& v : j[key]) {
            check(v.is_number_integer(), label, ": field \"", key, "\" must be a list of integers");
            out.push_back(v.get<int64_t>());
        }
        return out;
    }
};

// Parses a JSON object; `label` names the file in errors.
nlohmann::json parse_json_object(const std::string& text, const std::string& label);

}  // namespace dimple
