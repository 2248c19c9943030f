"""dimple_ref: a small float32 (or float64) PyTorch reference of the Dimple engine.

Modules:
  safetensors_io  read/write .safetensors files and sharded folders
  model           checkpoint loading, language model, M-RoPE positions, vision tower, projector
  preprocess      Qwen2-VL style image preprocessing (PIL)
  generate        diffusion_generate (pipelines dim/dream, all algorithms, prefill cache, priors)
"""
