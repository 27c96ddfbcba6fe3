// `saveoops collect`: copies a store's records into a directory, once each,
// as a log file plus a JSON metadata file (store_format.h, "COLLECTED
// MARKS", says why the mark lives there and not in the store).
//
// Example:
//   StatusOr<CollectResult> c = CollectRecords(where, kDefaultCollectDir);
//   // c->written[0].meta_path ==
//   //   "/var/lib/saveoops/5c6e...-00000003.json"
#ifndef SAVEOOPS_STORE_COLLECT_H_
#define SAVEOOPS_STORE_COLLECT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "store/ring.h"
#include "store/signature.h"

namespace saveoops {

// Where `collect` puts records by default.
inline constexpr char kDefaultCollectDir[] = "/var/lib/saveoops";

// A record `collect` wrote to the collection directory.
struct CollectedRecord {
  uint64_t sequence = 0;
  std::string log_path;
  std::string meta_path;
};

// What CollectRecords() did.
struct CollectResult {
  StoreInfo info;
  std::vector<CollectedRecord> written;  // newly written, by sequence
  int already_present = 0;               // records whose .json existed
  int skipped_corrupt = 0;               // damaged, not collected
};

// Copies records not yet collected into `dir` (created if missing, mode
// 0700): <dir>/<uuid>-<seq, 8 digits>.log holds the log text and
// <dir>/<uuid>-<seq>.json the metadata. A record is "already collected" iff
// its .json exists; both files are written atomically (common/files.h
// AtomicFile: a temporary file created exclusively without following
// links, fsync(), rename, directory fsync()), the .json last, so an
// interrupted collect is redone. Logs are streamed, never held whole.
// The store is opened read-only.
//
// Safety: `dir` is refused (an error naming it) if it is a symbolic link,
// not owned by the invoking user, or writable by group or others, or if a
// directory on its path is owned by someone other than root or the user,
// or is writable by others without being sticky. Nothing under `dir` is
// followed: a .json that is not a regular file is an error, and a link
// planted at a .log name is replaced, never written through.
// Concurrency: collects of the same `dir` take turns (flock(2) on the
// directory), so two at once neither fail nor write a record twice.
StatusOr<CollectResult> CollectRecords(const StoreLocation& location, const std::string& dir);

// What `saveoops collect` prints (terminal-safe): how many records were
// written and where, and how many damaged ones were skipped.
std::string FormatCollectSummary(const CollectResult& result, const std::string& dir);

// File names (without directory) CollectRecords() uses for a record.
std::string CollectedLogName(const CaptureRecord& record);
std::string CollectedMetaName(const CaptureRecord& record);

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
