// The saveoops binary's own stdout on a store whose record holds terminal
// escapes in its release, panic reason and log (a guest's root controls every
// byte of a record): no byte below 0x20 but newline and tab, no DEL, no ESC
// and no C1 control (raw or UTF-8 encoded) reaches the terminal from list,
// list --json / --by-signature, show, show --json or collect; show --raw gives
// the log's bytes as stored.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/ring.h"

namespace saveoops {
namespace {

const char kRelease[] = "6.1.0\x1b]0;owned\x07-amd64";
const char kReason[] =
    "Kernel panic\x1b[2J\r\x1b[1;1H - not syncing: \x9b"
    "31m";
const char kLog[] =
    "[    0.000000] Linux version 6.1.0\n"
    "\x1b]0;title\x07\x1b[2J\x1b[1;1H\tfake prompt# \x7f\b\b\r\n"
    "C1 CSI \xc2\x9b"
    "31m and a raw \x9b"
    "31m\n"
    "[   12.3] Kernel panic - not syncing: sysrq triggered crash\x1b";

std::string TempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/terminal.XXXXXX";
  EXPECT_NE(mkdtemp(&tmpl[0]), nullptr);
  return tmpl;
}

// stdout of `tools/saveoops ARGS`, and its exit status.
std::string RunSaveoops(const std::string& args, int* rc) {
  const std::string cmd = "tools/saveoops " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p != nullptr && (n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = p != nullptr ? pclose(p) : -1;
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The offset of the first byte that could drive a terminal, or -1.
long FirstTerminalControl(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    const bool c0 = c < 0x20 && c != '\n' && c != '\t';
    const bool raw_c1 =
        c >= 0x80 && c <= 0x9f && !(i > 0 && static_cast<unsigned char>(s[i - 1]) >= 0xc0);
    const bool utf8_c1 = c == 0xc2 && i + 1 < s.size() &&
                         static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                         static_cast<unsigned char>(s[i + 1]) <= 0x9f;
    if (c0 || c == 0x7f || utf8_c1 || raw_c1) return static_cast<long>(i);
  }
  return -1;
}

TEST(TerminalOutputTest, NoControlByteOfARecordReachesStdout) {
  const std::string dir = TempDir();
  const std::string store = dir + "/store.img";
  ASSERT_TRUE(FormatStore({store, 0, 256 * 1024}).ok());
  NewRecord r;
  r.capture_time_unix = 1714566896;
  r.kernel_release = kRelease;
  r.panic_reason = kReason;
  r.log_text = kLog;
  ASSERT_TRUE(AppendRecord({store, 0, 0}, r).ok());

  for (const std::string& args :
       {absl::StrCat("list --store=", store), absl::StrCat("list --json --store=", store),
        absl::StrCat("list --by-signature --store=", store), absl::StrCat("show --store=", store),
        absl::StrCat("show --json --store=", store), absl::StrCat("show --store=", store, " 1"),
        absl::StrCat("collect --store=", store, " --dir=", dir, "/records")}) {
    SCOPED_TRACE(args);
    int rc = -1;
    const std::string out = RunSaveoops(args, &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_FALSE(out.empty());
    const long at = FirstTerminalControl(out);
    EXPECT_EQ(at, -1) << "at byte " << at << " of:\n" << out;
  }
  int rc = -1;
  EXPECT_EQ(RunSaveoops(absl::StrCat("show --raw --store=", store), &rc), std::string(kLog));
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace saveoops
