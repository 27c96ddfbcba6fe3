// How the saveoops CLI shows a record (`saveoops show`) and the text forms
// of a record's fields that collect's JSON shares.
#ifndef SAVEOOPS_STORE_DISPLAY_H_
#define SAVEOOPS_STORE_DISPLAY_H_

#include <stdint.h>

#include <string>

#include "store/ring.h"

namespace saveoops {

// A header block (sequence, capture time as UTC ISO-8601, kernel release,
// panic reason, boot id, log size and truncation), a separator line, then
// the log text (ending in a newline). Control characters in the release and
// reason are shown as '?' so a damaged record cannot drive the terminal.
//
//   Record:         #3 (store 5c6e...-..., offset 16384)
//   Captured:       2024-05-01T12:34:56Z
//   Kernel release: 6.1.0-18-amd64
//   Panic reason:   Kernel panic - not syncing: sysrq triggered crash
//   Boot ID:        unknown
//   Log:            81234 bytes
//   ----------------------------------------------------------------
//   <log text>
std::string FormatRecordForDisplay(const CaptureRecord& record);

// Lowercase 8-4-4-4-12 text of a UUID.
std::string FormatUuid(const Uuid& uuid);

// Seconds since the Unix epoch as UTC ISO-8601 ("2024-05-01T12:34:56Z"),
// proleptic Gregorian; values beyond int64_t say so instead.
std::string FormatUtc(uint64_t unix_seconds);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_DISPLAY_H_
