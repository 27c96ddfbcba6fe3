// A stable crash signature of a record's kernel log: the same panic captured
// twice (different timestamps, addresses, PIDs, CPU numbers, offsets) gets
// the same signature; a different reason or call trace gets another.
//
// Canonical string: NormaliseReason(reason) + "\n" + frames joined by "\n"
// (no trailing newline). signature = the first 16 hex digits (lower case)
// of its SHA-256. A log without a call trace has no frames, so its
// signature comes from the reason alone (canonical string "reason\n").
//
// Frames: the first kMaxSignatureFrames function names of the crashing
// task's call trace, the first "Call Trace:" block after the first panic or
// oops line ("Kernel panic", "Oops:", "BUG:", "general protection fault",
// "kernel BUG at"; without such a line, the first "Call Trace:" of the
// log). Offsets/lengths ("+0x16/0x20") and module tags ("[mod]") are
// stripped, unreliable "? " frames and markers (<TASK>, </IRQ>, ...) are
// skipped, leading "[    1.234] " timestamps are ignored. The RIP function
// IS frame 1 when a "RIP: " line (e.g. "RIP: 0010:sysrq_handle_crash+0x16/
// 0x20") sits between the panic/oops line and the Call Trace: it is where
// the CPU was when an oops fired, which the trace itself does not list.
//
// The log is outside bytes: parsing never reads out of bounds, and work is
// linear in the log's size (at most the last kMaxSignatureLogBytes are scanned).
#ifndef SAVEOOPS_STORE_SIGNATURE_H_
#define SAVEOOPS_STORE_SIGNATURE_H_

#include <stddef.h>

#include <string>
#include <string_view>
#include <vector>

namespace saveoops {

inline constexpr size_t kMaxSignatureFrames = 6;
// Only the log's last MiB is scanned: a kernel log ends with the crash, and a
// long-running machine's log can be far larger than its last oops and panic.
inline constexpr size_t kMaxSignatureLogBytes = 1 << 20;
inline constexpr size_t kMaxSignatureReasonBytes = 1024;
inline constexpr size_t kMaxSignatureFrameBytes = 128;

struct CrashSignature {
  std::string hex;                  // 16 lower-case hex digits.
  std::string reason;               // Normalised reason.
  std::vector<std::string> frames;  // At most kMaxSignatureFrames.
};

// Replaces 0x-prefixed hex numbers and bare hex runs of 8 or more digits by
// "<hex>", decimal numbers (PIDs, CPU numbers, ...) by "<n>", collapses
// runs of white space and control bytes into one space and trims. At most
// kMaxSignatureReasonBytes of input are used.
std::string NormaliseReason(std::string_view reason);

// The call trace frames as described above.
std::vector<std::string> SignatureFrames(std::string_view log);

// The signature of a record with this reason field and log text.
CrashSignature ComputeSignature(std::string_view reason, std::string_view log);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_SIGNATURE_H_
