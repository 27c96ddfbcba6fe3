// sha_bench: SHA-256 throughput of the purgatory's freestanding SHA-256
// (common/sha256.cc, the same source compiled for the host, both engines)
// against BoringSSL's SHA256() on one buffer.
//
// Built at -O2 through bench/opt.bzl (the purgatory itself is always built
// at -O2, toolchains/cc_toolchain_config.bzl), whatever --compilation_mode
// the caller uses.
//
// Output, one line per engine (bench/vs_kdump parses it):
//   sha256 engine=<portable|sha-ni|boringssl> best_mbps=<x> median_mbps=<y>
// MB is 10^6 bytes. Rounds run the engines in turn, so a slower period of
// the machine hits all of them alike. Every engine's digest is checked
// against BoringSSL's; a mismatch is an error.
#include <openssl/sha.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/sha256.h"

namespace {

double NowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Engine {
  std::string name;
  // Hashes the buffer into out[32].
  void (*hash)(const uint8_t* data, size_t len, uint8_t out[32]);
  std::vector<double> mbps;
};

void HashPortable(const uint8_t* data, size_t len, uint8_t out[32]) {
  const saveoops::Sha256Digest d =
      saveoops::Sha256Hash(data, len, saveoops::Sha256Engine::kPortable);
  std::memcpy(out, d.bytes, 32);
}

void HashShaNi(const uint8_t* data, size_t len, uint8_t out[32]) {
  const saveoops::Sha256Digest d = saveoops::Sha256Hash(data, len, saveoops::Sha256Engine::kShaNi);
  std::memcpy(out, d.bytes, 32);
}

void HashBoringSsl(const uint8_t* data, size_t len, uint8_t out[32]) { SHA256(data, len, out); }

bool ParseMiB(const char* text, size_t* out) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || v > 4096) return false;
  *out = static_cast<size_t>(v) << 20;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t size = 64u << 20;
  int rounds = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: sha_bench [--mib=64] [--rounds=7]\n"
          "SHA-256 throughput of Saveoops' purgatory SHA-256 (portable and SHA-NI engines,\n"
          "compiled for the host at -O2) and of BoringSSL's SHA256() on one buffer of\n"
          "--mib MiB, best and median of --rounds rounds. MB/s with MB = 10^6 bytes.\n");
      return 0;
    } else if (a.rfind("--mib=", 0) == 0) {
      if (!ParseMiB(a.c_str() + 6, &size)) {
        std::fprintf(stderr, "sha_bench: --mib must be 1..4096, got '%s'\n", a.c_str() + 6);
        return 2;
      }
    } else if (a.rfind("--rounds=", 0) == 0) {
      rounds = std::atoi(a.c_str() + 9);
      if (rounds < 1 || rounds > 1000) {
        std::fprintf(stderr, "sha_bench: --rounds must be 1..1000, got '%s'\n", a.c_str() + 9);
        return 2;
      }
    } else {
      std::fprintf(stderr, "sha_bench: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }

  std::vector<uint8_t> buf(size);
  uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift: incompressible, repeatable
  for (uint8_t& b : buf) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x >> 24);
  }

  std::vector<Engine> engines = {{"portable", HashPortable, {}}};
  if (saveoops::Sha256ShaNiSupported()) {
    engines.push_back({"sha-ni", HashShaNi, {}});
  } else {
    std::printf("sha_bench: this CPU has no SHA extensions; sha-ni engine skipped\n");
  }
  engines.push_back({"boringssl", HashBoringSsl, {}});

  uint8_t want[32];
  HashBoringSsl(buf.data(), buf.size(), want);
  std::fprintf(stderr, "sha_bench: %zu MiB buffer, %d rounds of %zu engines\n", size >> 20, rounds,
               engines.size());
  for (int r = 0; r < rounds; ++r) {
    for (Engine& e : engines) {
      uint8_t got[32];
      const double start = NowSeconds();
      e.hash(buf.data(), buf.size(), got);
      const double seconds = NowSeconds() - start;
      if (std::memcmp(got, want, 32) != 0) {
        std::fprintf(stderr, "sha_bench: engine %s computed a wrong digest\n", e.name.c_str());
        return 1;
      }
      e.mbps.push_back(buf.size() / seconds / 1e6);
    }
    std::fprintf(stderr, "sha_bench: round %d/%d done\n", r + 1, rounds);
  }
  for (Engine& e : engines) {
    std::sort(e.mbps.begin(), e.mbps.end());
    const size_t n = e.mbps.size();
    const double median = n % 2 ? e.mbps[n / 2] : (e.mbps[n / 2 - 1] + e.mbps[n / 2]) / 2;
    std::printf("sha256 engine=%s best_mbps=%.1f median_mbps=%.1f\n", e.name.c_str(), e.mbps.back(),
                median);
  }
  return 0;
}
