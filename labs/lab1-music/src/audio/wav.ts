import { IntrodlError } from '@introdl/core';
import type { Performance } from './notes.js';

/**
 * Audio rendered in Node with Tone.js' offline rendering on node-web-audio-api, a native Web Audio
 * implementation. Version 1.x of node-web-audio-api is used because 2.x needs Node ≥ 22.
 *
 * Tone.js reaches Web Audio through standardized-audio-context, which looks the native classes up
 * on `window` once, when it is first imported. `window` is therefore set to an object holding
 * node-web-audio-api's classes for that import only and removed right after, so nothing else in
 * the process (tfjs checks `window` to detect a browser) ever sees it.
 */

type ToneModule = typeof import('tone');
type WebAudioModule = typeof import('node-web-audio-api');

let loading: Promise<{ Tone: ToneModule; webAudio: WebAudioModule }> | undefined;

async function loadTone(): Promise<{ Tone: ToneModule; webAudio: WebAudioModule }> {
  let webAudio: WebAudioModule;
  try {
    webAudio = await import('node-web-audio-api');
  } catch (error) {
    throw new IntrodlError(
      `rendering .wav needs the node-web-audio-api package, which does not load here (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const g = globalThis as { window?: unknown };
  const previous = g.window;
  g.window = { ...webAudio };
  try {
    const Tone = await import('tone');
    return { Tone, webAudio };
  } finally {
    if (previous === undefined) delete g.window;
    else g.window = previous;
  }
}

/** Options of {@link renderPerformance}. */
export interface RenderOptions {
  /** Samples per second; 22,050 Hz is plenty for a folk tune and keeps files small. */
  sampleRate?: number;
  /** Seconds of silence-to-release after the last note. */
  tail?: number;
}

/** The synthesizer's release time: each note fades out over this many seconds after it ends. */
export const RELEASE_SECONDS = 0.3;

/**
 * Plays the notes on a Tone.js PolySynth (triangle waves, a short attack and a release) into an
 * offline context and returns the mono samples in [−1, 1].
 */
export async function renderPerformance(
  performance: Performance,
  options: RenderOptions = {},
): Promise<{ samples: Float32Array; sampleRate: number }> {
  loading ??= loadTone();
  const { Tone, webAudio } = await loading;
  const sampleRate = options.sampleRate ?? 22_050;
  const seconds = performance.seconds + (options.tail ?? RELEASE_SECONDS + 0.1);
  const native = new webAudio.OfflineAudioContext(1, Math.ceil(seconds * sampleRate), sampleRate);
  const context = new Tone.OfflineContext(native as unknown as OfflineAudioContext);
  Tone.setContext(context);
  const synth = new Tone.PolySynth(Tone.Synth, {
    oscillator: { type: 'triangle' },
    envelope: { attack: 0.01, decay: 0.1, sustain: 0.6, release: RELEASE_SECONDS },
  }).toDestination();
  synth.volume.value = -8;
  for (const note of performance.notes) {
    synth.triggerAttackRelease(
      Tone.Frequency(note.midi, 'midi').toFrequency(),
      note.duration,
      note.time,
      note.velocity,
    );
  }
  const buffer = await context.render(false);
  synth.dispose();
  const samples = new Float32Array(buffer.getChannelData(0));
  return { samples, sampleRate };
}

/** 16-bit PCM mono WAV bytes of `samples` (clipped to [−1, 1]). */
export function encodeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true); // PCM header size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // bytes per frame
  view.setUint16(34, 16, true); // bits per sample
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + 2 * i, Math.round(s * 32767), true);
  }
  return bytes;
}

/** The samples and rate of a 16-bit PCM mono WAV (what {@link encodeWav} writes). */
export function decodeWav(bytes: Uint8Array): { samples: Float32Array; sampleRate: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE' || view.getUint16(20, true) !== 1 || view.getUint16(34, true) !== 16) {
    throw new Error('not a 16-bit PCM WAV');
  }
  const channels = view.getUint16(22, true);
  const sampleRate = view.getUint32(24, true);
  const dataBytes = view.getUint32(40, true);
  const frames = dataBytes / (2 * channels);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = view.getInt16(44 + 2 * channels * i, true) / 32768;
  return { samples, sampleRate };
}
