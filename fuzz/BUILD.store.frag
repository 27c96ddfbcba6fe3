# --- record store fuzzer (merge into fuzz/BUILD.bazel) ---
# load("//fuzz:fuzz.bzl", "cc_fuzz_test")

# ParseStoreImage / ParsePartitionTable on raw bytes (mode 0); a real store
# built from the input, appended to and patched, with the append round trip
# checked after every write (mode 1); MBR/GPT skeletons with input-chosen
# table fields (mode 2). Mode 1 wants inputs of a few hundred bytes or more:
# for long campaigns use -max_len=8192.
cc_fuzz_test(
    name = "store_fuzz",
    srcs = ["store_fuzz.cc"],
    deps = [
        "//store",
        "//third_party:absl",
    ],
)
