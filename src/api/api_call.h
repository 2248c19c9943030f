// How every entry point of the C API (include/dimple.h) runs: C++ exceptions never cross it. Each
// becomes a status, and its message the calling thread's dimple_last_error().
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>

#include "dimple.h"

namespace dimple::api {

// An error the API itself raises, with the status it returns.
struct ApiError : std::runtime_error {
    ApiError(dimple_status s, const std::string& message) : std::runtime_error(message), status(s) {}
    dimple_status status;
};

inline void require(bool ok, const std::string& what) {
    if (!ok) throw ApiError(DIMPLE_ERROR_INVALID_ARGUMENT, what);
}

// Records the thread's message; returns `s`.
dimple_status set_error(dimple_status s, const std::string& message);

// Runs `body`, turning whatever it throws into a status.
template <typename F>
dimple_status api_call(F&& body) noexcept {
    try {
        body();
        return DIMPLE_OK;
    } catch (const ApiError& e) {
        return set_error(e.status, e.what());
    } catch (const std::bad_alloc&) {
        return set_error(DIMPLE_ERROR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::runtime_error& e) {  // dimple::Error and the libraries': what the engine refused
        return set_error(DIMPLE_ERROR_REFUSED, e.what());
    } catch (const std::exception& e) {
        return set_error(DIMPLE_ERROR_INTERNAL, e.what());
    } catch (...) {
        return set_error(DIMPLE_ERROR_INTERNAL, "unknown error");
    }
}

// A caller's struct read through its own `size`: fields a caller built against an older, smaller
// version lacks keep the defaults `init` gives; a size this library does not know is refused.
template <typename T>
T read_sized(const T* in, void (*init)(T*), const char* name) {
    T out;
    init(&out);
    if (in == nullptr) return out;
    require(in->size >= sizeof(size_t) && in->size <= sizeof(T),
            std::string(name) + ".size is " + std::to_string(in->size) + ": call " + name +
                "_init first (this library knows sizes up to " + std::to_string(sizeof(T)) + ")");
    std::memcpy(static_cast<void*>(&out), in, in->size);
    out.size = sizeof(T);
    return out;
}

// A result written into a caller's struct up to its own `size` (an older caller gets the fields it
// knows).
template <typename T>
void write_sized(T* out, T value, const char* name) {
    require(out != nullptr, std::string(name) + " is NULL");
    require(out->size >= sizeof(size_t), std::string(name) + ".size is 0: call " + name + "_init first");
    const size_t n = std::min(out->size, sizeof(T));
    value.size = out->size;
    std::memcpy(static_cast<void*>(out), &value, n);
}

// A count of items copied into a caller's buffer; throws BUFFER_TOO_SMALL with *count set when
// `capacity` is short.
template <typename T>
void copy_out(const T* data, size_t n, T* buffer, size_t capacity, size_t* count, const char* what) {
    require(count != nullptr, std::string("the ") + what + " count pointer is NULL");
    *count = n;
    if (n > capacity)
        throw ApiError(DIMPLE_ERROR_BUFFER_TOO_SMALL, std::string("the ") + what + " need " + std::to_string(n) +
                                                         " elements, the buffer holds " + std::to_string(capacity));
    require(n == 0 || buffer != nullptr, std::string("the ") + what + " buffer is NULL");
    if (n) std::memcpy(buffer, data, n * sizeof(T));
}

// A string copied into a caller's buffer with its NUL (`capacity` counts it); *length excludes it.
void copy_text(const std::string& s, char* buffer, size_t capacity, size_t* length);

}  // namespace dimple::api
