// KEY=VALUE text, the syntax of /etc/saveoops/saveoops.conf (host/config.h)
// and of collect's state files (store/collect.h): one setting a line,
// blank lines and lines starting with '#' ignored, spaces and tabs around
// the key and the value trimmed. The value is the rest of the line, taken
// as it is (no quoting, no escapes, no inline comments).
//
// A parser of outside bytes: the input is bounded (kMaxKeyValueBytes), a
// line longer than kMaxKeyValueLine, a NUL or other control byte, a key
// that is not [a-z_][a-z0-9_]* of at most kMaxKeyLength, a line without
// '=' and a key given twice are each an error naming "NAME:LINE" (NAME is
// how the caller names the text, usually its path).
//
// Example:
//   StatusOr<std::vector<KeyValue>> kv =
//       ParseKeyValues("retention = 50\n# a comment\n", "/etc/saveoops/saveoops.conf");
//   // (*kv)[0].key == "retention", value == "50", line == 1
#ifndef SAVEOOPS_COMMON_KEY_VALUE_H_
#define SAVEOOPS_COMMON_KEY_VALUE_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saveoops {

// Largest KEY=VALUE text accepted (a config file is a few hundred bytes).
inline constexpr size_t kMaxKeyValueBytes = 64 * 1024;
// Longest line, newline excluded.
inline constexpr size_t kMaxKeyValueLine = 4096;
// Longest key.
inline constexpr size_t kMaxKeyLength = 64;

// One setting and the line (1-based) it was on.
struct KeyValue {
  std::string key;
  std::string value;
  int line = 0;
};

// Parses `text` (see the file comment); `name` prefixes every error.
StatusOr<std::vector<KeyValue>> ParseKeyValues(std::string_view text, const std::string& name);

// A decimal number of at most `max` (no sign, no spaces, no leading '+');
// errors say "NAME:LINE: KEY=VALUE: ..." for the setting `kv`.
StatusOr<uint64_t> KeyValueNumber(const KeyValue& kv, const std::string& name, uint64_t max);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_KEY_VALUE_H_
