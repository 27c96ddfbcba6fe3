// Sending an entry to the systemd journal through its documented native
// protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL), without libsystemd: the
// saveoops binary is static, and libsystemd cannot be linked statically.
//
// An entry is a list of fields. Each is encoded as "KEY=VALUE\n" when the
// value holds no newline, else as "KEY\n", the value's length as a
// little-endian 64-bit integer, the value's bytes, and "\n" (binary-safe:
// a log holds any byte). The entry goes to the AF_UNIX SOCK_DGRAM socket
// (kJournalSocketPath) as one datagram; one too large for a datagram
// (EMSGSIZE), or with a streamed field larger than kJournalInlineLimit,
// goes instead as an empty datagram carrying one sealed memfd (SCM_RIGHTS)
// that holds the same bytes, as the protocol documents.
//
// Keys are what journald accepts from a client: upper-case letters, digits
// and '_', not starting with '_' or a digit, at most 64 characters.
//
// Example:
//   JournalEntry e;
//   e.Add("MESSAGE_ID", kSaveoopsPanicMessageId);
//   e.Add("PRIORITY", "2");
//   e.Add("MESSAGE", "kernel panic on boot ...");
//   StatusOr<JournalSendResult> r = SendToJournal(e, kJournalSocketPath);
#ifndef SAVEOOPS_STORE_JOURNAL_H_
#define SAVEOOPS_STORE_JOURNAL_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saveoops {

// Where journald listens for native-protocol datagrams.
inline constexpr char kJournalSocketPath[] = "/run/systemd/journal/socket";

// Saveoops' own MESSAGE_ID for "a kernel panic was captured" (generated once
// with a random 128-bit UUID; the catalog entry the kexec pack installs
// describes it): `journalctl MESSAGE_ID=0a5408bae23243a592f789604e67cc94`.
inline constexpr char kSaveoopsPanicMessageId[] = "0a5408bae23243a592f789604e67cc94";

// A streamed field up to this many bytes is read into memory and first
// tried as a datagram; a larger one is written straight into the memfd.
inline constexpr uint64_t kJournalInlineLimit = 4 << 20;

// Writes a streamed field's value in pieces; returns the first error.
using JournalChunkSink = std::function<Status(const void* data, size_t size)>;
using JournalStreamer = std::function<Status(const JournalChunkSink& sink)>;

// How an entry was delivered.
struct JournalSendResult {
  enum class How { kDatagram, kMemfd, kNoJournal };
  How how = How::kDatagram;
  std::string note;  // with kNoJournal: why ("... does not exist")
};

// One journal entry under construction.
class JournalEntry {
 public:
  // Appends a field (the key must be a valid journal field name, see
  // above; an invalid one fails SendToJournal/Encode naming it).
  void Add(std::string key, std::string value);
  // Appends a field whose `size` bytes `stream` produces when the entry is
  // sent (a log too large to hold in memory twice). At most one; it is
  // encoded after every Add()ed field. `stream` must produce exactly
  // `size` bytes (anything else fails the send).
  void AddStreamed(std::string key, uint64_t size, JournalStreamer stream);

  // The encoded entry, streamed field included: the bytes the datagram or
  // the memfd carries.
  StatusOr<std::string> Encode() const;

  // The Add()ed fields encoded, and the streamed field (empty key: none).
  StatusOr<std::string> EncodeFixedFields() const;
  const std::string& streamed_key() const { return streamed_key_; }
  uint64_t streamed_size() const { return streamed_size_; }
  Status Stream(const JournalChunkSink& sink) const;

 private:
  struct Field {
    std::string key, value;
  };
  std::vector<Field> fields_;
  std::string streamed_key_;
  uint64_t streamed_size_ = 0;
  JournalStreamer streamed_;
};

// Whether `key` may name a field a client sends.
bool IsValidJournalKey(std::string_view key);

// Sends `entry` to the socket at `socket_path`. A socket that does not
// exist or has no listener (ENOENT, ECONNREFUSED: no journald on this
// system, or not yet) is not an error: kNoJournal with a note. Anything
// else (a key that is not valid, a memfd that cannot be made) is.
StatusOr<JournalSendResult> SendToJournal(const JournalEntry& entry,
                                          const std::string& socket_path);

// Decodes an encoded entry (what the datagram or memfd carries) into its
// fields, in order; for tests and for checking what would be sent. Errors
// name the byte offset of what is malformed. Never reads out of bounds.
StatusOr<std::vector<std::pair<std::string, std::string>>> DecodeJournalEntry(
    std::string_view bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_JOURNAL_H_
