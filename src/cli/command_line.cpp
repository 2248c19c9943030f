#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>

#include "core/error.h"
#include "core/isa.h"

namespace dimple::cli {

Command& Command::subcommand(const std::string& name, const std::string& help) {
    return subcommands_.emplace_back(app_->add_subcommand(name, help));
}

Command& Command::option(const std::string& names, std::string& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, int& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, int64_t& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, uint64_t& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, float& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, double& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, std::optional<int64_t>& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, std::optional<int>& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, std::optional<float>& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, std::optional<std::string>& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::option(const std::string& names, std::vector<std::string>& into, const std::string& help) {
    last_ = app_->add_option(names, into, help);
    return *this;
}
Command& Command::flag(const std::string& names, std::optional<bool>& into, const std::string& help) {
    // CLI11 counts a negated name ("!--no-cache") as -1.
    last_ = app_->add_flag_function(names, [&into](std::int64_t count) { into = count > 0; }, help);
    return *this;
}
Command& Command::flag(const std::string& names, bool& into, const std::string& help) {
    last_ = app_->add_flag(names, into, help);
    return *this;
}

Command& Command::required() {
    last_->required();
    return *this;
}
Command& Command::show_default() {
    last_->capture_default_str();
    return *this;
}
Command& Command::range(double lo, double hi) {
    last_->check(CLI::Range(lo, hi));
    return *this;
}
Command& Command::group(const std::string& name) {
    last_->group(name);
    return *this;
}

Command& Command::on_run(std::function<void()> run) {
    app_->callback(std::move(run));
    return *this;
}

bool Command::given(const std::string& name) const { return app_->count(name) > 0; }

int run_command_line(int argc, char** argv, const std::string& description, const std::string& version,
                     const std::vector<void (*)(Command&)>& add) {
    CLI::App app{description};
    app.require_subcommand(1);
    app.set_version_flag("--version", [&] { return version + "\nkernels " + kernel_isa_description(); });
    Command root(&app);
    for (auto* add_subcommand : add) add_subcommand(root);
    try {
        kernel_isa();  // a bad DIMPLE_CPU is reported here, before any work
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        // Whatever was being allocated: the model's weights, a prompt's activations, a cache.
        std::fprintf(stderr, "error: out of memory (an allocation failed). A smaller compute mode "
                             "(--compute int8), a shorter prompt or answer, or freeing memory helps.\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "internal error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace dimple::cli
