#!/usr/bin/env python3
"""
A PyTorch twin of our PtychoPINN training step, for measurement only (`npm run bench:torch`,
bench/torch.ts; docs/benchmarks.md). It is never used by the app or by `npm test`.

The same network layer for layer as src/lib/model/network.ts (the generator of the reference's
`model.py:300-473`), the same parameter count, the same physics as src/lib/physics/forward.ts
(per-sample merge, trim, extract, probe multiply, far field; `model.py:758-828`), the same scalers as
src/lib/model/pinn.ts (input / e^lambda, intensity x e^(2 lambda), lambda = ln s constant), the same
Poisson NLL as src/lib/model/loss.ts, Adam 1e-3 with tfjs' epsilon 1e-7, and the same batch: the
inputs, offsets, probe and initial weights come from bench/torch.ts in one binary file, so the
twin's first loss can be checked against ours before anything is timed.

Differences, all in how the arithmetic is laid out, none in what is computed:
- tensors are NCHW (PyTorch's layout); the C channels of a group are already in our flat b*C + c
  order, so no transpose is needed before the merge;
- the far field is torch.fft.fft2 (orthonormal) + fftshift by default (what a PyTorch user would
  write); `--far-field dft` uses our 8 real matMuls of src/lib/physics/dft.ts instead;
- the merge and extract translations are the same separable bilinear matrices as
  src/lib/physics/translate.ts and forward.ts (built here from the offsets, in float64, like ours),
  applied with batched matMuls, as ours are.

Usage (bench/torch.ts runs it; it prints one JSON object on stdout, progress on stderr):
  twin.py --data FILE --warmup 2 --steps 6 --devices cpu1,cpu,cuda [--far-field fft|dft]
FILE.json holds the shapes and where each array lies in FILE.bin (float32, little-endian).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# src/lib/physics/forward.ts MERGE_NORM_EPS and MERGE_NORM_FLOOR (deviation (c), docs/decisions.md)
MERGE_NORM_EPS = 0.001
MERGE_NORM_FLOOR = 1.0
# src/lib/model/loss.ts NLL_EPSILON
NLL_EPSILON = 1e-12


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The generator (src/lib/model/network.ts)

def whole(x, what):
    if x != int(x) or x < 1:
        raise ValueError(f"twin: {what} = {x} is not a positive whole number of filters")
    return int(x)


def filter_plan(N, f, C, object_big=True):
    """network.ts filterPlan: nb = log2(N/8) encoder blocks 128f/2^(nb-1-i), nb-1 trunk blocks
    32f*2^(nb-2-j), border f*2048/N (`model.py:300-347, 373-402`)."""
    nb = int(round(math.log2(N / 8)))
    if 2 ** nb * 8 != N or nb < 1 or N > 256:
        raise ValueError(f"twin: N must be 16, 32, 64, 128 or 256 (got {N})")
    encoder = [whole(128 * f / 2 ** (nb - 1 - i), f"encoder block {i + 1}") for i in range(nb)]
    trunk = [whole(32 * f * 2 ** (nb - 2 - j), f"decoder block {j + 1}") for j in range(nb - 1)]
    border = whole(f * 2048 / N, "border block")
    return {"encoder": encoder, "trunk": trunk, "border": border, "c_out": C if object_big else 1}


def expected_parameter_count(N, f, C):
    """network.ts expectedParameterCount (pad_object and probe.big on, object.big on)."""
    plan = filter_plan(N, f, C)
    c3 = lambda cin, cout: 9 * cin * cout + cout
    total, cin = 0, C
    for k in plan["encoder"]:
        total += c3(cin, k) + c3(k, k)
        cin = k
    per_head, c = 0, cin
    for k in plan["trunk"]:
        per_head += c3(c, k) + c3(k, k)
        c = k
    per_head += c3(c - 4, plan["c_out"])
    per_head += c3(4, plan["border"]) + c3(plan["border"], plan["border"]) + c3(plan["border"], plan["c_out"])
    return total + 2 * per_head


def conv(cin, cout):
    # Keras/tfjs Conv2D 3x3, padding 'same', bias (network.ts conv)
    return nn.Conv2d(cin, cout, 3, padding=1, bias=True)


def border_mask(N):
    """1 outside the central window [N/4, 3N/4)^2, 0 inside (network.ts borderMask, `tf_helper.py:1058-1089`)."""
    m = torch.ones(N, N)
    m[N // 4:3 * N // 4, N // 4:3 * N // 4] = 0
    return m


class Head(nn.Module):
    """One decoder head (network.ts head, pad_object and probe.big on): Conv-Up trunk, then the
    main branch (all but the last 4 channels -> conv -> activation -> zero pad N/4) plus the border
    branch (last 4 channels -> Conv-Up -> conv -> swish -> border mask)."""

    def __init__(self, kind, N, bottleneck, plan):
        super().__init__()
        self.kind, self.N = kind, N
        self.convs = nn.ModuleDict()
        c = bottleneck
        self.trunk = []
        for j, k in enumerate(plan["trunk"]):
            name = f"{kind}_up{j + 1}"
            self.convs[name + "a"] = conv(c, k)
            self.convs[name + "b"] = conv(k, k)
            self.trunk.append(name)
            c = k
        if c <= 4:
            raise ValueError("twin: the decoder trunk needs more than 4 channels for the main/border split")
        self.convs[f"{kind}_conv1"] = conv(c - 4, plan["c_out"])
        self.convs[f"{kind}_border_upa"] = conv(4, plan["border"])
        self.convs[f"{kind}_border_upb"] = conv(plan["border"], plan["border"])
        self.convs[f"{kind}_conv2"] = conv(plan["border"], plan["c_out"])
        self.register_buffer("mask", border_mask(N).view(1, 1, N, N))

    def activation(self, x):
        # amplitude: sigmoid (amp_activation default); phase: pi*tanh (`model.py:410`)
        return math.pi * torch.tanh(x) if self.kind == "phase" else torch.sigmoid(x)

    def conv_up(self, x, name):
        x = F.relu(self.convs[name + "a"](x))
        x = F.relu(self.convs[name + "b"](x))
        return F.interpolate(x, scale_factor=2, mode="nearest")  # UpSampling2D (`model.py:331-347`)

    def forward(self, x):
        for name in self.trunk:
            x = self.conv_up(x, name)
        q = self.N // 4
        x1 = self.activation(self.convs[f"{self.kind}_conv1"](x[:, :-4]))
        x1 = F.pad(x1, (q, q, q, q))
        x2 = self.conv_up(x[:, -4:], f"{self.kind}_border_up")
        x2 = F.silu(self.convs[f"{self.kind}_conv2"](x2)) * self.mask
        return x1 + x2


class Generator(nn.Module):
    """Input (B,C,N,N) -> amplitude, phase (B,C_out,N,N). Encoder: Conv-ReLU, Conv-ReLU, MaxPool 2x2
    per block; two heads with their own weights. Layer names are network.ts's, so its weights load."""

    def __init__(self, N, f, C):
        super().__init__()
        plan = filter_plan(N, f, C)
        self.enc = nn.ModuleDict()
        cin = C
        for i, k in enumerate(plan["encoder"]):
            self.enc[f"enc{i + 1}a"] = conv(cin, k)
            self.enc[f"enc{i + 1}b"] = conv(k, k)
            cin = k
        self.n_enc = len(plan["encoder"])
        self.amp = Head("amp", N, cin, plan)
        self.phase = Head("phase", N, cin, plan)

    def forward(self, x):
        for i in range(self.n_enc):
            x = F.relu(self.enc[f"enc{i + 1}a"](x))
            x = F.relu(self.enc[f"enc{i + 1}b"](x))
            x = F.max_pool2d(x, 2)
        return self.amp(x), self.phase(x)

    def layers_by_name(self):
        out = dict(self.enc.items())
        out.update(self.amp.convs.items())
        out.update(self.phase.convs.items())
        return out


# --------------------------------------------------------------------------------------------
# The physics (src/lib/physics/translate.ts, forward.ts, dft.ts)

def shift_matrix(n_out, n_in, t, pad_before):
    """translate.ts shiftMatrix64: output i reads source s = i - pad_before - t with bilinear weights
    (1-w) at floor(s) and w at floor(s)+1, zero fill (`projective_warp_xla.py:242-317`)."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        s = i - pad_before - t
        j0 = math.floor(s)
        w = s - j0
        if 0 <= j0 < n_in and w != 1:
            m[i, j0] += 1 - w
        if 0 <= j0 + 1 < n_in and w != 0:
            m[i, j0 + 1] += w
    return m


class Operators:
    """forward.ts buildForwardOperators: per-sample merge (deviation (a)) and extract matrices, the
    normaliser max(merged central-window count + 0.001, 1) (deviation (c)), and the identity path
    (gridsize 1, zero offsets: the chain is O / normTrim elementwise)."""

    def __init__(self, offsets, B, N, C, P, device):
        offsets = np.asarray(offsets, dtype=np.float64).reshape(B * C, 2)  # (x, y) per b*C + c
        pad = (P - N) // 2
        rt = offsets - offsets.mean(axis=0)  # re-centre (`tf_helper.py:874-880`)
        self.B, self.N, self.C, self.P, self.pad = B, N, C, P, pad
        self.identity = C == 1 and not np.any(rt) and not np.any(offsets)
        u = np.zeros(N)
        u[N // 4:3 * N // 4] = 1  # central window indicator
        my = [shift_matrix(P, N, -rt[k, 1], pad) for k in range(B * C)]
        mx = [shift_matrix(P, N, -rt[k, 0], pad) for k in range(B * C)]
        norm = np.full((B, P, P), MERGE_NORM_EPS)
        for k in range(B * C):
            norm[k // C] += np.outer(my[k] @ u, mx[k] @ u)
        norm = np.maximum(norm, MERGE_NORM_FLOOR)
        f32 = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32, device=device)
        self.norm = f32(norm)
        self.norm_trim = f32(norm[:, pad:pad + N, pad:pad + N]).view(B, 1, N, N)
        if not self.identity:
            self.merge_y = f32(np.stack(my))  # [B*C, P, N]
            self.merge_x_t = f32(np.stack(mx).transpose(0, 2, 1)).contiguous()  # [B*C, N, P]
            ey = [shift_matrix(N, P, offsets[k, 1], -pad) for k in range(B * C)]
            ex = [shift_matrix(N, P, offsets[k, 0], -pad) for k in range(B * C)]
            self.extract_y = f32(np.stack(ey).reshape(B, C * N, P))  # [B, C*N, P]
            self.extract_x_t = f32(np.stack(ex).transpose(0, 2, 1)).contiguous()  # [B*C, P, N]

    def merge(self, o):
        """[B,C,N,N] -> canvas [B,P,P] (forward.ts mergePatches)."""
        B, C, N, P = self.B, self.C, self.N, self.P
        flat = o.reshape(B * C, N, N)
        t = torch.bmm(torch.bmm(self.merge_y, flat), self.merge_x_t)  # [B*C, P, P]
        return t.view(B, C, P, P).sum(1) / self.norm

    def extract(self, canvas):
        """canvas [B,P,P] -> windows [B*C,N,N] (forward.ts extractWindowsFlat)."""
        B, C, N, P = self.B, self.C, self.N, self.P
        rows = torch.bmm(self.extract_y, canvas).view(B * C, N, P)
        return torch.bmm(rows, self.extract_x_t)

    def windows(self, re, im):
        """Object (re, im) [B,C,N,N] -> each channel's illuminated window [B*C,N,N] and the trimmed object."""
        B, N = self.B, self.N
        if self.identity:
            tr, ti = re / self.norm_trim, im / self.norm_trim
            return tr.view(B, N, N), ti.view(B, N, N), (tr, ti)
        cr, ci = self.merge(re), self.merge(im)
        p = self.pad
        trimmed = (cr[:, p:p + N, p:p + N], ci[:, p:p + N, p:p + N])  # forward.ts trimCanvas
        return self.extract(cr), self.extract(ci), trimmed


def dft_matrices(N, device):
    """dft.ts dftMatrices: W[k,n] = (-1)^n e^{-2 pi i kn/N} / sqrt(N), fftshift folded in."""
    k = np.arange(N).reshape(N, 1)
    n = np.arange(N).reshape(1, N)
    ang = 2 * np.pi * ((k * n) % N) / N
    sign = np.where(n % 2 == 0, 1.0, -1.0)
    cr = sign * np.cos(ang) / np.sqrt(N)
    ci = -sign * np.sin(ang) / np.sqrt(N)
    t = lambda a: torch.tensor(a, dtype=torch.float32, device=device)
    return t(cr), t(ci)


def far_field(re, im, mode, dft):
    """fftshift(|DFT2 psi|^2)/N^2 (`tf_helper.py:346-367`; dft.ts farFieldIntensity)."""
    if mode == "fft":
        f = torch.fft.fftshift(torch.fft.fft2(torch.complex(re, im), norm="ortho"), dim=(-2, -1))
        return f.real ** 2 + f.imag ** 2
    cr, ci = dft
    # Y = psi W^T, then F = W Y: the 8 real matMuls of dft.ts
    yr = re @ cr.T - im @ ci.T
    yi = re @ ci.T + im @ cr.T
    fr = cr @ yr - ci @ yi
    fi = cr @ yi + ci @ yr
    return fr ** 2 + fi ** 2


class Twin(nn.Module):
    """pinn.ts PtychoPinn.forward + loss, NCHW."""

    def __init__(self, N, f, C, probe_re, probe_im, log_scale, ops, far_field_mode, device):
        super().__init__()
        self.generator = Generator(N, f, C)
        self.N, self.C, self.ops, self.mode = N, C, ops, far_field_mode
        self.register_buffer("probe_re", torch.tensor(probe_re, dtype=torch.float32).view(N, N))
        self.register_buffer("probe_im", torch.tensor(probe_im, dtype=torch.float32).view(N, N))
        self.log_scale = float(log_scale)  # lambda = ln s, constant (deviation (b), docs/decisions.md)
        self.dft = dft_matrices(N, device) if far_field_mode == "dft" else None

    def intensity(self, inputs):
        """inputs s*X [B,C,N,N] -> predicted intensity e^(2 lambda)*|F|^2 [B,C,N,N]."""
        B, C, N = inputs.shape[0], self.C, self.N
        amp, phase = self.generator(inputs / math.exp(self.log_scale))
        re, im = amp * torch.cos(phase), amp * torch.sin(phase)  # `custom_layers.py:60-63`
        wr, wi, _ = self.ops.windows(re, im)
        pr, pi = wr * self.probe_re - wi * self.probe_im, wr * self.probe_im + wi * self.probe_re  # `model.py:216`
        I = far_field(pr, pi, self.mode, self.dft).view(B, C, N, N)
        return I * math.exp(2 * self.log_scale)  # `model.py:280-289`

    def loss(self, inputs):
        """Mean Poisson NLL, I - Y ln(I + eps), Y = (s*X)^2 (loss.ts poissonNll, `model.py:485-498`)."""
        I = self.intensity(inputs)
        return torch.mean(I - inputs.square() * torch.log(I + NLL_EPSILON))


# --------------------------------------------------------------------------------------------

def load_data(stem):
    with open(stem + ".json") as fh:
        header = json.load(fh)
    raw = np.fromfile(stem + ".bin", dtype="<f4")
    arrays = {}
    for name, (offset, shape) in header["arrays"].items():
        n = int(np.prod(shape)) if shape else 1
        arrays[name] = raw[offset:offset + n].reshape(shape)
    return header, arrays


def build(header, arrays, device, mode):
    N, gs, f, B = header["N"], header["gridsize"], header["filterScale"], header["batch"]
    C = gs * gs
    ops = Operators(arrays["offsets"], B, N, C, header["P"], device)
    model = Twin(N, f, C, arrays["probe_re"], arrays["probe_im"], header["logScale"], ops, mode, device)
    layers = model.generator.layers_by_name()
    if set(layers) != set(header["layers"]):
        raise ValueError(f"twin: layer names differ from ours: twin only {sorted(set(layers) - set(header['layers']))}, "
                         f"ours only {sorted(set(header['layers']) - set(layers))}")
    with torch.no_grad():
        for name, layer in layers.items():
            k = arrays[name + "/kernel"]  # tfjs HWIO [3,3,cin,cout] -> torch OIHW
            if tuple(k.shape) != (3, 3, layer.in_channels, layer.out_channels):
                raise ValueError(f"twin: {name} kernel {k.shape} does not fit [3,3,{layer.in_channels},{layer.out_channels}]")
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1))))
            layer.bias.copy_(torch.from_numpy(arrays[name + "/bias"].copy()))
    model.to(device)
    inputs = torch.from_numpy(np.ascontiguousarray(arrays["inputs"].transpose(0, 3, 1, 2))).to(device)  # NHWC -> NCHW
    return model, inputs


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_config(spec, header, arrays, args):
    """Check the first loss against ours, then time warm-up + timed steps on one device setting."""
    if spec == "cuda":
        if not torch.cuda.is_available():
            return {"torch": spec, "skipped": "torch.cuda.is_available() is False"}
        device = torch.device("cuda")
        threads = torch.get_num_threads()
    else:
        device = torch.device("cpu")
        threads = 1 if spec == "cpu1" else len(os.sched_getaffinity(0))
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, inputs = build(header, arrays, device, args.far_field)
    params = sum(p.numel() for p in model.generator.parameters())

    with torch.no_grad():
        I = model.intensity(inputs)
        loss0 = float(model.loss(inputs))
    ours_I = torch.from_numpy(np.ascontiguousarray(arrays["intensity"].transpose(0, 3, 1, 2))).to(device)
    check = {
        "loss": loss0,
        "ours_loss": header["loss"],
        "loss_rel_diff": abs(loss0 - header["loss"]) / max(abs(header["loss"]), 1e-30),
        "intensity_max_rel_diff": float((I - ours_I).abs().max() / ours_I.abs().max()),
    }

    opt = torch.optim.Adam(model.generator.parameters(), lr=1e-3, eps=1e-7)  # tfjs' float32 epsilon (@tensorflow/tfjs-core/dist/optimizers/adam_optimizer.js)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model.loss(inputs)
        loss.backward()
        opt.step()
        value = loss.item()  # read back, as ours reads the loss (src/lib/model/step-timing.ts syncedTrainStep)
        sync(device)
        return value

    warm, times, cpu, losses = [], [], [], []
    for _ in range(args.warmup):
        t = time.perf_counter()
        losses.append(step())
        warm.append(time.perf_counter() - t)
    for _ in range(args.steps):
        t, c = time.perf_counter(), time.process_time()
        losses.append(step())
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)  # CPU seconds of every thread of this process
    med = statistics.median(times)
    out = {
        "torch": spec, "device": str(device), "threads": threads, "parameters": params,
        "warmup_s": warm, "step_s": times, "median_step_s": med, "step_cpu_s": cpu,
        "median_step_cpu_s": statistics.median(cpu),
        "samples_per_second": header["batch"] / med, "losses": losses, "check": check,
    }
    if device.type == "cuda":
        out["cuda_device"] = torch.cuda.get_device_name(0)
        out["tf32"] = {"cudnn": torch.backends.cudnn.allow_tf32, "matmul": torch.backends.cuda.matmul.allow_tf32}
    log(f"  torch {spec}: {1000 * med:.1f} ms a step, {out['samples_per_second']:.2f} samples/s "
        f"(first loss {loss0:.8g} vs ours {header['loss']:.8g})")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="stem of the .json/.bin pair bench/torch.ts writes")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--devices", default="cpu1,cpu", help="comma list of cpu1 (one thread), cpu (every core), cuda")
    ap.add_argument("--far-field", choices=["fft", "dft"], default="fft")
    ap.add_argument("--count", nargs=3, type=float, metavar=("N", "FILTER_SCALE", "C"),
                    help="only print the twin's parameter count for these shapes and exit")
    args = ap.parse_args()
    if args.count:
        N, f, C = int(args.count[0]), args.count[1], int(args.count[2])
        g = Generator(N, f, C)
        print(json.dumps({"parameters": sum(p.numel() for p in g.parameters()), "expected": expected_parameter_count(N, f, C)}))
        return
    if not args.data:
        ap.error("--data is required")
    header, arrays = load_data(args.data)
    N, f, C = header["N"], header["filterScale"], header["gridsize"] ** 2
    expected = expected_parameter_count(N, f, C)
    result = {
        "torch_version": torch.__version__, "python": sys.version.split()[0],
        "cuda_available": torch.cuda.is_available(), "far_field": args.far_field,
        "expected_parameters": expected, "configs": [],
    }
    for spec in args.devices.split(","):
        spec = spec.strip()
        if spec not in ("cpu1", "cpu", "cuda"):
            raise SystemExit(f"twin: unknown device setting {spec!r} (cpu1, cpu, cuda)")
        result["configs"].append(run_config(spec, header, arrays, args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
