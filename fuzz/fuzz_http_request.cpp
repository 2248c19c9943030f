// Feeds arbitrary bytes to the HTTP front's request reader as a connection would deliver them (in
// pieces whose size the first byte picks), reading one pipelined request after another, each body
// kept under a small memory budget and inflated when it says it is compressed. Each request must
// end whole (its body within the limit, inflated within the limit) or fail with a 4xx/5xx status
// and a message; never a crash, a hang, a leak, a reservation past the budget or one left behind.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/api_error.h"
#include "server/http/content_coding.h"
#include "server/http/request_reader.h"

using namespace dimple::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t piece = 1 + data[0] % 97;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const http::ReaderLimits limits{1024, 16, 4096};
    MemoryBudget budget(6000);
    {
        std::string buffer;
        size_t pos = 0;
        for (int requests = 0; requests < 8; ++requests) {
            http::RequestReader reader(limits);
            bool body_started = false;
            for (;;) {
                buffer.erase(0, reader.feed(buffer));
                const http::RequestReader::State s = reader.state();
                if (s == http::RequestReader::State::Body && !body_started) {
                    body_started = true;
                    http::HttpRequest& req = reader.request();
                    req.reservation = budget.none();
                    reader.read_body([&req](std::string_view b) {
                        if (!req.reservation.grow(b.size())) return false;
                        req.body.append(b);
                        return true;
                    });
                    continue;
                }
                if (s == http::RequestReader::State::Done || s == http::RequestReader::State::Failed) break;
                if (pos >= input.size()) {
                    reader.end_of_stream();
                    break;
                }
                buffer.append(input.substr(pos, piece));
                pos += piece;
            }
            if (reader.state() == http::RequestReader::State::Failed) {
                if (reader.error_status() < 400 || reader.error_message().empty()) std::abort();
                break;
            }
            http::HttpRequest& req = reader.request();
            if (req.body.size() > limits.max_body_bytes || req.method.empty() || req.path.empty()) std::abort();
            try {
                const std::string body = http::decode_content(req.header("Content-Encoding"), std::move(req.body),
                                                              limits.max_body_bytes, req.reservation);
                if (body.size() > limits.max_body_bytes) std::abort();
            } catch (const ApiError& e) {
                if (e.status < 400 || std::string_view(e.what()).empty()) std::abort();
            }
            if (budget.used() > budget.capacity()) std::abort();
            if (!reader.keep_alive() || (pos >= input.size() && buffer.empty())) break;
        }
    }
    if (budget.used() != 0) std::abort();  // every reservation given back
    return 0;
}
