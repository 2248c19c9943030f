// Errors: every failure the engine reports to a user is a dimple::Error with a message that names
// what was wrong and where (file, tensor, option). Callers at the edge (CLI, server) turn it into an
// exit code or an HTTP status.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dimple {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Concatenates its arguments with operator<< into one string.
template <typename... Args>
std::string cat(const Args&... args) {
    std::ostringstream os;
    (os << ... << args);
    return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
    throw Error(cat(args...));
}

template <typename... Args>
void check(bool ok, const Args&... args) {
    if (!ok) fail(args...);
}

}  // namespace dimple
