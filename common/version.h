// Saveoops' version: `saveoops --version`, the Debian package's Version.
#ifndef SAVEOOPS_COMMON_VERSION_H_
#define SAVEOOPS_COMMON_VERSION_H_

namespace saveoops {

inline constexpr char kSaveoopsVersion[] = "0.19.0";
// Its date, RFC 5322 (the Debian changelog's trailer line).
inline constexpr char kSaveoopsReleaseDate[] = "Thu, 03 Dec 2026 12:00:00 +0000";

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_VERSION_H_
