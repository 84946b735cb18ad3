// Running the dseek binary as users and scripts do: its exit status, standard
// output and standard error, for the tests of the command line.
#pragma once

#include <string>

namespace dseek::testing {

struct CliRun {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// One argument for /bin/sh, single-quoted.
std::string shell_quote(const std::string& s);

// `dseek ARGS` through the shell (ARGS quoted by the caller).
CliRun run_dseek(const std::string& args);

}  // namespace dseek::testing
