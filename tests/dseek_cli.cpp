#include "dseek_cli.h"

#include <sys/wait.h>

#include <cstdio>

#include "test_files.h"

namespace dseek::testing {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliRun run_dseek(const std::string& args) {
  const std::string err_file = make_temp_dir("cli") + "/stderr";
  const std::string cmd = std::string(DSEEK_BINARY) + " " + args + " 2>" + shell_quote(err_file);
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = read_file(err_file);
  return r;
}

}  // namespace dseek::testing
