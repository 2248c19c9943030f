#include "server/chat_completion.h"

#include <atomic>
#include <ctime>
#include <random>

#include "server/connection.h"
#include "server/prepare.h"
#include "server/response_format.h"

namespace dimple::server {

namespace {

constexpr std::chrono::milliseconds kPoll{50};  // how often a waiting handler looks at its client

std::string completion_id() {
    static std::atomic<uint64_t> counter{0};
    static const uint64_t salt = std::random_device{}();
    char buf[40];
    std::snprintf(buf, sizeof buf, "chatcmpl-%016llx", (unsigned long long)(salt ^ (++counter * 0x9E3779B97F4A7C15ull)));
    return buf;
}

void answer_once(const std::shared_ptr<Job>& job, int fd, const ResponseIds& ids, httplib::Response& res) {
    for (;;) {
        std::optional<JobEvent> ev = job->pop(kPoll);
        if (!ev) {
            if (peer_closed(fd)) {
                job->cancelled = true;
                return send_error(res, ApiError(499, "the client closed the connection", "", "client_closed"));
            }
            continue;
        }
        if (!ev->outcome) continue;
        if (ev->outcome->error) return send_error(res, *ev->outcome->error);
        res.set_content(completion_json(ids, *ev->outcome).dump(-1, ' ', false, json::error_handler_t::replace),
                        "application/json");
        return;
    }
}

// One step's chunk: the text that became final, the canvas when asked, finish_reason at the end.
std::string step_chunks(const JobEvent& ev, const ResponseIds& ids, bool canvas, int max_steps, const ServerContext& ctx) {
    json delta = json::object();
    if (!ev.delta.empty()) delta["content"] = ev.delta;
    const bool last = ev.outcome && !ev.outcome->error;
    if (!last && !canvas && ev.delta.empty()) return {};
    json chunk = chunk_json(ids, std::move(delta), last ? ev.outcome->finish_reason : std::string());
    if (canvas && ev.step > 0)
        chunk["dimple"] = canvas_json(ev, max_steps, ctx.engine.tokenizer(), ctx.engine.config().ids);
    return sse(chunk);
}

void answer_stream(std::shared_ptr<Job> job, int fd, const ResponseIds& ids, const ChatRequest& cr,
                   httplib::Response& res, ServerContext& ctx) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");  // proxies (nginx) pass each event on at once
    const bool canvas = cr.stream_canvas, usage = cr.include_usage;
    const int max_steps = job->input.options.steps;
    auto started = std::make_shared<bool>(false);
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, fd, ids, canvas, usage, max_steps, started, &ctx](size_t, httplib::DataSink& sink) {
            auto write = [&](const std::string& s) {
                if (s.empty() || sink.write(s.data(), s.size())) return true;
                job->cancelled = true;  // the client went away
                return false;
            };
            if (!*started) {
                *started = true;
                return write(sse(chunk_json(ids, {{"role", "assistant"}, {"content", ""}})));
            }
            std::optional<JobEvent> ev = job->pop(kPoll);
            if (!ev) {
                if (!peer_closed(fd)) return true;
                job->cancelled = true;
                return false;
            }
            if (ev->outcome && ev->outcome->error) {
                // Headers are gone already: the error travels as an event, as OpenAI's do.
                if (!write(sse(error_json(*ev->outcome->error))) || !write(sse_done())) return false;
                sink.done();
                return true;
            }
            const std::string chunk = step_chunks(*ev, ids, canvas, max_steps, ctx);
            if (!write(chunk)) return false;
            if (!ev->outcome) {
                if (!chunk.empty() || !peer_closed(fd)) return true;
                job->cancelled = true;  // gone while its steps sent nothing
                return false;
            }
            if (usage && !write(sse(usage_chunk_json(ids, *ev->outcome)))) return false;
            if (!write(sse_done())) return false;
            sink.done();
            return true;
        },
        [job](bool success) {
            if (!success) job->cancelled = true;
        });
}

}  // namespace

void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    if (e.status == 429 || e.status == 503) res.set_header("Retry-After", "1");
    res.set_content(error_json(e).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void handle_chat_completion(const httplib::Request& req, httplib::Response& res, ServerContext& ctx) {
    try {
        ChatRequest cr = parse_chat_request(req.body, ctx.parse);
        const double limit = ctx.options.limits.time_limit_s;
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit));
        auto job = std::make_shared<Job>(prepare_job(std::move(cr), ctx), deadline);
        const ResponseIds ids{completion_id(), int64_t(std::time(nullptr)), ctx.parse.model_id};
        const int fd = find_connection(req.local_port, req.remote_addr, req.remote_port);
        ctx.scheduler.submit(job);
        if (cr.stream)
            answer_stream(std::move(job), fd, ids, cr, res, ctx);
        else
            answer_once(job, fd, ids, res);
    } catch (const ApiError& e) {
        send_error(res, e);
    }
}

}  // namespace dimple::server
