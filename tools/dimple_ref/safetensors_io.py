"""Minimal safetensors reader/writer (numpy based; no external package).

File layout: u64 little-endian header length N, N bytes of JSON header, then the raw data.
Header maps tensor name -> {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
the data section), plus an optional "__metadata__" entry of strings.
"""
import json
import os
import struct

import numpy as np

# dtype name -> numpy dtype used to hold the raw bytes
_RAW = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
        "I32": np.int32, "U8": np.uint8, "F64": np.float64}


def bf16_bits_to_f32(bits):
    """uint16 bfloat16 bit patterns -> float32 values (exact)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 -> uint16 bfloat16 bit patterns, round to nearest even (no NaN inputs expected)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = u + (np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def read_file(path):
    """Return {name: (dtype_name, numpy array)}; BF16 arrays are returned as uint16 bit patterns."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _RAW:
            raise ValueError(f"{path}: unsupported dtype {dt} for {name}")
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=np.dtype(_RAW[dt]).newbyteorder("<"))
        out[name] = (dt, arr.reshape(info["shape"]).copy())
    return out


def to_float(dt, arr):
    """Upcast a stored array to float32 (integers are returned unchanged)."""
    if dt == "BF16":
        return bf16_bits_to_f32(arr)
    if dt in ("F16", "F32"):
        return arr.astype(np.float32)
    return arr


def folder_files(folder):
    """The weight files of a folder: the shards model.safetensors.index.json names, or model.safetensors."""
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            return [os.path.join(folder, fn) for fn in sorted(set(json.load(f)["weight_map"].values()))]
    return [os.path.join(folder, "model.safetensors")]


def read_folder(folder):
    """Read model.safetensors or all shards of model.safetensors.index.json in a folder."""
    out = {}
    for path in folder_files(folder):
        out.update(read_file(path))
    return out


def map_folder(folder):
    """{name: (dtype_name, read-only numpy memory map)} of every tensor of a folder: nothing is read
    until used (an 8B folder in the memory of what is touched). BF16 maps hold uint16 bit patterns."""
    out = {}
    for path in folder_files(folder):
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n).decode("utf-8"))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in _RAW:
                raise ValueError(f"{path}: unsupported dtype {info['dtype']} for {name}")
            out[name] = (info["dtype"], np.memmap(path, dtype=np.dtype(_RAW[info["dtype"]]).newbyteorder("<"),
                                                  mode="r", offset=8 + n + info["data_offsets"][0],
                                                  shape=tuple(info["shape"])))
    return out


def write_file(path, tensors, dtype="F32", metadata=None):
    """tensors: {name: numpy float array or int64 array}; floats stored as dtype (F32/F16/BF16)."""
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        if a.dtype == np.int64:
            dt, raw = "I64", a.astype("<i8")
        elif dtype == "BF16":
            dt, raw = "BF16", f32_to_bf16_bits(a).astype("<u2")
        elif dtype == "F16":
            dt, raw = "F16", a.astype("<f2")
        else:
            dt, raw = "F32", a.astype("<f4")
        b = np.ascontiguousarray(raw).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # keep the data section 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in chunks:
            f.write(b)


def write_folder(folder, tensors, dtype="BF16", shards=1):
    """Write model.safetensors, or N shards plus model.safetensors.index.json."""
    os.makedirs(folder, exist_ok=True)
    names = sorted(tensors)
    if shards <= 1:
        write_file(os.path.join(folder, "model.safetensors"), tensors, dtype)
        return
    # contiguous groups of about equal byte size, in name order
    sizes = [int(np.asarray(tensors[n]).nbytes) for n in names]
    target = sum(sizes) / shards
    groups, cur, acc = [], [], 0
    for n, s in zip(names, sizes):
        if cur and acc + s / 2 > target * (len(groups) + 1) and len(groups) < shards - 1:
            groups.append(cur)
            cur = []
        cur.append(n)
        acc += s
    groups.append(cur)
    shards = len(groups)
    weight_map, total = {}, 0
    for i, g in enumerate(groups):
        fn = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_file(os.path.join(folder, fn), {n: tensors[n] for n in g}, dtype)
        for n in g:
            weight_map[n] = fn
            total += int(np.asarray(tensors[n]).size) * {"BF16": 2, "F16": 2}.get(dtype, 4)
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
