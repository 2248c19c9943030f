// Request bodies sent compressed (Content-Encoding: gzip or deflate), inflated a piece at a time
// with the size limit and the memory reservation checked as the output grows: a 100 KB body that
// would inflate to 100 MB stops at the limit, having held no more than it.
#pragma once

#include <string>
#include <string_view>

#include "server/memory_budget.h"

namespace dimple::server::http {

// The body as its Content-Encoding says to read it (none or identity: as it is). Throws ApiError:
// 413 when it inflates past `max_bytes`, 415 for a coding other than gzip or deflate, 400 for a
// body that is not what its coding says, 503 when `reservation` cannot grow for the output.
std::string decode_content(std::string_view encoding, std::string body, size_t max_bytes,
                           MemoryBudget::Reservation& reservation);

}  // namespace dimple::server::http
