"""Import the ORIGINAL LLaDA code (never committed here) through our transformers shim.

The originals are extracted, unchanged, by tools/llada/get_originals.sh into a folder outside the
repository (default /tmp/llada-orig):
  Fast-dLLM/llada/model/{__init__,configuration_llada,modeling_llada}.py   (NVlabs/Fast-dLLM 24cc59e)
  LLaDA/generate.py                                                        (ML-GSAI/LLaDA b7e6c35)
Their SHA-256 are checked against ORIGINAL_FILES before import.
"""
import hashlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, "shim")
TOOLS = os.path.dirname(HERE)

COMMITS = {
    "NVlabs/Fast-dLLM": "24cc59e75f20a6384bae8c905965bb090b96388e",
    "ML-GSAI/LLaDA": "b7e6c3565f194352da44b38dd12b6970597309f3",
    "ML-GSAI/LLaDA-V": "22527697b9c7de0ea2ac16ca95b632cc1bc84966",
}

# local path -> (repository, path in the repository, sha256)
ORIGINAL_FILES = {
    "Fast-dLLM/llada/model/__init__.py": (
        "NVlabs/Fast-dLLM", "llada/model/__init__.py",
        "1e50c30889851f7c96b7e6a0cc220b9e939ac47f9395cf9ef275540d50cf7429"),
    "Fast-dLLM/llada/model/configuration_llada.py": (
        "NVlabs/Fast-dLLM", "llada/model/configuration_llada.py",
        "5a58ffb848ee7fa18c34ca9289d13aaec062d40bae694caa69552689417f7b06"),
    "Fast-dLLM/llada/model/modeling_llada.py": (
        "NVlabs/Fast-dLLM", "llada/model/modeling_llada.py",
        "570401f87af8b13854e07f9b231b0ac53a2ce8ef58fa1ee1a52f5f67506e902f"),
    "LLaDA/generate.py": (
        "ML-GSAI/LLaDA", "generate.py",
        "a95b1c67d2f9d6a80f7a2d046d59be215fd0cf010c771e9ec07f5b80eae7a9c7"),
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check(orig_dir, repos=None, only_present=False):
    out = {}
    for rel, (repo, path, digest) in ORIGINAL_FILES.items():
        if repos is not None and repo not in repos:
            continue
        p = os.path.join(orig_dir, rel)
        if only_present and not os.path.exists(p):
            continue
        if not os.path.exists(p):
            raise SystemExit(f"{p} missing: run tools/llada/get_originals.sh {orig_dir}")
        got = sha256(p)
        if got != digest:
            raise SystemExit(f"{p}: sha256 {got} is not the pinned {digest}")
        out[rel] = {"repo": repo, "commit": COMMITS[repo], "path": path, "sha256": got}
    return out


def setup_shim():
    import torch
    if SHIM not in sys.path:
        sys.path.insert(0, SHIM)
    if TOOLS not in sys.path:
        sys.path.insert(1, TOOLS)
    sys.path.insert(0, SHIM)  # before any installed package of the same name
    import torch_compat  # noqa: E402  (from the shim folder)
    torch_compat.install()
    torch.set_num_threads(1)


def load_text(orig_dir):
    """Return (modeling module, LLaDAModelLM class, generate module) of the originals."""
    check(orig_dir, repos=("NVlabs/Fast-dLLM", "ML-GSAI/LLaDA"))
    setup_shim()
    sys.path.insert(0, os.path.join(orig_dir, "Fast-dLLM", "llada"))
    import model as fast_dllm_model  # the Fast-dLLM package llada/model/
    modeling = sys.modules["model.modeling_llada"]
    spec = importlib.util.spec_from_file_location("llada_generate", os.path.join(orig_dir, "LLaDA", "generate.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return modeling, fast_dllm_model.LLaDAModelLM, gen
