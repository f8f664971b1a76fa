// The parts of pngjs 7 this lab uses (the package ships no types; @types/pngjs is not installed).
declare module 'pngjs' {
  export interface PNGReadResult {
    width: number;
    height: number;
    /** RGBA, 8 bits per channel, whatever the file's colour type. */
    data: Buffer;
  }
  export interface PNGWriteOptions {
    colorType?: 0 | 2 | 4 | 6;
    inputColorType?: 0 | 2 | 4 | 6;
    inputHasAlpha?: boolean;
  }
  export const PNG: {
    sync: {
      read(buffer: Buffer, options?: { skipRescale?: boolean }): PNGReadResult;
      write(png: { width: number; height: number; data: Buffer | Uint8Array }, options?: PNGWriteOptions): Buffer;
    };
  };
}
