import midiPackage from '@tonejs/midi';
import type { Performance } from './notes.js';

const { Midi } = midiPackage;

/** A standard MIDI file (format 1, one track, program 0) of a performance, as bytes. */
export function midiBytes(performance: Performance): Uint8Array {
  const midi = new Midi();
  midi.header.setTempo(performance.qpm);
  if (performance.title) midi.header.name = performance.title;
  const track = midi.addTrack();
  track.name = performance.title ?? 'song';
  for (const note of performance.notes) {
    track.addNote({ midi: note.midi, time: note.time, duration: note.duration, velocity: note.velocity });
  }
  return midi.toArray();
}

/** The notes of a MIDI file: pitch, start and length in seconds. */
export function readMidiNotes(bytes: Uint8Array): { midi: number; time: number; duration: number }[] {
  const midi = new Midi(bytes);
  return midi.tracks.flatMap((t) => t.notes.map((n) => ({ midi: n.midi, time: n.time, duration: n.duration })));
}
