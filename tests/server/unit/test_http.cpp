// The HTTP front as a public server must speak it (issue 29): limits enforced before the key and
// before decoding, framing that cannot be read two ways, timeouts and a connection cap, pipelining,
// half-closes, HTTP/1.0, HEAD, OPTIONS, Expect, and JSON whatever the content type.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <future>

#include "server_fixture.h"

using namespace stest;
using namespace dimple;

namespace {

std::string small_chat() { return request("Hello", 4, 4).dump(); }

// One request's bytes on a fresh connection, and the response.
Result exchange(int port, const std::string& bytes, double timeout_s = 30) {
    RawConnection c(port);
    c.send(bytes);
    return c.read_response(timeout_s);
}

std::string gzip(const std::string& data) {
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, uLong(data.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = uInt(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

// --max-body-bytes holds for chunked bodies and for compressed ones once inflated (a 25 MB chunked
// body, and 100 KB of gzip inflating to 100 MB, were read whole).
TEST(Http, BodyLimitHoldsForChunkedAndCompressedBodies) {
    server::Limits l;
    l.max_body_bytes = 100000;
    TestServer s(l);
    std::string chunked = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 30; ++i) chunked += "1000\r\n" + std::string(4096, ' ') + "\r\n";
    chunked += "0\r\n\r\n";
    expect_error(exchange(s.port(), chunked), 413, "larger than 100000 bytes");

    const std::string bomb = gzip(std::string(size_t(50) << 20, ' '));
    ASSERT_LT(bomb.size(), 100000u);
    expect_error(s.client().Post("/v1/chat/completions", {{"Content-Encoding", "gzip"}}, bomb, "application/json"), 413,
                 "inflates to more than 100000 bytes");
    // Within the limit, compressed and chunked bodies are read as any other.
    const auto r = s.client().Post("/v1/chat/completions", {{"Content-Encoding", "gzip"}}, gzip(small_chat()), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    const std::string body = small_chat();
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    const auto c = exchange(s.port(), "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                          std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, 200) << c->body;
    expect_error(s.client().Post("/v1/chat/completions", {{"Content-Encoding", "br"}}, body, "application/json"), 415, "br");
    expect_error(s.client().Post("/v1/chat/completions", {{"Content-Encoding", "gzip"}}, body, "application/json"), 400,
                 "not valid gzip");
}

// Headers are bounded in bytes and in number before the key is checked (4 x 50 MB of headers
// without a key were read, answered 401, and left 300 MB resident); a refused request's body is
// never read.
TEST(Http, HeadersAreBoundedBeforeTheKeyAndBodiesReadAfterIt) {
    server::Limits l;
    l.max_header_bytes = 8192;
    TestServer s(l, "sesame");
    std::string many = "GET /v1/models HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 150; ++i) many += "X-F" + std::to_string(i) + ": 1\r\n";
    expect_error(exchange(s.port(), many + "\r\n"), 431, "header fields");
    expect_error(exchange(s.port(), "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"),
                 431, "larger than 8192 bytes");
    // The answer comes before the body is sent.
    RawConnection c(s.port());
    c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
    expect_error(c.read_response(10), 401, "API key");
    EXPECT_TRUE(c.closed_by_server(10));
}

// curl -d sends application/x-www-form-urlencoded: the body is JSON all the same (such bodies were
// capped at 8192 bytes and answered 413 "larger than 20971520 bytes").
TEST(Http, JsonIsReadWhateverTheContentType) {
    TestServer s;
    json body = request("Describe it. " + std::string(20000, 'x'), 4, 4, true);
    const auto r = s.client().Post("/v1/chat/completions", body.dump(), "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
}

// Slow clients hold no thread and are timed out as a whole: /health and a chat answer at once while
// 32 connections trickle their heads (16 did block both for 30 s).
TEST(Http, SlowClientsAreTimedOutAndBlockNoOne) {
    server::Limits l;
    l.queue_size = 2;
    l.max_batch = 1;
    l.request_timeout_s = 1.5;
    TestServer s(l);
    std::vector<std::unique_ptr<RawConnection>> slow;
    for (int i = 0; i < 32; ++i) {
        slow.push_back(std::make_unique<RawConnection>(s.port()));
        slow.back()->send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto h = s.client().Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    const auto r = s.chat(request("Hello", 4, 4));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(seconds_since(t0), 1.5);
    for (auto& c : slow) {
        c->send("X-Slow: 1\r\n");
        expect_error(c->read_response(10), 408, "--request-timeout");
    }
}

// Idle connections are closed; beyond --max-connections a connection is told 503 at once.
TEST(Http, IdleConnectionsCloseAndConnectionsAreCapped) {
    server::Limits l;
    l.idle_timeout_s = 0.5;
    l.max_connections = 4;
    TestServer s(l);
    std::vector<std::unique_ptr<RawConnection>> open;
    for (int i = 0; i < 4; ++i) open.push_back(std::make_unique<RawConnection>(s.port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    expect_error(s.client().Get("/health"), 503, "too many open connections");
    for (auto& c : open) EXPECT_TRUE(c->closed_by_server(5));
    const auto r = s.client().Get("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

// Pipelined requests are answered, in order (only the first was); so is a client that half-closes
// after its request (it got nothing).
TEST(Http, PipelinedRequestsAndHalfClosedClientsAreAnswered) {
    TestServer s;
    const std::string chat = chat_bytes(small_chat());
    RawConnection c(s.port());
    c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + chat + "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto a = c.read_response(), b = c.read_response(), m = c.read_response();
    ASSERT_TRUE(a && b && m);
    EXPECT_EQ(a->body, R"({"status":"ok"})");
    EXPECT_EQ(b->status, 200) << b->body;
    EXPECT_NE(b->body.find("chat.completion"), std::string::npos);
    EXPECT_NE(m->body.find("\"list\""), std::string::npos);
    // Many refused at once (answered from their heads alone) are answered one after the other.
    RawConnection many(s.port());
    std::string refused;
    for (int i = 0; i < 3000; ++i) refused += "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
    auto reader = std::async(std::launch::async, [&many] {
        int n = 0;
        while (const auto r = many.read_response(30)) n += r->status == 404;
        return n;
    });
    many.send(refused + "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reader.get(), 3000);

    for (bool stream : {false, true}) {
        json body = request("Hello", 8, 8);
        body["stream"] = stream;
        RawConnection h(s.port());
        h.send(chat_bytes(body.dump()));
        h.shutdown_write();
        const auto r = h.read_response();
        ASSERT_TRUE(r) << "stream " << stream;
        EXPECT_EQ(r->status, 200);
        EXPECT_NE(r->body.find(stream ? "[DONE]" : "chat.completion"), std::string::npos) << r->body;
    }
}

// A request that could be read two ways is refused (behind a proxy, the other reading smuggles a
// request in): Content-Length twice, with Transfer-Encoding, an unknown transfer coding, and the
// rest of RFC 9112's rules on framing and Host.
TEST(Http, AmbiguousFramingIsRefused) {
    TestServer s;
    const std::string body = small_chat();
    const std::string cl = "Content-Length: " + std::to_string(body.size()) + "\r\n";
    const std::string post = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n";
    expect_error(exchange(s.port(), post + cl + "Content-Length: 5\r\n\r\n" + body), 400, "malformed");
    expect_error(exchange(s.port(), post + cl + "Transfer-Encoding: chunked\r\n\r\n" + body), 400, "malformed");
    expect_error(exchange(s.port(), post + "Transfer-Encoding: chunked\r\n" + cl + "\r\n" + body), 400, "malformed");
    expect_error(exchange(s.port(), post + "Transfer-Encoding: gzip\r\n\r\n" + body), 501, "only chunked");
    expect_error(exchange(s.port(), post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 501, "only chunked");
    expect_error(exchange(s.port(), "POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                 400, "HTTP/1.0");
    expect_error(exchange(s.port(), "GET /health HTTP/1.1\r\n\r\n"), 400, "Host");
    expect_error(exchange(s.port(), "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400, "more than one Host");
    expect_error(exchange(s.port(), "GET /health HTTP/2.0\r\nHost: a\r\n\r\n"), 400, "bad version");
    expect_error(exchange(s.port(), "GET /health\r\n\r\n"), 400, "malformed");
    expect_error(exchange(s.port(), "GET ?health HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "must be a path");
    // The same value twice is one length (RFC 9110 allows it).
    const auto r = exchange(s.port(), post + cl + cl + "\r\n" + body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
}

// OPTIONS on a known route is 405 naming the allowed methods (it was 404), HEAD is GET without
// the body, Expect: 100-continue gets its interim response, HTTP/1.0 clients get no chunked
// coding (a stream ends with the connection).
TEST(Http, MethodsExpectationsAndHttp10) {
    TestServer s;
    const auto o = s.client().request("OPTIONS", "/v1/chat/completions");
    expect_error(o, 405, "not allowed");
    EXPECT_EQ(o->get_header_value("Allow"), "POST");
    const auto head = s.client().request("HEAD", "/health");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->get_header_value("Content-Length"), "15");
    EXPECT_TRUE(head->body.empty());

    RawConnection c(s.port());
    c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
           std::to_string(small_chat().size()) + "\r\n\r\n");
    const auto interim = c.read_response(10, false, true);
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    c.send(small_chat());
    const auto answer = c.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
    expect_error(exchange(s.port(), "GET /health HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n"), 417, "magic");

    json body = request("Hello", 8, 8);
    body["stream"] = true;
    const std::string b = body.dump();
    RawConnection old(s.port());
    old.send("POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b);
    const auto r = old.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->chunked);
    EXPECT_TRUE(parse_sse(r->body).done) << r->body;
}
