/**
 * The trained model as a tfjs-format bundle, without the DOM: the generator is saved through a
 * custom tf.io IOHandler that keeps the artifacts in memory; model.json + weights.bin (+ the
 * PtychoPINN extras: λ, s, the normalised probe, settings) are zipped into one archive (fflate).
 * Load it back with loadGeneratorFromBundle (tf.loadLayersModel over tf.io.fromMemory).
 */
import * as tf from '@tensorflow/tfjs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { PtychoPinn } from './pinn';
import './network'; // registers the custom layers for deserialisation

export interface BundleFiles {
  'model.json': Uint8Array;
  'weights.bin': Uint8Array;
  [extra: string]: Uint8Array;
}

/** Capture the generator's ModelArtifacts in memory. */
export async function captureArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  const handler: tf.io.IOHandler = {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
  await model.save(handler);
  if (!captured) throw new Error('bundle: the model produced no artifacts');
  return captured;
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buf = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return new Uint8Array(buf);
}

/** model.json in the tfjs layers-model format, with its weights in weights.bin. */
export async function modelFiles(pinn: PtychoPinn, metadata: Record<string, unknown>): Promise<BundleFiles> {
  const art = await captureArtifacts(pinn.generator);
  const modelJson = {
    modelTopology: art.modelTopology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs ?? [] }],
    userDefinedMetadata: metadata,
  };
  return { 'model.json': strToU8(JSON.stringify(modelJson)), 'weights.bin': weightBytes(art.weightData) };
}

export function zipBundle(files: Record<string, Uint8Array>): Uint8Array {
  // Fixed mtime so identical models give identical archives.
  const entries: Record<string, [Uint8Array, { mtime: Date }]> = {};
  for (const [k, v] of Object.entries(files)) entries[k] = [v, { mtime: new Date(Date.UTC(2000, 0, 1)) }];
  return zipSync(entries, { level: 6 });
}

/** Lower-case hex SHA-256 of the bytes (WebCrypto, in pages, workers and Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('sha256: WebCrypto (crypto.subtle) is not available here');
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Rebuild the generator from a bundle's bytes. */
export async function loadGeneratorFromBundle(zip: Uint8Array): Promise<{ model: tf.LayersModel; metadata: unknown }> {
  const files = unzipSync(zip);
  const mj = files['model.json'];
  const wb = files['weights.bin'];
  if (!mj || !wb) throw new Error('bundle: model.json or weights.bin is missing');
  const json = JSON.parse(strFromU8(mj)) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[]; userDefinedMetadata?: unknown };
  const weightData = wb.buffer.slice(wb.byteOffset, wb.byteOffset + wb.byteLength) as ArrayBuffer;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((m) => m.weights), weightData }),
  );
  return { model, metadata: json.userDefinedMetadata };
}
