// An HTTP/1.x request as the server's handlers see it, and the response they give back; no types
// of the HTTP library (Boost.Beast's parser, in request_reader.cpp only) appear here.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/memory_budget.h"

namespace dimple::server::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (any case), empty when there is none.
std::string_view header_value(const Headers& headers, std::string_view name);

struct HttpRequest {
    std::string method;  // as sent: "GET", "POST", ...
    std::string target;  // as sent: "/v1/models?x=1", or absolute-form "http://host/v1/models"
    std::string path;    // the target's path: "/v1/models"
    int version = 11;    // 10 or 11
    Headers headers;     // names as sent, in order
    std::string body;    // for routes that take one (others' bodies are read and dropped)
    MemoryBudget::Reservation reservation;  // the memory held for the body

    std::string_view header(std::string_view name) const { return header_value(headers, name); }
};

struct HttpResponse {
    int status = 200;
    Headers headers;  // the server adds Content-Length (or chunked coding), Connection and Date
    std::string content_type;
    std::string body;
};

// "OK", "Not Found", ... for the statuses the server sends.
std::string_view reason_phrase(int status);

}  // namespace dimple::server::http
