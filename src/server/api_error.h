// An error a request gets back, OpenAI style: the HTTP status and
// {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <stdexcept>
#include <string>

namespace dimple::server {

struct ApiError : std::runtime_error {
    int status;
    std::string type, param, code;

    ApiError(int status_, std::string message, std::string param_ = {}, std::string code_ = {},
             std::string type_ = "invalid_request_error")
        : std::runtime_error(std::move(message)), status(status_), type(std::move(type_)),
          param(std::move(param_)), code(std::move(code_)) {}
};

// A 400 naming the request field at fault.
[[noreturn]] inline void bad_request(const std::string& param, const std::string& message,
                                     const std::string& code = "invalid_value") {
    throw ApiError(400, message, param, code);
}

}  // namespace dimple::server
