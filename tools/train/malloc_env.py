"""Keeps freed memory in the process: glibc hands large freed blocks back to the kernel, and the
next tensor of that size faults its pages in again. On the development VM that costs ~0.3 GB/s
(every 68 MB attention tensor of the LLaDA-V tower took 200 ms to allocate; a training step 14 s
instead of 1.5 s). The settings must be in the environment when the process starts, so the
script starts itself again with them."""
import os
import sys

SETTINGS = {"MALLOC_MMAP_THRESHOLD_": str(1 << 34), "MALLOC_TRIM_THRESHOLD_": str(1 << 34),
            "MALLOC_TOP_PAD_": str(1 << 28)}


def keep_freed_memory():
    if all(os.environ.get(k) == v for k, v in SETTINGS.items()):
        return
    os.environ.update(SETTINGS)
    os.execv(sys.executable, [sys.executable] + sys.argv)
