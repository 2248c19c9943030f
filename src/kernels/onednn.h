// The oneDNN CPU engine and a per-thread stream, shared by every kernel that calls oneDNN.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace dimple {

dnnl::engine& onednn_engine();
dnnl::stream& onednn_stream();  // one per calling thread

}  // namespace dimple
