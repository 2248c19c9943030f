#include "server/http/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "server/api_error.h"

namespace dimple::server::http {

namespace {

constexpr size_t kPiece = 64 << 10;  // output produced (and reserved) at a time

std::string lower_trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Inflates `in` (window_bits as zlib's inflateInit2 takes them); false when the data is not of
// that format (so that raw deflate can be tried after zlib's).
bool inflate_all(const std::string& in, int window_bits, size_t max_bytes, MemoryBudget::Reservation& reservation,
                 const uint64_t held_before, std::string& out) {
    z_stream z{};
    if (inflateInit2(&z, window_bits) != Z_OK) throw ApiError(500, "zlib could not start", "", "internal_error", "server_error");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = uInt(in.size());
    out.clear();
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (out.size() >= max_bytes) {
            inflateEnd(&z);
            throw ApiError(413, "the request body inflates to more than " + std::to_string(max_bytes) +
                                    " bytes (--max-body-bytes)", "", "body_too_large");
        }
        const size_t piece = std::min(kPiece, max_bytes - out.size() + 1);
        if (out.size() + piece > out.capacity()) {  // the reservation grows with the buffer
            const size_t cap = std::max(out.size() + piece, std::min(2 * out.capacity(), max_bytes + 1));
            if (!reservation.grow_to(held_before + cap)) {
                inflateEnd(&z);
                throw ApiError(503, "the server's memory for requests is in use; retry shortly", "", "server_busy",
                               "server_error");
            }
            out.reserve(cap);
        }
        const size_t at = out.size();
        out.resize(at + piece);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
        z.avail_out = uInt(piece);
        rc = inflate(&z, Z_NO_FLUSH);
        out.resize(at + piece - z.avail_out);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_in > 0)) {
            inflateEnd(&z);
            return false;
        }
        if (z.avail_in == 0 && z.avail_out > 0) {  // the input ended inside the stream
            inflateEnd(&z);
            return false;
        }
    }
    const bool whole = z.avail_in == 0;  // nothing after the compressed stream
    inflateEnd(&z);
    if (out.size() > max_bytes)
        throw ApiError(413, "the request body inflates to more than " + std::to_string(max_bytes) +
                                " bytes (--max-body-bytes)", "", "body_too_large");
    return whole;
}

}  // namespace

std::string decode_content(std::string_view encoding, std::string body, size_t max_bytes,
                           MemoryBudget::Reservation& reservation) {
    const std::string coding = lower_trimmed(encoding);
    if (coding.empty() || coding == "identity") return body;
    const bool gzip = coding == "gzip" || coding == "x-gzip";
    if (!gzip && coding != "deflate")
        throw ApiError(415, "the content coding '" + coding + "' is not supported (gzip, deflate or none)", "",
                       "unsupported_content_encoding");
    const uint64_t held = reservation.bytes();  // the compressed body's
    std::string out;
    // "deflate" is the zlib format (RFC 9110), though some clients send raw deflate data.
    const bool ok = gzip ? inflate_all(body, 16 + MAX_WBITS, max_bytes, reservation, held, out)
                         : inflate_all(body, MAX_WBITS, max_bytes, reservation, held, out) ||
                               inflate_all(body, -MAX_WBITS, max_bytes, reservation, held, out);
    if (!ok) throw ApiError(400, "the request body is not valid " + coding + " data", "", "invalid_content_encoding");
    body = std::string();  // the compressed bytes go, and their share of the reservation
    reservation.shrink(held);
    out.shrink_to_fit();
    reservation.shrink(reservation.bytes() > out.size() ? reservation.bytes() - out.size() : 0);
    return out;
}

}  // namespace dimple::server::http
