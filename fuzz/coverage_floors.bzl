"""Coverage floors of the fuzz smoke passes (`cov:` after 20000 fixed-seed runs).

Each is set a little below what the smoke pass reached with the code under
test instrumented; a target below its floor fails, so a fuzz target cannot
silently go blind (lose the instrumentation of its library, or stop
reaching the parser). Raise a floor when a better seed corpus lands."""

COVERAGE_FLOORS = {
    "bzimage_fuzz": 10,
    "elfcore_fuzz": 189,
    "vmcoreinfo_fuzz": 261,
    "vmcore_fuzz": 559,
    "printk_fuzz": 880,
    "cpio_fuzz": 295,
    "modules_dep_fuzz": 651,
    "iomem_fuzz": 90,
    "uefi_memmap_fuzz": 339,
    "e820_fuzz": 333,
    "bundle_fuzz": 320,
    "store_fuzz": 810,
    "syslinux_fuzz": 597,
    "uefi_boot_fuzz": 188,
    "gpt_fuzz": 640,
    "bench_parse_fuzz": 280,
    "lz4_block_fuzz": 57,
    "kernel_image_fuzz": 228,
    "partition_table_fuzz": 370,
    "purgatory_image_fuzz": 22,
    "cmdline_fuzz": 236,
    "store_map_fuzz": 440,
    "signature_fuzz": 320,
    "config_fuzz": 600,
    "file_store_fuzz": 320,
}
