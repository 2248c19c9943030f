"""Import the ORIGINAL LLaDA code (never committed here) through our transformers shim.

The originals are extracted, unchanged, by tools/llada/get_originals.sh into a folder outside the
repository (default /tmp/llada-orig):
  Fast-dLLM/llada/model/{__init__,configuration_llada,modeling_llada}.py   (NVlabs/Fast-dLLM 24cc59e)
  Fast-dLLM/llada/generate.py (its prefix / dual cache and threshold decoding)   (NVlabs/Fast-dLLM 24cc59e)
  LLaDA/generate.py                                                        (ML-GSAI/LLaDA b7e6c35)
  LLaDA-V/train/llava/...  (ML-GSAI/LLaDA-V 2252769; cache/ and hooks/ are its dLLM-Cache)
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
    "Fast-dLLM/llada/generate.py": (
        "NVlabs/Fast-dLLM", "llada/generate.py",
        "dcfa589b591175a6e4f51d369245cdfba1cdb482d2d9780a8ef1caf54496c359"),
    "LLaDA/generate.py": (
        "ML-GSAI/LLaDA", "generate.py",
        "a95b1c67d2f9d6a80f7a2d046d59be215fd0cf010c771e9ec07f5b80eae7a9c7"),
    "LLaDA-V/train/llava/__init__.py": ("ML-GSAI/LLaDA-V", "train/llava/__init__.py", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    "LLaDA-V/train/llava/constants.py": ("ML-GSAI/LLaDA-V", "train/llava/constants.py", "2c5a8a659b3c5c1c70360808ae901511db67da8fbe331e1329cd754f6f3a0879"),
    "LLaDA-V/train/llava/utils.py": ("ML-GSAI/LLaDA-V", "train/llava/utils.py", "79fb1a80c95882a15f910db6b4d3ddea63adfa241ee68e166aaeb7c63ea93de4"),
    "LLaDA-V/train/llava/mm_utils.py": ("ML-GSAI/LLaDA-V", "train/llava/mm_utils.py", "02091916cfaff67a3bcb14b9d08f5fc99b716a0db3fb1827cd752f4688e7d04e"),
    "LLaDA-V/train/llava/cache/__init__.py": ("ML-GSAI/LLaDA-V", "train/llava/cache/__init__.py", "d6d8f2ec6708bba0e57d7bfca7d0f7fc3a1c3f548cdba7be890e5c3f56f0b9c0"),
    "LLaDA-V/train/llava/cache/Cache.py": ("ML-GSAI/LLaDA-V", "train/llava/cache/Cache.py", "ac61103985bd78e3a7bd58c5f84cf6fd1599b7a2d0acbf5ccf30c5834af6968b"),
    "LLaDA-V/train/llava/cache/Config.py": ("ML-GSAI/LLaDA-V", "train/llava/cache/Config.py", "9a003fd0f6c5399e36d5a74825ad57acf55393be59e301adc5de65da47bca67d"),
    "LLaDA-V/train/llava/hooks/__init__.py": ("ML-GSAI/LLaDA-V", "train/llava/hooks/__init__.py", "689785356e1552b3ef1dcea40c41db688928beb16c630d55997c8b54b3173f40"),
    "LLaDA-V/train/llava/hooks/cache_hook_LLaDA_V.py": ("ML-GSAI/LLaDA-V", "train/llava/hooks/cache_hook_LLaDA_V.py", "aacb59315b1c7f8d8ae5f2ff33bab51736bc03f3acd853cbc46881118977909f"),
    "LLaDA-V/train/llava/model/__init__.py": ("ML-GSAI/LLaDA-V", "train/llava/model/__init__.py", "dc03afbb3b6b6e1f6f370eaf6dd384d05673df63ab81d4a74fe9d9c1ea4e938b"),
    "LLaDA-V/train/llava/model/llava_arch.py": ("ML-GSAI/LLaDA-V", "train/llava/model/llava_arch.py", "f8685055106a1b57a422c6c039ea802889e7c2c08091b097a4425e52f31cb6e3"),
    "LLaDA-V/train/llava/model/language_model/llava_llada.py": ("ML-GSAI/LLaDA-V", "train/llava/model/language_model/llava_llada.py", "f7b61e5f741637b455efc8f411431a007043e2b7a70b59ca2a4e169d46f66384"),
    "LLaDA-V/train/llava/model/language_model/modeling_llada.py": ("ML-GSAI/LLaDA-V", "train/llava/model/language_model/modeling_llada.py", "4d4bdd71388d1cba318dcd52615a7b50bf5d74998d2243202f123c2dbfd76009"),
    "LLaDA-V/train/llava/model/language_model/configuration_llada.py": ("ML-GSAI/LLaDA-V", "train/llava/model/language_model/configuration_llada.py", "ad0c67a14bfda2e3a4b24977ef94885a9937e605ae10fceb786a3a519e8b49b1"),
    "LLaDA-V/train/llava/model/multimodal_encoder/builder.py": ("ML-GSAI/LLaDA-V", "train/llava/model/multimodal_encoder/builder.py", "a2d1bd028e771c5f6f9b52f83523ba10110d2836a6f882b874f0f688e6d9f6ed"),
    "LLaDA-V/train/llava/model/multimodal_encoder/siglip_encoder.py": ("ML-GSAI/LLaDA-V", "train/llava/model/multimodal_encoder/siglip_encoder.py", "09b0e16ed6f0281d86f39fb2ad1c938cb684d8df5272f8b952c3f9e41156cfc3"),
    "LLaDA-V/train/llava/model/multimodal_projector/builder.py": ("ML-GSAI/LLaDA-V", "train/llava/model/multimodal_projector/builder.py", "b0e019aa3f2031b028d6d35b71ef40e16b4b9566c26ad5947dceba1d53777964"),
    "LLaDA-V/train/llava/model/multimodal_resampler/builder.py": ("ML-GSAI/LLaDA-V", "train/llava/model/multimodal_resampler/builder.py", "2e82104348574effc7d2b65c502f439653e4b78bd62815c34a5e77dc7c7a3a5f"),
}

# Sibling modules that llava's builders import but LLaDA-V never uses (CLIP/OpenCLIP/ImageBind/HF
# towers, perceiver/qformer/... resamplers, the pooler projector): replaced by empty stand-ins with
# the imported names, so that their third-party dependencies are not needed.
V_STUB_MODULES = {
    "llava.model.multimodal_encoder.clip_encoder": ["CLIPVisionTower", "CLIPVisionTowerS2"],
    "llava.model.multimodal_encoder.imagebind": ["ImageBindWrapper"],
    "llava.model.multimodal_encoder.open_clip_encoder": ["OpenCLIPVisionTower"],
    "llava.model.multimodal_encoder.hf_vision": ["HFVisionTower"],
    "llava.model.multimodal_resampler.masked_drop": ["MaskedDrop"],
    "llava.model.multimodal_resampler.spatial_pool": ["SpatialPool"],
    "llava.model.multimodal_resampler.perceiver": ["PerceiverResampler"],
    "llava.model.multimodal_resampler.qformer": ["Qformer"],
    "llava.model.multimodal_projector.pooler_projector": ["PoolerProjector"],
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


def load_fast_dllm_generate(orig_dir):
    """Fast-dLLM's llada/generate.py (after load_text: it imports the model package load_text puts
    on sys.path)."""
    spec = importlib.util.spec_from_file_location("fast_dllm_generate",
                                                  os.path.join(orig_dir, "Fast-dLLM", "llada", "generate.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def load_v(orig_dir):
    """Import the original LLaDA-V modules; returns the llava package's relevant modules."""
    import types
    check(orig_dir, repos=("ML-GSAI/LLaDA-V",))
    setup_shim()
    sys.path.insert(0, os.path.join(orig_dir, "LLaDA-V", "train"))
    for name, names in V_STUB_MODULES.items():
        m = types.ModuleType(name)
        m.__doc__ = "stand-in (tools/llada/originals.py): never used by LLaDA-V"
        for n in names:
            setattr(m, n, type(n, (), {"__init__": _unused}))
        sys.modules[name] = m
    import llava.model.language_model.llava_llada as llava_llada
    import llava.model.llava_arch as llava_arch
    import llava.mm_utils as mm_utils
    import llava.model.multimodal_encoder.siglip_encoder as siglip
    import llava.model.language_model.modeling_llada as modeling_v
    import llava.constants as constants
    import llava.cache as cache
    import llava.hooks.cache_hook_LLaDA_V as cache_hook
    return types.SimpleNamespace(llava_llada=llava_llada, llava_arch=llava_arch, mm_utils=mm_utils,
                                 siglip=siglip, modeling=modeling_v, constants=constants, cache=cache,
                                 cache_hook=cache_hook)


def _unused(self, *args, **kwargs):
    raise NotImplementedError("stand-in for a module LLaDA-V does not use")
