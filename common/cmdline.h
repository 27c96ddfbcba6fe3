// The kernel command line as a type: read word by word as the kernel reads
// it (common/cmdline_view.h states the rules), and built with a capacity
// that no word may overflow. No absl: saveoops-capture links it.
//
// Example (arming a capture kernel whose setup header says cmdline_size
// 2047):
//   Cmdline line(kernel.cmdline_size);
//   Status s = line.InsertWords(bundle.capture_cmdline);
//   if (s.ok()) s = line.Insert("elfcorehdr", "0x000000003f000000");
//   line.text()   // "... elfcorehdr=0x000000003f000000", at most 2047 bytes
#ifndef SAVEOOPS_COMMON_CMDLINE_H_
#define SAVEOOPS_COMMON_CMDLINE_H_

#include <stddef.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cmdline_view.h"
#include "common/status.h"

namespace saveoops {

// One of the kernel's words (see CmdlineWord), as string_views into the
// line it was read from.
struct KernelParam {
  std::string_view text;                  // as written, quotes included
  std::string_view name;                  // up to the first '='
  std::optional<std::string_view> value;  // after it, outer quotes dropped
};

// The kernel's words of `line`, in order, up to `--`.
std::vector<KernelParam> KernelParams(std::string_view line);

// What follows `--` (init's arguments), or "" if there is no `--`.
std::string_view InitArguments(std::string_view line);

// The value of the last `key=value` among the kernel's words (the kernel
// keeps the last one for most parameters), or nullopt if there is none.
// `key=` gives "".
std::optional<std::string> CmdlineValue(std::string_view line, std::string_view key);

// True if a kernel word is `key` or `key=...`.
bool CmdlineHas(std::string_view line, std::string_view key);

// An integer option read from a kernel command line, whose bytes nobody
// checked: the value of the last `key=N` when N is a decimal integer within
// [min, max]. Out of range (an overflowing N included) gives the nearer end
// of the range, not a number gives `fallback`; either way `note` says what
// was read and what is used, for the console. Absent gives `fallback` and no
// note.
//   CmdlineIntegerInRange("saveoops.wait=-5", "saveoops.wait", 10, 0, 3600)
//     -> {0, "saveoops.wait=-5 is out of range (0..3600): using 0"}
struct CmdlineInteger {
  long long value = 0;
  std::string note;  // "" when N was used as written, or the key is absent
};
CmdlineInteger CmdlineIntegerInRange(std::string_view line, std::string_view key,
                                     long long fallback, long long min, long long max);

// A command line under construction, never longer than its capacity.
// Every insert checks what it adds and either appends it whole (a space
// before it unless the line is empty) or fails naming the word and the
// capacity, leaving the line as it was.
class Cmdline {
 public:
  // `capacity`: the most bytes the line may hold, without the terminating
  // NUL: the setup header's cmdline_size (Documentation/arch/x86/boot.rst).
  explicit Cmdline(size_t capacity) : capacity_(capacity) {}

  // Appends `key=value`. The key must be a name (printable, no blank, '='
  // or '"'); a value holding blanks is written in double quotes, as the
  // kernel reads them; a value may not hold '"' or control characters.
  Status Insert(std::string_view key, std::string_view value);

  // Appends `words` (one or several, e.g. a user's --append), blanks around
  // them dropped and the rest kept as written. Fails on a control character
  // other than a blank, or an unclosed double quote (the kernel would read
  // every word after it as part of one value). "" appends nothing.
  Status InsertWords(std::string_view words);

  const std::string& text() const { return line_; }
  size_t size() const { return line_.size(); }
  size_t capacity() const { return capacity_; }
  bool empty() const { return line_.empty(); }

 private:
  Status Append(std::string_view piece);

  std::string line_;
  size_t capacity_;
};

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_CMDLINE_H_
