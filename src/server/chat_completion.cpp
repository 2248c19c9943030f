#include "server/chat_completion.h"

#include <atomic>
#include <ctime>
#include <random>

#include "server/http/content_coding.h"
#include "server/prepare.h"
#include "server/request_memory.h"
#include "server/response_format.h"

namespace dimple::server {

namespace {

std::string completion_id() {
    static std::atomic<uint64_t> counter{0};
    static const uint64_t salt = std::random_device{}();
    char buf[40];
    std::snprintf(buf, sizeof buf, "chatcmpl-%016llx", (unsigned long long)(salt ^ (++counter * 0x9E3779B97F4A7C15ull)));
    return buf;
}

ApiError out_of_memory() {
    return ApiError(503, "the server's memory for requests is in use; retry shortly", "", "server_busy", "server_error");
}

ApiError too_large(uint64_t need, uint64_t capacity, const std::string& what) {
    return ApiError(400, "the request would need " + std::to_string(need >> 20) + " MiB " + what + ", more than the " +
                             std::to_string(capacity >> 20) + " MiB this server has for requests (--memory-limit); " +
                             "ask for fewer tokens, steps or smaller images", "", "request_too_large");
}

// Grows a request's reservation by `bytes`: 400 if it could never fit, 503 if it does not now.
void reserve_more(MemoryBudget::Reservation& memory, uint64_t bytes, const MemoryBudget& budget, const std::string& what) {
    if (memory.bytes() + bytes > budget.capacity()) throw too_large(memory.bytes() + bytes, budget.capacity(), what);
    if (!memory.grow(bytes)) throw out_of_memory();
}

// What the I/O thread needs to turn a job's events into its response.
struct Answer {
    std::shared_ptr<http::Exchange> exchange;
    ResponseIds ids;
    bool stream = false, canvas = false, usage = false;
    int max_steps = 0;
    bool started = false;  // the response has begun: events may be sent (I/O thread only)
};

// One step's chunk: the text that became final, the canvas when asked, finish_reason at the end.
std::string step_chunks(const JobEvent& ev, const Answer& a, const ServerContext& ctx) {
    json delta = json::object();
    if (!ev.delta.empty()) delta["content"] = ev.delta;
    const bool last = ev.outcome && !ev.outcome->error;
    if (!last && !a.canvas && ev.delta.empty()) return {};
    json chunk = chunk_json(a.ids, std::move(delta), last ? ev.outcome->finish_reason : std::string());
    if (a.canvas && ev.step > 0)
        chunk["dimple"] = canvas_json(ev, a.max_steps, ctx.engine.tokenizer(), ctx.engine.config().ids);
    return sse(chunk);
}

// On the I/O thread: sends what the job's events say, up to its end.
void drain(Job& job, Answer& a, const ServerContext& ctx) {
    if (!a.started) return;
    http::Exchange& ex = *a.exchange;
    while (std::optional<JobEvent> ev = job.pop()) {
        if (!a.stream) {
            if (!ev->outcome) continue;
            if (ev->outcome->error) return ex.respond(error_response(*ev->outcome->error));
            return ex.respond(json_response(200, completion_json(a.ids, *ev->outcome)));
        }
        if (ev->outcome && ev->outcome->error) {
            // The status is sent already: the error travels as an event, as OpenAI's do.
            ex.send(sse(error_json(*ev->outcome->error)) + sse_done());
            return ex.end_stream();
        }
        std::string out = step_chunks(*ev, a, ctx);
        if (ev->outcome) {
            if (a.usage) out += sse(usage_chunk_json(a.ids, *ev->outcome));
            ex.send(out + sse_done());
            return ex.end_stream();
        }
        ex.send(std::move(out));
    }
}

// On a worker thread: body -> job, each stage's memory reserved before the stage runs.
void prepare_and_queue(http::HttpRequest req, const std::shared_ptr<http::Exchange>& ex, ServerContext& ctx) {
    const Limits& limits = ctx.options.limits;
    MemoryBudget::Reservation memory = std::move(req.reservation);
    std::string body = http::decode_content(req.header("Content-Encoding"), std::move(req.body), limits.max_body_bytes, memory);
    if (!memory.grow_to(body.capacity() + parse_bytes(body.size()))) throw out_of_memory();
    ParseContext pc = ctx.parse;
    // An image's decoding holds its rows and its pixels; once decoded, the pixels alone.
    pc.before_image_decode = [&memory, &ctx](int64_t w, int64_t h) {
        reserve_more(memory, image_decode_bytes(w, h), ctx.budget, "to decode its images");
    };
    pc.after_image_decode = [&memory](int64_t w, int64_t h) { memory.shrink(image_decode_bytes(w, h) - image_bytes(w, h)); };
    ChatRequest cr = parse_chat_request(body, pc);
    body = std::string();
    const bool stream = cr.stream, canvas = cr.stream_canvas, usage = cr.include_usage;
    JobInput in = prepare_job(std::move(cr), ctx);
    // From here the request holds what its job will: the parse's reservation becomes the job's.
    const uint64_t need = job_bytes(in, ctx.engine.config(), ctx.preprocessor, in.prompt_tokens) +
                          (stream ? kMaxUnsentBytes : 0);
    if (memory.bytes() > need) memory.shrink(memory.bytes() - need);
    else reserve_more(memory, need - memory.bytes(), ctx.budget, "to decode");

    auto answer = std::make_shared<Answer>();
    answer->exchange = ex;
    answer->ids = {completion_id(), int64_t(std::time(nullptr)), ctx.parse.model_id};
    answer->stream = stream, answer->canvas = canvas, answer->usage = usage;
    answer->max_steps = in.options.steps;
    const double seconds = limits.time_limit_s;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    // The job announces each event to the I/O thread; an announcement holds the job (and so its
    // events) until it has run, whoever else has let the job go.
    auto on_event = [answer, &ctx](const std::shared_ptr<Job>& j) {
        answer->exchange->post([j, answer, &ctx] { drain(*j, *answer, ctx); });
    };
    auto job = std::make_shared<Job>(std::move(in), deadline, std::move(memory), on_event);
    ex->on_abandon([weak = std::weak_ptr<Job>(job)] {
        if (std::shared_ptr<Job> j = weak.lock()) j->cancelled = true;
    });
    ctx.scheduler.submit(job);  // 429 when the queue is full, 503 when stopping
    if (stream) {
        http::HttpResponse head;
        head.content_type = "text/event-stream";
        head.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};  // proxies pass events on at once
        head.body = sse(chunk_json(answer->ids, {{"role", "assistant"}, {"content", ""}}));
        ex->begin_stream(std::move(head), ":\n\n");  // an event-stream comment: the probe for a half-closed client
    }
    // Events that came before the response began are sent now, in order.
    ex->post([job, answer, &ctx] {
        answer->started = true;
        drain(*job, *answer, ctx);
    });
}

}  // namespace

http::HttpResponse json_response(int status, const json& j) {
    http::HttpResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

http::HttpResponse error_response(const ApiError& e) {
    http::HttpResponse r = json_response(e.status, error_json(e));
    if (e.status == 429 || e.status == 503) r.headers.emplace_back("Retry-After", "1");
    return r;
}

void handle_chat_completion(http::HttpRequest req, std::shared_ptr<http::Exchange> exchange, ServerContext& ctx) {
    // Shared: a task must be copyable, and a request's memory reservation is not.
    auto shared = std::make_shared<http::HttpRequest>(std::move(req));
    ctx.workers.post([shared, ex = std::move(exchange), &ctx] {
        try {
            prepare_and_queue(std::move(*shared), ex, ctx);
        } catch (const ApiError& e) {
            ex->respond(error_response(e));
        } catch (const std::exception& e) {
            ex->respond(error_response(ApiError(500, std::string("internal error: ") + e.what(), "", "internal_error",
                                                "server_error")));
        }
    });
}

}  // namespace dimple::server
