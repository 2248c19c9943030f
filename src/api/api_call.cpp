#include "api/api_call.h"

namespace dimple::api {

namespace {
thread_local std::string last_error;
}

dimple_status set_error(dimple_status s, const std::string& message) {
    last_error = message;
    return s;
}

void copy_text(const std::string& s, char* buffer, size_t capacity, size_t* length) {
    require(length != nullptr, "the length pointer is NULL");
    *length = s.size();
    if (s.size() + 1 > capacity)
        throw ApiError(DIMPLE_ERROR_BUFFER_TOO_SMALL, "the text needs " + std::to_string(s.size() + 1) +
                                                          " bytes with its NUL, the buffer holds " +
                                                          std::to_string(capacity));
    require(buffer != nullptr, "the text buffer is NULL");
    std::memcpy(buffer, s.data(), s.size());
    buffer[s.size()] = '\0';
}

}  // namespace dimple::api

extern "C" const char* dimple_last_error(void) { return dimple::api::last_error.c_str(); }
