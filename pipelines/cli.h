// The `memes` command line: parses argv with CLI11, sets logging, runs one subcommand.
#pragma once

namespace memes::pipelines {

// Returns the process exit status: 0 ok, 1 some items failed, 2 usage/configuration error.
int RunCli(int argc, char** argv);

}  // namespace memes::pipelines
