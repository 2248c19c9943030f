// The command line of `dimple`: subcommands and their options, parsed by CLI11.
//
// Only command_line.cpp includes CLI11. It is header-only in Debian and costs every file that
// includes it ~8 s of compiling (its validators are namespace-scope objects, built in each file), so
// the ten files of this layer that used it directly made up half of a first-time build of `dimple`
// (scripts/demo). The subcommands declare their options through this small interface instead.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace dimple::cli {

// A command (the program or one subcommand). Each call returns the command so that calls chain; the
// modifiers (required, show_default, range, group) apply to the option added last.
class Command {
public:
    explicit Command(CLI::App* app) : app_(app) {}
    Command(const Command&) = delete;
    Command& operator=(const Command&) = delete;

    Command& subcommand(const std::string& name, const std::string& help);

    // `names` as CLI11 spells them: "-n,--max-new-tokens", or a positional "model_dir".
    Command& option(const std::string& names, std::string& into, const std::string& help);
    Command& option(const std::string& names, int& into, const std::string& help);
    Command& option(const std::string& names, int64_t& into, const std::string& help);
    Command& option(const std::string& names, uint64_t& into, const std::string& help);
    Command& option(const std::string& names, float& into, const std::string& help);
    Command& option(const std::string& names, double& into, const std::string& help);
    Command& option(const std::string& names, std::optional<int64_t>& into, const std::string& help);
    Command& option(const std::string& names, std::optional<int>& into, const std::string& help);
    Command& option(const std::string& names, std::optional<float>& into, const std::string& help);
    Command& option(const std::string& names, std::optional<std::string>& into, const std::string& help);
    Command& option(const std::string& names, std::vector<std::string>& into, const std::string& help);
    // "--cache,!--no-cache": the second name sets false.
    Command& flag(const std::string& names, bool& into, const std::string& help);
    Command& flag(const std::string& names, std::optional<bool>& into, const std::string& help);

    Command& required();
    Command& show_default();  // print the default in --help
    Command& range(double lo, double hi);
    Command& group(const std::string& name);

    // What runs when this subcommand is named (after every option is parsed).
    Command& on_run(std::function<void()> run);
    // At run time: whether the option named `name` (e.g. "--text") was given.
    bool given(const std::string& name) const;

private:
    CLI::App* app_;
    CLI::Option* last_ = nullptr;
    std::deque<Command> subcommands_;
};

// Builds the command line with each of `add` (one per subcommand), parses argv and runs the
// subcommand named. --version prints `version` and the kernels' instruction set (core/isa.h). Returns the exit code: 0, 2 for bad input (a parse error or dimple::Error, with
// the message on stderr), 1 for an internal error.
int run_command_line(int argc, char** argv, const std::string& description, const std::string& version,
                     const std::vector<void (*)(Command&)>& add);

}  // namespace dimple::cli
