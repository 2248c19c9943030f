#include "server/http/request_reader.h"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>

namespace dimple::server::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The path of an origin-form ("/a?b"), absolute-form ("http://host/a?b") or asterisk-form ("*") target.
std::string path_of(std::string_view target) {
    if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
        const size_t slash = target.find('/', target.find("//") + 2);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    return std::string(target.substr(0, target.find_first_of("?#")));
}

}  // namespace

struct RequestReader::Parser : bhttp::basic_parser<true> {
    RequestReader& owner;
    size_t max_fields;
    ReaderLimits limits;
    size_t fields = 0;
    int hosts = 0, transfer_encodings = 0;
    std::string transfer_encoding;
    std::function<bool(std::string_view)> sink;
    bool sink_refused = false;
    int own_status = 0;  // an error of ours (not Beast's), with its message
    std::string own_message;

    Parser(RequestReader& o, const ReaderLimits& l) : owner(o), max_fields(l.max_fields), limits(l) {
        header_limit(std::uint32_t(std::min<size_t>(l.max_head_bytes, UINT32_MAX)));
        body_limit(l.max_body_bytes);
        eager(false);
    }

    void refuse(beast::error_code& ec, int status, std::string message) {
        own_status = status;
        own_message = std::move(message);
        ec = bhttp::error::bad_value;
    }

    // Beast reads HTTP/1.x request lines only (others are a bad version: 400).
    void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target, int version,
                         beast::error_code& ec) override {
        const std::string_view t = sv(target);
        if (t.empty() || (t.front() != '/' && t != "*" && t.rfind("http://", 0) != 0 && t.rfind("https://", 0) != 0))
            return refuse(ec, 400, "the request target must be a path (/...) or an absolute URL");
        owner.request_.method = std::string(method);
        owner.request_.target = std::string(target);
        owner.request_.path = path_of(sv(target));
        owner.request_.version = version;
    }
    void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override { ec = bhttp::error::bad_status; }

    void on_field_impl(bhttp::field f, beast::string_view name, beast::string_view value, beast::error_code& ec) override {
        if (++fields > max_fields)
            return refuse(ec, 431, "the request has more than " + std::to_string(max_fields) + " header fields");
        if (f == bhttp::field::host && ++hosts > 1) return refuse(ec, 400, "the request has more than one Host header");
        if (f == bhttp::field::transfer_encoding) {
            ++transfer_encodings;
            transfer_encoding = std::string(trim(sv(value)));
        }
        owner.request_.headers.emplace_back(std::string(name), std::string(value));
    }

    void on_header_impl(beast::error_code& ec) override {
        const HttpRequest& r = owner.request_;
        if (transfer_encodings > 0 && r.version == 10)
            return refuse(ec, 400, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
        // Beast takes any coding list that ends in chunked; this server decodes chunked alone.
        if (transfer_encodings > 0 && !iequals(transfer_encoding, "chunked"))
            return refuse(ec, 501, "the transfer coding '" + transfer_encoding + "' is not supported (only chunked)");
        if (r.version == 11 && hosts == 0) return refuse(ec, 400, "an HTTP/1.1 request needs a Host header");
    }

    void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}

    size_t take(beast::string_view body, beast::error_code& ec) {
        if (sink && !sink(std::string_view(body.data(), body.size()))) {
            sink_refused = true;
            ec = bhttp::error::bad_alloc;
            return 0;
        }
        return body.size();
    }
    size_t on_body_impl(beast::string_view body, beast::error_code& ec) override { return take(body, ec); }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
    size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code& ec) override {
        return take(body, ec);
    }
    void on_finish_impl(beast::error_code&) override {}
};

RequestReader::RequestReader(const ReaderLimits& limits) : parser_(std::make_unique<Parser>(*this, limits)) {}

RequestReader::~RequestReader() = default;

void RequestReader::fail(int status, std::string message) {
    state_ = State::Failed;
    error_status_ = status;
    error_message_ = std::move(message);
}

size_t RequestReader::feed(std::string_view bytes) {
    if (state_ == State::Failed || state_ == State::Done || bytes.empty()) return 0;
    if (state_ == State::Body && !parser_->sink) return 0;  // waits for read_body()
    Parser& p = *parser_;
    beast::error_code ec;
    size_t used = 0;
    // Beast returns after each structured piece (the head, a chunk header): go on while it can.
    while (used < bytes.size() && !p.is_done() && !(state_ == State::Head && p.is_header_done())) {
        const size_t n = p.put(boost::asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (ec == bhttp::error::need_more) break;
        if (ec) {
            if (p.own_status) return fail(p.own_status, p.own_message), used;
            if (p.sink_refused) return fail(503, "the server's memory for requests is in use"), used;
            if (ec == bhttp::error::header_limit)
                return fail(431, "the request's head (request line and headers) is larger than " +
                                     std::to_string(p.limits.max_head_bytes) + " bytes"), used;
            if (ec == bhttp::error::body_limit)
                return fail(413, "the request body is larger than " + std::to_string(p.limits.max_body_bytes) + " bytes"),
                       used;
            return fail(400, "the HTTP request is malformed (" + ec.message() + ")"), used;
        }
        if (n == 0) break;
    }
    if (state_ == State::Head && p.is_header_done()) state_ = p.is_done() ? State::Done : State::Body;
    if (state_ == State::Body && p.is_done()) state_ = State::Done;
    return used;
}

void RequestReader::end_of_stream() {
    if (state_ == State::Head || state_ == State::Body) fail(400, "the connection ended before the request was whole");
}

std::optional<uint64_t> RequestReader::content_length() const {
    const auto n = parser_->content_length();
    return n ? std::optional<uint64_t>(*n) : std::nullopt;
}

bool RequestReader::keep_alive() const { return parser_->keep_alive(); }

bool RequestReader::expects_continue() const {
    return request_.version == 11 && iequals(trim(request_.header("Expect")), "100-continue");
}

void RequestReader::read_body(std::function<bool(std::string_view)> sink) {
    parser_->sink = std::move(sink);
    parser_->eager(true);
}

}  // namespace dimple::server::http
