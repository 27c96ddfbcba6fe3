#include "host/run_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace saveoops {

absl::Status RunTool(const std::vector<std::string>& argv,
                     const std::vector<std::pair<std::string, std::string>>& env,
                     std::string* output) {
  if (argv.empty()) return absl::InvalidArgumentError("RunTool: no command");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("cannot run ", argv[0], ": pipe: ", strerror(errno)));
  }
  // Everything the child needs is built before fork: it only execs.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(err)));
  }
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    execvp(args[0], args.data());
    const char* msg = "cannot execute the tool\n";
    (void)!write(STDERR_FILENO, msg, strlen(msg));
    _exit(127);
  }
  close(pipefd[1]);
  std::string printed;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(pipefd[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    printed.append(buf, n);
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output != nullptr) *output = printed;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::StrJoin(argv, " "), " failed (",
                   WIFEXITED(status) ? absl::StrCat("exit ", WEXITSTATUS(status)) : "killed",
                   "): ", absl::StripTrailingAsciiWhitespace(printed)));
}

}  // namespace saveoops
