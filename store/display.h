// How the saveoops CLI shows records (`saveoops list`, `saveoops show`) and
// the text forms of a record's fields that collect's JSON shares.
//
// A record's bytes come from a dead kernel's memory, or from a disk image
// whose guest may be hostile: nothing from a record reaches the terminal
// raw. Control characters (below 0x20, 0x7f, and the C1 controls
// U+0080-U+009F) and bytes that are not UTF-8 are shown as visible escapes
// ("\x1b"); the log keeps its newlines and tabs, one-line fields (release,
// reason) keep none. Only `show --raw` prints the log as stored.
#ifndef SAVEOOPS_STORE_DISPLAY_H_
#define SAVEOOPS_STORE_DISPLAY_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "store/ring.h"
#include "store/signature.h"

namespace saveoops {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one
// (RFC 3629, section 4: no overlongs, no surrogates, <= U+10FFFF).
size_t Utf8SequenceLength(absl::string_view s, size_t i);

// Terminal-safe text, in pieces: a multi-byte character split between two
// Append() calls is held back and judged whole. Finish() flushes what is
// held back.
//
//   TerminalText t(TerminalText::kLog);
//   t.Append("ok\x1b]0;title\x07\n", &out);   // out == "ok\\x1b]0;title\\x07\n"
class TerminalText {
 public:
  enum Kind {
    kLine,  // a one-line field: every control character is escaped
    kLog,   // log text: newline and tab are kept
  };
  explicit TerminalText(Kind kind) : kind_(kind) {}
  void Append(absl::string_view text, std::string* out);
  void Finish(std::string* out);

 private:
  // Escapes s into out; returns how many bytes it consumed (all, if final).
  size_t Escape(absl::string_view s, bool final, std::string* out) const;
  Kind kind_;
  std::string held_;
};

// The whole of `text` made terminal-safe.
std::string TerminalSafe(absl::string_view text, TerminalText::Kind kind);

// A header block (sequence, capture time as UTC ISO-8601, kernel release,
// panic reason, boot id, log size and truncation), then a separator line:
//
//   Record:         #3 (store 5c6e...-..., offset 16384)
//   Captured:       2024-05-01T12:34:56Z
//   Kernel release: 6.1.0-18-amd64
//   Panic reason:   Kernel panic - not syncing: sysrq triggered crash
//   Boot ID:        unknown
//   Log:            81234 bytes
//   ----------------------------------------------------------------
std::string FormatRecordHeaderForDisplay(const CaptureRecord& record);

// The header with "Signature:" and "Frames:" lines (store/signature.h) when
// sig is not null.
std::string FormatRecordHeaderForDisplay(const CaptureRecord& record, const CrashSignature* sig);

// A JSON string literal (RFC 8259, section 7) of arbitrary bytes: bytes
// that are not valid UTF-8 become U+FFFD, control characters (C0, DEL and
// the C1 U+0080..U+009F) \uXXXX, so the
// result is always valid JSON. Shared by collect's .json and show's.
std::string JsonString(absl::string_view s);

// "Signature:      <16 hex>\nFrames:         a b c\n" ("(no call trace)" without frames).
std::string FormatSignatureForDisplay(const CrashSignature& sig);

// The signature of a stored record: streams its log (the last
// kMaxSignatureLogBytes are used).
StatusOr<CrashSignature> ReadRecordSignature(const StoreLocation& location,
                                             const CaptureRecord& record);

// The header block, then record.log_text (terminal-safe, ending in a
// newline): a record whose log is in memory.
std::string FormatRecordForDisplay(const CaptureRecord& record);

// `saveoops show`: the header block then the log, streamed from the store
// in bounded chunks (ReadRecordLog), terminal-safe; kRaw prints only the
// log bytes as stored. `record` comes from ListRecordMetadata(location).
enum class ShowMode { kDisplay, kRaw };
Status ShowRecord(const StoreLocation& location, const CaptureRecord& record, ShowMode mode,
                  FILE* out);

// `saveoops list`: a summary line then one line per record, e.g.
//   store 5c6e...-... at offset 1048576: 2 record(s), 1 damaged skipped
//   seq 1  6.1.0-18-amd64  2024-05-01T12:34:56Z  Kernel panic - not syncing: ...
std::string FormatListing(const StoreListing& listing, uint64_t store_offset);

// Lowercase 8-4-4-4-12 text of a UUID.
std::string FormatUuid(const Uuid& uuid);

// Seconds since the Unix epoch as UTC ISO-8601 ("2024-05-01T12:34:56Z"),
// proleptic Gregorian; values beyond int64_t say so instead.
std::string FormatUtc(uint64_t unix_seconds);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_DISPLAY_H_
