import type { TuneObject } from 'abcjs';
import * as Tone from 'tone';

/**
 * Plays one tune at a time through Tone.js: the notes abcjs computes from the ABC are scheduled on
 * Tone's transport in ticks, so changing the tempo (transport BPM) takes effect while playing.
 */

/** One note on the transport, in ticks (Tone's PPQ per quarter note). */
export interface TransportNote {
  ticks: number;
  durationTicks: number;
  midi: number;
  velocity: number;
}

/** The notes of a rendered tune and its written tempo (quarter notes per minute). */
export function tuneNotes(tune: TuneObject, ppq: number): { notes: TransportNote[]; bpm: number; totalTicks: number } {
  const audio = tune.setUpAudio({});
  const notes: TransportNote[] = [];
  for (const track of audio.tracks) {
    for (const item of track) {
      if (item.cmd !== 'note') continue;
      // abcjs measures start and duration in whole notes: 4 quarter notes.
      notes.push({
        ticks: Math.round(item.start * 4 * ppq),
        durationTicks: Math.max(1, Math.round(item.duration * 4 * ppq)),
        midi: item.pitch,
        velocity: Math.min(1, Math.max(0.1, (item.volume ?? 80) / 127)),
      });
    }
  }
  notes.sort((a, b) => a.ticks - b.ticks);
  const totalTicks = notes.reduce((m, n) => Math.max(m, n.ticks + n.durationTicks), 0);
  return { notes, bpm: audio.tempo || 120, totalTicks };
}

type Listener = (state: 'playing' | 'paused' | 'stopped') => void;

let synth: Tone.PolySynth | undefined;
let owner: { id: string; listener: Listener } | undefined;

/** What the end-to-end tests read to see that audio really was scheduled. */
export const audioDebug = {
  scheduled: 0,
  triggered: 0,
  transportState: () => Tone.getTransport().state,
  contextState: () => Tone.getContext().state,
  bpm: () => Tone.getTransport().bpm.value,
};
(window as unknown as { __studioAudio: typeof audioDebug }).__studioAudio = audioDebug;

/** Stops whatever plays and forgets its schedule. */
export function stopSong(): void {
  const transport = Tone.getTransport();
  transport.stop();
  transport.cancel(0);
  synth?.releaseAll();
  const previous = owner;
  owner = undefined;
  previous?.listener('stopped');
}

/** Starts (or resumes) song `id`; another song playing is stopped first. */
export async function playSong(id: string, tune: TuneObject, bpm: number, listener: Listener): Promise<void> {
  await Tone.start(); // needs the click that called us: browsers start audio only after a gesture
  const transport = Tone.getTransport();
  if (owner?.id === id && transport.state === 'paused') {
    transport.start();
    listener('playing');
    return;
  }
  stopSong();
  synth ??= new Tone.PolySynth(Tone.Synth, {
    envelope: { attack: 0.01, decay: 0.1, sustain: 0.5, release: 0.3 },
  }).toDestination();
  synth.volume.value = -8;
  const { notes, totalTicks } = tuneNotes(tune, transport.PPQ);
  owner = { id, listener };
  transport.bpm.value = bpm;
  audioDebug.scheduled = notes.length;
  audioDebug.triggered = 0;
  for (const n of notes) {
    transport.schedule((time) => {
      audioDebug.triggered += 1;
      synth?.triggerAttackRelease(
        Tone.Frequency(n.midi, 'midi').toFrequency(),
        `${n.durationTicks}i`,
        time,
        n.velocity,
      );
    }, `${n.ticks}i`);
  }
  transport.schedule(
    (time) => {
      Tone.getDraw().schedule(() => {
        if (owner?.id === id) stopSong();
      }, time);
    },
    `${totalTicks + transport.PPQ}i`,
  );
  transport.start('+0.05');
  listener('playing');
}

/** Pauses song `id` if it is the one playing. */
export function pauseSong(id: string): void {
  if (owner?.id !== id) return;
  Tone.getTransport().pause();
  owner.listener('paused');
}

/** Sets the tempo; applies at once when song `id` is playing. */
export function setTempo(id: string, bpm: number): void {
  if (owner?.id === id) Tone.getTransport().bpm.value = bpm;
}
