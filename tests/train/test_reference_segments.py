#!/usr/bin/python3
"""The reference vision tower's attention within segments (windows, images), computed segment by
segment since training batches of 16 images made one masked N x N matrix 16x too costly: it must
equal plain softmax attention over the masked full matrix, values and gradients, for random
inputs, several segment layouts (repeated boundaries as cu_window_seqlens has them, lengths 1..)."""
import math
import os
import sys
import unittest

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from dimple_ref import model as M  # noqa: E402


def masked_full(q, k, v, cu, scale):
    n = q.shape[1]
    seg = torch.zeros(n, dtype=torch.long)
    for i in range(1, len(cu)):
        seg[cu[i - 1]:cu[i]] = i
    allowed = seg[:, None] == seg[None, :]
    s = (q @ k.transpose(-1, -2)) * scale
    return torch.softmax(s.masked_fill(~allowed[None], float("-inf")), dim=-1) @ v


class SegmentAttention(unittest.TestCase):
    def test_equals_masked_full_attention(self):
        g = torch.Generator().manual_seed(7)
        layouts = [[0, 64, 128, 160], [0, 1, 1, 17, 17, 40], [0, 144], [0, 16, 48, 48, 49, 113, 200]]
        for heads, hd in ((1, 8), (2, 32), (3, 16)):
            for cu in layouts:
                n = cu[-1]
                q, k, v = (torch.randn(heads, n, hd, generator=g, dtype=torch.float64, requires_grad=True)
                           for _ in range(3))
                scale = 1 / math.sqrt(hd)
                got = M._segment_attention(q, k, v, M._segment_index(torch.tensor(cu)), scale)
                want = masked_full(q, k, v, cu, scale)
                torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, msg=f"{heads}x{hd} {cu}")
                w = torch.randn(heads, n, hd, generator=g, dtype=torch.float64)
                grads = torch.autograd.grad((got * w).sum(), (q, k, v))
                wants = torch.autograd.grad((want * w).sum(), (q, k, v))
                for a, b in zip(grads, wants):
                    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


if __name__ == "__main__":
    unittest.main()
