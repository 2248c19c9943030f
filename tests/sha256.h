// SHA-256 (FIPS 180-4) as lowercase hex, for tests that compare bytes with digests the goldens pin.
// Test code only: the engine itself never hashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dtest {

std::string sha256_hex(std::span<const uint8_t> bytes);

}  // namespace dtest
