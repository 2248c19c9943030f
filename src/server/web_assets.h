// The web page served at GET /: src/server/web/index.html, compiled into the binary at build time
// (CMake writes it into a generated source; see embed_file.cmake), so the server needs no files.
#pragma once

#include <string_view>

namespace dimple::server {

std::string_view index_html();

}  // namespace dimple::server
