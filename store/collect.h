// `saveoops collect`: copies a store's records into a directory, once each:
// <dir>/records/<UTC capture time>-<seq>/ holding dmesg.txt (the log) and
// record.json (the metadata), and sends each to the systemd journal
// (store/journal.h). store_format.h, "COLLECTED MARKS", says where the
// "collected" mark lives and why.
//
// Example:
//   CollectOptions o;
//   o.dir = kDefaultCollectDir;
//   o.journal_socket = kJournalSocketPath;
//   StatusOr<CollectResult> c = CollectRecords(where, o);
//   // c->written[0].record_dir ==
//   //   "/var/lib/saveoops/records/20261203T114319Z-3"
#ifndef SAVEOOPS_STORE_COLLECT_H_
#define SAVEOOPS_STORE_COLLECT_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "store/journal.h"
#include "store/ring.h"
#include "store/signature.h"

namespace saveoops {

// Where `collect` puts records by default.
inline constexpr char kDefaultCollectDir[] = "/var/lib/saveoops";
// How many record directories `collect` keeps by default (config
// `retention`); 0 keeps them all.
inline constexpr uint64_t kDefaultRetention = 50;
// The largest retention accepted.
inline constexpr uint64_t kMaxRetention = 1000000;
// The subdirectory of the collection directory holding record directories,
// and the files of one record directory.
inline constexpr char kRecordsSubdir[] = "records";
inline constexpr char kCollectedLogFile[] = "dmesg.txt";
inline constexpr char kCollectedMetaFile[] = "record.json";

// The steps collect takes for each new record, in order. A crash between
// any two loses nothing and duplicates nothing (collect_test.cc crashes a
// collect after each): the next collect removes a temporary directory
// left behind, finds a renamed record directory and goes on from there.
enum class CollectStep {
  kTempDirMade,   // records/.tmp-<name>/ created (mkdir is exclusive), empty
  kLogWritten,    // its dmesg.txt written (O_EXCL|O_NOFOLLOW) and fsync()ed
  kMetaWritten,   // its record.json too
  kRenamed,       // renamed to records/<name> (renameat2 RENAME_NOREPLACE)
  kParentSynced,  // records/ fsync()ed: the record directory is durable
  kJournalSent,   // the journal entry sent (or no journal here)
  kStateWritten,  // <uuid>.collected says "collected through this sequence"
};

// What CollectRecords() does.
struct CollectOptions {
  std::string dir = kDefaultCollectDir;
  // Record directories kept (the newest by capture time, then sequence); 0:
  // all.
  uint64_t retention = kDefaultRetention;
  // The journal's native socket (kJournalSocketPath); empty: send nothing.
  std::string journal_socket;
  // Testing: called after each step of each new record; an error stops
  // collect right there (nothing of the record's later steps happens) and
  // is returned. A hook that _exit()s is a crash.
  std::function<Status(CollectStep step, uint64_t sequence)> after_step;
};

// A record `collect` collected in this run.
struct CollectedRecord {
  uint64_t sequence = 0;
  std::string record_dir;  // <dir>/records/<name>
  std::string log_path;    // <record_dir>/dmesg.txt
  std::string meta_path;   // <record_dir>/record.json
  // The record directory was already there (an earlier collect stopped
  // after renaming it): only the journal entry and the mark were redone.
  bool resumed = false;
};

// What CollectRecords() did.
struct CollectResult {
  StoreInfo info;
  std::vector<CollectedRecord> written;  // newly collected, by sequence
  int already_present = 0;               // records collected before
  int skipped_corrupt = 0;               // damaged, not collected
  int journal_entries = 0;               // entries sent to the journal
  // Set (once) when the journal socket is absent or has no listener: why
  // nothing went to the journal. Not an error.
  std::string journal_note;
  std::vector<std::string> removed;   // record directories retention removed
  int stale_temporaries_removed = 0;  // .tmp-* left by an interrupted collect
  std::vector<std::string> notes;     // what retention left alone, and why
};

// Copies records not yet collected into `options.dir` (created if missing,
// mode 0700) as <dir>/records/<name>/{dmesg.txt, record.json} (directories
// 0700, files 0600, whatever the umask), sends each to the journal, marks
// it collected in <dir>/<store uuid>.collected (a KEY=VALUE file written
// atomically after the record directory and the journal entry), then
// removes the oldest record directories beyond options.retention. Logs
// are streamed, never held whole (but for the journal's datagram, up to
// kJournalInlineLimit). The store is opened read-only. Records of the old
// flat layout (<dir>/<uuid>-<seq, 8 digits>.json, written before the
// records/ layout) count as collected and are left where they are.
//
// Errors: a directory or file that cannot be written (a full or read-only
// file system, EFBIG) stops collect with an error naming the path: the
// record being written leaves nothing behind and is not marked; records
// collected before it in the same run stay collected.
//
// Safety: `dir` is refused (an error naming it) if it is a symbolic link,
// not owned by the invoking user, or writable by group or others, or if a
// directory on its path is owned by someone other than root or the user,
// or is writable by others without being sticky; records/ likewise.
// Nothing under `dir` is followed: every file is opened relative to a
// directory descriptor with O_NOFOLLOW, and a symbolic link where a
// record directory, a mark or a state file goes is an error naming it.
// Concurrency: collects of the same `dir` take turns (flock(2) on the
// directory), so two at once neither fail nor collect a record twice.
StatusOr<CollectResult> CollectRecords(const StoreLocation& location,
                                       const CollectOptions& options);

// The same with default options but `dir` (no journal).
StatusOr<CollectResult> CollectRecords(const StoreLocation& location, const std::string& dir);

// The record directory's name: capture time as UTC "YYYYMMDDTHHMMSSZ", '-',
// the sequence ("20261203T114319Z-3"). A name another store's record took
// already gets "-<first 8 hex digits of the store UUID>" appended.
std::string RecordDirName(const CaptureRecord& record);

// Whether `name` is one RecordDirName() could have made (what retention
// may remove).
bool IsRecordDirName(const std::string& name);

// The state file's name in the collection directory: "<uuid>.collected".
std::string CollectStateName(const Uuid& store_uuid);

// Parses a state file's text for `store_uuid` (`name` prefixes errors):
// the highest sequence collected. A parser of outside bytes (the file may
// be damaged); common/key_value.h syntax.
StatusOr<uint64_t> ParseCollectState(std::string_view text, const Uuid& store_uuid,
                                     const std::string& name);
std::string FormatCollectState(const Uuid& store_uuid, uint64_t collected_through);

// The journal entry collect sends for a record (store/journal.h): the
// fields of the README's "Journal" section, SAVEOOPS_DMESG streamed from
// the store.
JournalEntry RecordJournalEntry(const StoreLocation& location, const CaptureRecord& record,
                                const CrashSignature& sig, const std::string& record_dir);

// What `saveoops collect` prints (terminal-safe): how many records were
// written and where, and how many damaged ones were skipped.
std::string FormatCollectSummary(const CollectResult& result, const std::string& dir);

// The file names of the old flat layout (collects before records/):
// "<uuid>-<seq, 8 digits>.log" and ".json".
std::string LegacyCollectedLogName(const CaptureRecord& record);
std::string LegacyCollectedMetaName(const CaptureRecord& record);

// The .json metadata CollectRecords() writes for a record.
std::string RecordMetadataJson(const CaptureRecord& record);

// The same with the record's crash signature (store/signature.h) given:
// "signature", "signature_frames" and "signature_reason" fields.
std::string RecordMetadataJson(const CaptureRecord& record, const CrashSignature& sig);

// One JSON object on one line (JSON Lines): RecordMetadataJson's fields and
// "log_text" (the log, escaped as JsonString does).
std::string RecordJsonLine(const CaptureRecord& record, const CrashSignature& sig,
                           absl::string_view log_text);

// `saveoops list`: FormatListing with each record's signature after its
// sequence number ("seq N  <sig>  release  time  reason"). Reads every log.
StatusOr<std::string> FormatListingWithSignatures(const StoreLocation& location,
                                                  const StoreListing& listing);

// `saveoops list --json` (one RecordJsonLine per record, by sequence) or,
// with by_signature, `list --by-signature`: one line per signature, in the
// order of its first record: "<sig>  count N  seq A..B  T1..T2  <reason>".
// Reads every record's log.
StatusOr<std::string> FormatListingJson(const StoreLocation& location, const StoreListing& listing,
                                        bool by_signature);

}  // namespace saveoops

#endif  // SAVEOOPS_STORE_COLLECT_H_
