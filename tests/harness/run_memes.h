// Runs the built `memes` binary as a child process and captures what it printed and how it
// exited, for end-to-end tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace memes::testing {

struct RunResult {
  int exit_code = -1;     // the process's exit status; -1 when killed by a signal
  int signal = 0;         // the signal that ended it, or 0
  bool timed_out = false; // killed after the timeout
  std::string out;        // stdout
  std::string err;        // stderr
  std::string Describe() const;  // for assertion messages
};

struct RunOptions {
  std::chrono::seconds timeout{120};
  std::filesystem::path working_dir;  // empty: inherit
  std::vector<std::string> extra_env; // "NAME=value"
};

// The path of the memes binary this test suite was built with.
std::filesystem::path MemesBinary();

// Runs `memes args…`; stdin is /dev/null.
RunResult RunMemes(const std::vector<std::string>& args, const RunOptions& options = {});

// Runs any program (args[0] is looked up in PATH).
RunResult RunProgram(const std::vector<std::string>& args, const RunOptions& options = {});

}  // namespace memes::testing
