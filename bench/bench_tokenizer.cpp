// Tokenizer encode speed, one thread, on generated mixed text (tests/text/corpus.cpp), next to the
// JavaScript reference (tools/npm/reference.mjs --speed) on the same text.
//
//   bench_tokenizer --model DIR [--mb 8] [--reference]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../tests/text/corpus.h"
#include "core/error.h"
#include "text/tokenizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::string model;
    double mb = 8;
    bool reference = false;
    CLI::App app{"Tokenizer encode speed (MB/s, one thread)"};
    app.add_option("--model", model, "Folder with the tokenizer files")->required();
    app.add_option("--mb", mb, "Size of the generated text in MB");
    app.add_flag("--reference", reference, "Also time the JavaScript reference (needs tools/npm/node_modules)");
    CLI11_PARSE(app, argc, argv);

    const std::string text = dtest::make_mixed_text(size_t(mb * 1e6), 42);
    std::vector<std::string> lines;
    std::istringstream in(text);
    size_t bytes = 0;
    for (std::string line; std::getline(in, line);) bytes += line.size(), lines.push_back(std::move(line));
    std::printf("text: %.2f MB generated mixed text in %zu lines\n", bytes / 1e6, lines.size());

    try {
        auto t0 = std::chrono::steady_clock::now();
        const auto tok = dimple::text::Tokenizer::load(model);
        std::printf("dimple: load %.2f s\n", seconds_since(t0));
        double best = 1e30;
        size_t tokens = 0;
        for (int rep = 0; rep < 3; ++rep) {
            tokens = 0;
            t0 = std::chrono::steady_clock::now();
            for (const std::string& line : lines) tokens += tok.encode(line).size();
            best = std::min(best, seconds_since(t0));
        }
        std::printf("dimple: %.2f MB/s (%.2f s best of 3, %zu tokens, %.2f bytes/token)\n", bytes / 1e6 / best,
                    best, tokens, double(bytes) / double(tokens));
    } catch (const dimple::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }

    if (reference) {
        const std::string file = (std::filesystem::temp_directory_path() / "dimple-bench-tokenizer.txt").string();
        std::ofstream(file, std::ios::binary) << text;
        const std::string cmd = "node " DIMPLE_SOURCE_DIR "/tools/npm/reference.mjs --speed '" + model + "' " + file;
        std::printf("reference: ");
        std::fflush(stdout);
        const int rc = std::system(cmd.c_str());
        std::filesystem::remove(file);
        if (rc != 0) return 1;
    }
    return 0;
}
