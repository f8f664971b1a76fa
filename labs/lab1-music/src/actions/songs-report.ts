import path from 'node:path';
import { writeFileAtomic } from '@introdl/core';
import { checkSong, type SongCheck, validitySummary } from '../abc/validate.js';
import { writeSongFiles } from '../audio/song-files.js';

/** One song's line in a report. */
export interface SongReport extends SongCheck {
  index: number;
  /** Files written for a valid song (relative to the run folder). */
  files?: { abc: string; mid: string; wav: string };
  /** Why the audio could not be written, when rendering failed for a valid song. */
  audioError?: string;
}

/** A set of checked songs. */
export interface SongsReport {
  songs: SongReport[];
  valid: number;
  total: number;
  percent: number;
}

/**
 * Checks each song and writes `.abc`, `.mid` and `.wav` for the valid ones as
 * `<dir>/<prefix>-NN.*`; file paths in the report are relative to `runDir`.
 */
export async function checkAndWriteSongs(
  songs: readonly (string | undefined)[],
  dir: string,
  runDir: string,
  options: { prefix?: string; sampleRate?: number; missingReason?: string } = {},
): Promise<SongsReport> {
  const reports: SongReport[] = [];
  for (const [i, song] of songs.entries()) {
    const index = i + 1;
    const check: SongCheck =
      song === undefined ? { valid: false, reason: options.missingReason ?? 'no song', notes: 0 } : checkSong(song);
    const report: SongReport = { index, ...check };
    if (check.valid && song !== undefined) {
      const base = path.join(dir, `${options.prefix ?? 'song'}-${String(index).padStart(2, '0')}`);
      try {
        const files = await writeSongFiles(song, base, options.sampleRate);
        report.files = {
          abc: path.relative(runDir, files.abc),
          mid: path.relative(runDir, files.mid),
          wav: path.relative(runDir, files.wav),
        };
      } catch (error) {
        report.audioError = (error as Error).message;
      }
    }
    reports.push(report);
  }
  return { songs: reports, ...validitySummary(reports) };
}

/** The report as a Markdown table: one row per song with its verdict and files. */
export function songsMarkdown(title: string, report: SongsReport): string {
  const rows = report.songs.map((s) => {
    const verdict = s.valid ? 'valid' : `invalid: ${s.reason}`;
    const files = s.files ? `[abc](${s.files.abc}) [mid](${s.files.mid}) [wav](${s.files.wav})` : (s.audioError ?? '');
    return `| ${s.index} | ${(s.title ?? '').replace(/\|/g, '\\|')} | ${verdict.replace(/\|/g, '\\|')} | ${files} |`;
  });
  return [
    `# ${title}`,
    '',
    `${report.valid} of ${report.total} songs valid (${report.percent.toFixed(0)}%).`,
    '',
    '| # | title | verdict | files |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Writes `<base>.json` and `<base>.md`. */
export async function writeReport(base: string, json: unknown, markdown: string): Promise<void> {
  await writeFileAtomic(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFileAtomic(`${base}.md`, markdown);
}
