// Extracting the dead kernel's log from its lockless printk ring buffer.
//
// Since Linux 5.10 the log lives in a struct printk_ringbuffer
// (kernel/printk/printk_ringbuffer.{h,c}): a ring of 2^count_bits
// descriptors (struct prb_desc: state_var, text_blk_lpos), a parallel array
// of struct printk_info (seq, ts_nsec, text_len, caller_id, ...), and a
// 2^size_bits byte text data ring of blocks "unsigned long id; char text[]".
// The kernel variable `prb` points at the ring in use.
//
// ReadPrintkLog() walks descriptor ids from tail_id to head_id, exactly as
// the kernel's own reader validates them, and keeps the committed and
// finalized records. Every structure offset and size comes from VMCOREINFO
// (log_buf_vmcoreinfo_setup(), kernel/printk/printk.c), so a kernel that
// reorders these structs is still read correctly; only the field widths
// (u64 seq, u16 text_len, unsigned long ids, ...) and the descriptor state
// encoding are taken from the 6.1 sources.
//
// The ring comes from a kernel that crashed, so it is read as untrusted
// input: a record whose bytes do not add up is skipped and counted, never
// trusted, and the walk is bounded by the ring's size.
//
// Addresses are translated first through the vmcore's PT_LOAD p_vaddr; if a
// core header carries no usable virtual addresses, kernel-image addresses
// fall back to NUMBER(phys_base) and everything else to a walk of the dead
// kernel's page tables (SYMBOL(init_top_pgt)).
//
// Example:
//   ASSIGN_OR_RETURN(PrintkLog log, ReadPrintkLog(core, info));
//   std::string dmesg = FormatPrintkLog(log);
//   // "Kernel panic - not syncing: ...", or the last Oops/BUG line:
//   std::string why = FindPanicReason(log);
#ifndef SAVEOOPS_CAPTURE_PRINTK_H_
#define SAVEOOPS_CAPTURE_PRINTK_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "capture/vmcore.h"
#include "capture/vmcoreinfo.h"
#include "common/status.h"

namespace saveoops {

// PrintkRecord::level when VMCOREINFO's layout does not let us locate the
// level bits (VMCOREINFO exports no offset for the facility/flags/level
// bytes; see ReadPrintkLog).
inline constexpr uint8_t kPrintkLevelUnknown = 0xff;

// One log record, as the kernel stored it.
struct PrintkRecord {
  // Sequence number; consecutive records differ by 1 unless records were
  // lost or skipped.
  uint64_t seq = 0;
  // Timestamp (local_clock()) in nanoseconds since boot.
  uint64_t ts_nsec = 0;
  // Syslog level 0 (KERN_EMERG) .. 7 (KERN_DEBUG), or kPrintkLevelUnknown.
  uint8_t level = kPrintkLevelUnknown;
  // Syslog facility (0 for the kernel), or kPrintkLevelUnknown.
  uint8_t facility = kPrintkLevelUnknown;
  // Thread id, or 0x80000000 | cpu for records printed outside task
  // context (printk_caller_id(), kernel/printk/printk.c).
  uint32_t caller_id = 0;
  // The message, text_len bytes, without the trailing newline the kernel
  // strips on store; may hold embedded newlines (multi-line records).
  std::string text;
};

// Everything recovered from the ring, oldest record first.
struct PrintkLog {
  std::vector<PrintkRecord> records;
  // Records whose descriptor, info or data block was inconsistent or
  // unreadable (a damaged ring, or memory missing from the vmcore).
  uint64_t skipped_damaged = 0;
  // Records still reserved by a writer when the kernel died (their text
  // may be half written), including a head descriptor caught mid-reserve.
  uint64_t skipped_unfinished = 0;
  // Records that exist but whose text is gone: reusable descriptors (text
  // overwritten) and data-less records (text allocation failed).
  uint64_t skipped_no_data = 0;
  // records.front().seq and records.back().seq + 1; both 0 if no record
  // was recovered.
  uint64_t first_seq = 0;
  uint64_t next_seq = 0;
  // Human-readable notes on what was skipped and why (at most
  // kMaxPrintkWarnings), for the capture report.
  std::vector<std::string> warnings;
};

// Cap on PrintkLog::warnings.
inline constexpr size_t kMaxPrintkWarnings = 32;

// Knobs for ReadPrintkLog.
struct PrintkOptions {
  // Walk at most this many descriptors (the newest ones). The default is
  // the largest ring accepted (count_bits <= 24).
  uint64_t max_records = uint64_t{1} << 24;
};

// Reads the log of the kernel described by `info` out of `core`.
// Fails only when the ring as a whole cannot be located or makes no sense:
// a VMCOREINFO key it needs is missing or inconsistent, `prb` or the ring
// header is unreadable, count_bits > 24 or size_bits outside [3, 30].
// Damage to individual records is counted in the result instead.
StatusOr<PrintkLog> ReadPrintkLog(const Vmcore& core, const VmcoreInfo& info,
                                  const PrintkOptions& options = {});

// Formats the log the way `dmesg` (and the kernel's syslog reader,
// record_print_text()) does: every line of every record is prefixed with
// the record's timestamp, "[%5lu.%06lu] ", and ends with '\n'.
// Example: {ts_nsec = 1234567890, text = "a\nb"} gives
//   "[    1.234567] a\n[    1.234567] b\n".
std::string FormatPrintkLog(const PrintkLog& log);

// The reason the kernel died, as one line of the log: the last
// "Kernel panic - not syncing: ..." line if there is one, else the last
// line that contains "Oops", "BUG:" or "general protection fault", else "".
std::string FindPanicReason(const PrintkLog& log);

}  // namespace saveoops

#endif  // SAVEOOPS_CAPTURE_PRINTK_H_
