// The memory budget (server/memory_budget.h) and the server's admission by it: reservations never
// pass the capacity, a request that could never fit is refused (400), one that does not fit now
// is told to retry (503), and every reservation is given back once its request is done, whatever
// became of it.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "core/error.h"
#include "core/memory.h"
#include "io/config.h"
#include "model/dllm_cache.h"
#include "server/memory_budget.h"
#include "server/request_memory.h"
#include "server_fixture.h"
#include "testing.h"

using namespace stest;
using namespace dimple;
using dimple::server::MemoryBudget;

// A job reserves its dLLM-Cache: every row's keys, values, attention and MLP outputs per layer.
TEST(MemoryBudget, AJobReservesItsDllmCache) {
    const std::string dir = dtest::source_dir() + "/tests/goldens/llada-tiny/model";
    const ModelConfig cfg = load_model_config(dir);
    server::JobInput in;
    in.ids.assign(40, 1);
    in.prompt_tokens = 40;
    in.options.max_new_tokens = 24;
    in.options.steps = 24;
    const uint64_t plain = server::job_bytes(in, cfg, PreprocessorConfig{}, in.prompt_tokens);
    in.options.accel.dllm_cache = parse_dllm_cache("25,7,0.25");
    const uint64_t cached = server::job_bytes(in, cfg, PreprocessorConfig{}, in.prompt_tokens);
    const uint64_t kv = uint64_t(cfg.num_kv_heads) * uint64_t(cfg.head_dim());
    const uint64_t cache = uint64_t(cfg.num_layers) * 64 * (2 * kv + 2 * uint64_t(cfg.hidden_size)) * 4;
    EXPECT_GE(cached - plain, cache);
}

TEST(MemoryBudget, ReservationsStayWithinTheCapacity) {
    MemoryBudget b(1000);
    std::optional<MemoryBudget::Reservation> r = b.reserve(600);
    ASSERT_TRUE(r);
    EXPECT_FALSE(b.reserve(401));
    EXPECT_FALSE(r->grow(401));
    EXPECT_EQ(r->bytes(), 600u);
    EXPECT_TRUE(r->grow_to(1000));
    EXPECT_EQ(b.used(), 1000u);
    r->shrink(300);
    EXPECT_EQ(b.used(), 700u);
    MemoryBudget::Reservation other = b.none();
    EXPECT_TRUE(other.grow(300));
    r->absorb(std::move(other));
    EXPECT_EQ(r->bytes(), 1000u);
    EXPECT_EQ(other.bytes(), 0u);
    r.reset();
    EXPECT_EQ(b.used(), 0u);
    EXPECT_EQ(b.peak(), 1000u);
    EXPECT_FALSE(b.reserve(uint64_t(-1)));
    EXPECT_FALSE(MemoryBudget::Reservation().grow(1));  // bound to no budget
}

TEST(MemoryBudget, ManyThreadsNeverPassTheCapacity) {
    MemoryBudget b(10000);
    std::atomic<bool> over{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 20000; ++i) {
                MemoryBudget::Reservation r = b.none();
                if (r.grow(uint64_t(1 + i % 3000)) && b.used() > b.capacity()) over = true;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_FALSE(over);
    EXPECT_EQ(b.used(), 0u);
    EXPECT_LE(b.peak(), 10000u);
}

namespace {

// A server whose budget for requests is about `requests_mib`: its limit is what the process holds
// now plus the server's own part (connections, threads, caches: about 250 MiB with the default
// limits and this vocabulary, plus the block cache's eighth of the room).
std::unique_ptr<TestServer> server_with_budget(uint64_t requests_mib) {
    const uint64_t limit = resident_bytes() + ((requests_mib + 250) << 20) * 8 / 7;
    return std::make_unique<TestServer>(server::Limits{}, "", limit);
}

}  // namespace

TEST(MemoryAdmission, RequestsAreAdmittedByTheirMemory) {
    auto s = server_with_budget(250);
    const double capacity = s->metric("dimple_memory_capacity_bytes");
    ASSERT_GT(capacity, 100 << 20);
    // Logits of 1024 positions over the fixture's 151680-token vocabulary: more than it will ever have.
    json huge = request("Hello", 1024, 4);
    expect_error(s->chat(huge), 400, "more than the");
    // Slow requests of about a third of the budget each, all at once: the first ones decode, the
    // rest are told to retry, and the budget is never passed.
    json slow = request("Take your time.", 128, 8);
    slow["threshold"] = 0;
    std::vector<std::future<Result>> answers;
    for (int i = 0; i < 6; ++i) answers.push_back(std::async(std::launch::async, [&s, slow] { return s->chat(slow); }));
    int ok = 0, busy = 0;
    for (auto& a : answers) {
        const Result r = a.get();
        ASSERT_TRUE(r);
        if (r->status == 200) ++ok;
        if (r->status == 503) {
            ++busy;
            EXPECT_EQ(r->get_header_value("Retry-After"), "1");
            EXPECT_NE(r->body.find("server_busy"), std::string::npos) << r->body;
        }
    }
    EXPECT_GE(ok, 1);
    EXPECT_GE(busy, 1);
    EXPECT_EQ(ok + busy, 6);
    EXPECT_LE(s->metric("dimple_memory_reserved_peak_bytes"), capacity);
    // Every reservation is given back (the last job goes just after its answer).
    EXPECT_TRUE(eventually([&] { return s->metric("dimple_memory_reserved_bytes") == 0; }));
}

// Whatever becomes of a request (answered, refused at any stage, cancelled), its memory comes back.
TEST(MemoryAdmission, EveryReservationIsGivenBack) {
    server::Limits l;
    l.max_body_bytes = 200000;
    TestServer s(l);
    s.chat(request("Hello", 4, 4));
    s.chat(request("Hello", 4, 4, true));
    s.chat({{"messages", "not a list"}});
    s.client().Post("/v1/chat/completions", std::string(300000, ' '), "application/json");
    json stream = request("Hello", 8, 8);
    stream["stream"] = true;
    s.chat(stream);
    {
        json slow = request("Take your time.", 160, 256);
        slow["threshold"] = 0;
        RawConnection c(s.port());
        c.send(chat_bytes(slow.dump()));
        ASSERT_TRUE(eventually([&] { return s.metric("dimple_active_requests") == 1; }));
    }  // gone: cancelled
    EXPECT_TRUE(eventually([&] { return s.metric("dimple_memory_reserved_bytes") == 0; }));
    EXPECT_GT(s.metric("dimple_memory_reserved_peak_bytes"), 0);
}

// A limit that leaves nothing for requests is refused at start, with the figures.
TEST(MemoryAdmission, ALimitThatLeavesNoRoomIsRefusedAtStart) {
    server::ServerOptions o;
    o.port = 0;
    o.model_dir = fixture_dir() + "/model";
    o.model_id = "model";
    o.memory_limit = resident_bytes() + (uint64_t(64) << 20);
    try {
        server::Server s(engine(), o);
        ADD_FAILURE() << "a server started with " << o.memory_limit << " bytes";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("leaves nothing for requests"), std::string::npos) << e.what();
    }
}
