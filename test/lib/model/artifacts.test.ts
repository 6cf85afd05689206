import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { unzlibSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import { comparisonPng, encodePng, reconstructionPreview } from '../../../src/lib/model/png';
import { loadGeneratorFromBundle, modelFiles, sha256Hex, zipBundle } from '../../../src/lib/model/bundle';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { tinyParams } from './helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Chunk { type: string; data: Uint8Array; crc: number }

function parsePng(png: Uint8Array): Chunk[] {
  expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  let o = 8;
  while (o < png.length) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    const crc = dv.getUint32(o + 8 + len);
    // CRC over type + data, checked with Node's zlib (independent of the encoder's CRC)
    expect(crc).toBe(zlib.crc32(png.subarray(o + 4, o + 8 + len)) >>> 0);
    chunks.push({ type, data, crc });
    o += 12 + len;
  }
  return chunks;
}

describe('PNG encoder', () => {
  it('writes signature, IHDR, IDAT, IEND with valid CRCs; pixels decode back', () => {
    const w = 5, h = 3;
    const px = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng({ width: w, height: h, channels: 3, data: px });
    const chunks = parsePng(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset, 13);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), chunks[0].data[8], chunks[0].data[9], chunks[0].data[12]]).toEqual([5, 3, 8, 2, 0]);
    const raw = unzlibSync(chunks[1].data);
    expect(raw.length).toBe(h * (1 + w * 3));
    for (let r = 0; r < h; r++) {
      expect(raw[r * (w * 3 + 1)]).toBe(0);
      expect(Array.from(raw.subarray(r * (w * 3 + 1) + 1, (r + 1) * (w * 3 + 1)))).toEqual(Array.from(px.subarray(r * w * 3, (r + 1) * w * 3)));
    }
    expect(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).toThrow(/expected 4 bytes/);
  });

  it('preview puts amplitude (min..max) and phase (−π..π) side by side', () => {
    const amp = Float32Array.from([0, 1, 2, 3]);
    const ph = Float32Array.from([-Math.PI, 0, Math.PI, 0]);
    const chunks = parsePng(reconstructionPreview(2, 2, amp, ph));
    const raw = unzlibSync(chunks[1].data);
    const W = 2 * 2 + 2;
    expect(Array.from(raw.subarray(1, 1 + W))).toEqual([0, 85, 255, 255, 0, 128]);
    expect(Array.from(raw.subarray(W + 2, W + 2 + W))).toEqual([170, 255, 255, 255, 255, 128]);
  });

  it('comparison.png: phase rows with each mean removed, over the truth\'s range (a weak phase shows); [−π, π] for a flat truth', () => {
    // 2 x 2, all covered. Truth phase -0.1 ... 0.3 rad; the reconstruction the same plus an arbitrary offset of 1 rad.
    const tPh = [-0.1, 0.1, 0.1, 0.3];
    const rPh = tPh.map((v) => v + 1);
    const amp = [1, 1, 1, 1];
    const pixels = (png: Uint8Array) => {
      const raw = unzlibSync(parsePng(png)[1].data);
      const W = 2 * 2 * 4 + 4; // enlarged 4x (floor(256 / 2) capped at 4), 4 px gap
      const grey = (row: number, col: number) => raw[row * (W * 3 + 1) + 1 + col * 3];
      const phaseTop = 2 * 4 + 4; // first phase row
      return { truth: [grey(phaseTop, 0), grey(phaseTop, 4), grey(phaseTop + 4, 4)], recon: [grey(phaseTop, 12), grey(phaseTop, 16), grey(phaseTop + 4, 16)] };
    };
    const weak = pixels(comparisonPng(2, 2, { amplitude: amp, phase: tPh }, { amplitude: amp, phase: rPh }, [1, 1, 1, 1]));
    expect(weak.truth).toEqual([0, 128, 255]); // -0.1, 0.1, 0.3 over the truth's 0.4 rad
    expect(weak.recon).toEqual(weak.truth); // the offset is removed
    // a flat truth: [−π, π] around the means; the reconstruction's ±0.2 rad is a faint ±8 grey levels:
    const flat = pixels(comparisonPng(2, 2, { amplitude: amp, phase: [0.5, 0.5, 0.5, 0.5] }, { amplitude: amp, phase: rPh }, [1, 1, 1, 1]));
    expect(flat.truth).toEqual([128, 128, 128]);
    expect(flat.recon).toEqual([119, 128, 136]); // 255·(π ∓ 0.2)/2π = 119.4, 135.6
  });
});

describe('model bundle', () => {
  it('round-trips the generator through model.json + weights.bin and hashes with SHA-256', async () => {
    const settings = settingsFromParams(tinyParams({ gridsize: 2 }));
    const pinn = new PtychoPinn({ settings, seed: 3 });
    const files = await modelFiles(pinn, { note: 'test' });
    const json = JSON.parse(new TextDecoder().decode(files['model.json']));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(files['weights.bin'].length).toBe(4 * pinn.generator.countParams());
    const zip = zipBundle(files);
    const sha = await sha256Hex(zip);
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(sha).toBe(createHash('sha256').update(zip).digest('hex'));
    expect(zipBundle(files)).toEqual(zip); // deterministic archive
    const { model, metadata } = await loadGeneratorFromBundle(zip);
    expect(metadata).toEqual({ note: 'test' });
    const x = tf.randomUniform([2, 16, 16, 4], 0, 1, 'float32', 7);
    const [a1, p1] = pinn.generator.predict(x) as tf.Tensor[];
    const [a2, p2] = model.predict(x) as tf.Tensor[];
    expect(Array.from(a2.dataSync())).toEqual(Array.from(a1.dataSync()));
    expect(Array.from(p2.dataSync())).toEqual(Array.from(p1.dataSync()));
    tf.dispose([x, a1, p1, a2, p2]);
    model.dispose();
    pinn.dispose();
  });
});
