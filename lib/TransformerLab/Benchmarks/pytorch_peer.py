"""The PyTorch peer of `research bench --section pytorch` (issue 35, item 5).

The same two workloads as the bench's own, written the way a PyTorch user on this machine would write them (Debian's
python3-torch 1.13: no scaled_dot_product_attention yet, so attention is matmul + softmax), timed in this process while
the bench times ours in its own, turn by turn.

Protocol, one request a line on stdin, one answer a line on stdout:
    info                              -> {"torch": "1.13.0a0", "blas": "...", "capability": "AVX2"}
    mha <T> <threads> <calls>         -> {"seconds_per_call": ...}  nn.MultiheadAttention forward, d 256, 4 heads, batch 8
    greedy <L> <threads> <calls>      -> {"seconds_per_call": ...}  cached greedy decoding of L tokens, batch 8
<threads> 0 is PyTorch's own default count (what a user who sets nothing gets).
Nothing else is printed on stdout.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

D_MODEL, HEADS, D_FF, LAYERS, VOCAB, BATCH, SOURCE_LENGTH, BOS = 256, 4, 1024, 3, 64, 8, 32, 1


class CachedDecoder(torch.nn.Module):
    """A Post-LN Transformer decoder (3 layers, d 256, 4 heads, d_ff 1024) decoded with a key/value cache: the shape of
    the bench's StepConfig(false) model and of its kv-cache section (cross-attention keys/values projected once per call)."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, D_MODEL)
        self.out = torch.nn.Linear(D_MODEL, VOCAB)
        self.layers = torch.nn.ModuleList()
        for _ in range(LAYERS):
            layer = torch.nn.ModuleDict({
                "self_qkv": torch.nn.Linear(D_MODEL, 3 * D_MODEL), "self_o": torch.nn.Linear(D_MODEL, D_MODEL),
                "cross_q": torch.nn.Linear(D_MODEL, D_MODEL), "cross_kv": torch.nn.Linear(D_MODEL, 2 * D_MODEL),
                "cross_o": torch.nn.Linear(D_MODEL, D_MODEL),
                "ff1": torch.nn.Linear(D_MODEL, D_FF), "ff2": torch.nn.Linear(D_FF, D_MODEL),
                "norm1": torch.nn.LayerNorm(D_MODEL), "norm2": torch.nn.LayerNorm(D_MODEL), "norm3": torch.nn.LayerNorm(D_MODEL),
            })
            self.layers.append(layer)
        position = torch.arange(4096).unsqueeze(1)
        rate = torch.exp(torch.arange(0, D_MODEL, 2) * (-math.log(10000.0) / D_MODEL))
        table = torch.zeros(4096, D_MODEL)
        table[:, 0::2] = torch.sin(position * rate)
        table[:, 1::2] = torch.cos(position * rate)
        self.register_buffer("positions", table)

    @staticmethod
    def heads(x):  # [batch, time, d] -> [batch, heads, time, d/heads]
        b, t, _ = x.shape
        return x.view(b, t, HEADS, D_MODEL // HEADS).transpose(1, 2)

    @staticmethod
    def attend(q, k, v):
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D_MODEL // HEADS), dim=-1)
        o = weights @ v
        b, h, t, dh = o.shape
        return o.transpose(1, 2).reshape(b, t, h * dh)

    def decode(self, memory, length):
        cross = [[self.heads(y) for y in layer["cross_kv"](memory).chunk(2, dim=-1)] for layer in self.layers]
        cache = [None] * LAYERS
        tokens = torch.full((memory.shape[0],), BOS, dtype=torch.long)
        for t in range(length):
            x = self.embed(tokens).unsqueeze(1) * math.sqrt(D_MODEL) + self.positions[t]
            for i, layer in enumerate(self.layers):
                q, k, v = (self.heads(y) for y in layer["self_qkv"](x).chunk(3, dim=-1))
                if cache[i] is not None:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                x = layer["norm1"](x + layer["self_o"](self.attend(q, k, v)))
                x = layer["norm2"](x + layer["cross_o"](self.attend(self.heads(layer["cross_q"](x)), *cross[i])))
                x = layer["norm3"](x + layer["ff2"](F.relu(layer["ff1"](x))))
            tokens = self.out(x[:, -1]).argmax(-1)
        return tokens


def loaded_blas():
    """The BLAS this process really loaded: Debian's torch links libblas.so.3, which is the reference BLAS unless an
    optimised one (apt-get install libopenblas0-pthread) has taken over the alternative."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    resolved = sorted({__import__("os").path.realpath(p) for p in paths})
    return ", ".join(resolved) or "none found in /proc/self/maps"


def cpu_capability():
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    default_threads = torch.get_num_threads()
    torch.manual_seed(2)
    attention = torch.nn.MultiheadAttention(D_MODEL, HEADS, dropout=0.0, batch_first=True).eval()
    decoder = CachedDecoder().eval()
    memory = torch.randn(BATCH, SOURCE_LENGTH, D_MODEL)
    inputs = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "info":
            torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # the BLAS is loaded by now
            answer = {"torch": torch.__version__, "blas": loaded_blas(), "capability": cpu_capability(),
                      "default_threads": default_threads}
        else:
            workload, size, threads, calls = words[0], int(words[1]), int(words[2]), int(words[3])
            torch.set_num_threads(threads if threads > 0 else default_threads)
            if workload == "mha":
                x = inputs.setdefault(size, torch.randn(BATCH, size, D_MODEL))
                call = lambda: attention(x, x, x, need_weights=False)
            elif workload == "greedy":
                call = lambda: decoder.decode(memory, size)
            else:
                raise SystemExit(f"unknown workload {workload}")
            with torch.no_grad():
                start = time.perf_counter()
                for _ in range(calls):
                    call()
                answer = {"seconds_per_call": (time.perf_counter() - start) / calls}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
