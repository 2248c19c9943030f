#include "chat_model.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

#include "testing.h"
#include "text/reference.h"

namespace dtest {

namespace fs = std::filesystem;

std::string chat_model_dir() {
    static const std::string dir = [] {
        const char* env = std::getenv("DIMPLE_GOLDENS_DIR");
        const fs::path root = env && *env ? env : DIMPLE_GOLDENS_DIR_PATH;
        const fs::path done = root / "chat-model";
        if (fs::exists(done / "vocab.json")) return done.string();
        // Built beside and renamed into place, so tests running at the same time never see half a
        // model: the first rename wins, the others drop their copy.
        fs::create_directories(root);
        const std::string tmp = (root / ("chat-model.tmp-" + std::to_string(::getpid()))).string();
        fs::remove_all(tmp);
        const std::string py = "/usr/bin/python3 " + source_dir() + "/tools/";
        const std::string cmd = py + "make_tiny_model.py " + tmp + " --qwen-ids --vocab 151680 >/dev/null && " + py +
                                "make_dimple_tokenizer.py " + npm_tokenizer_dir() + "/tokenizer.json " + tmp;
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
        std::error_code ec;
        fs::rename(tmp, done, ec);
        if (ec) fs::remove_all(tmp);
        return done.string();
    }();
    return dir;
}

}  // namespace dtest
