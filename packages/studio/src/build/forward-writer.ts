/**
 * A tiny FlatBuffers writer that lays objects out front to back (parents before children), so a
 * new root can be put *in front of* an existing buffer and point forward into it. FlatBuffers'
 * offsets (uoffset) are unsigned and relative to where they are stored, so every reference must
 * point to a later byte: the caller writes a parent, then its children, then resolves.
 */

/** A reference slot waiting for the position of the object it points to. */
export class Ref {
  readonly slots: number[] = [];
}

/** A field of a table: a scalar, or a reference (to a child written later, or into the tail). */
export type Field =
  | { u8: number }
  | { u32: number }
  | { ref: Ref }
  /** A reference to a position in the bytes that will follow this buffer (see {@link ForwardWriter.finish}). */
  | { tail: number }
  | undefined;

export class ForwardWriter {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  pos = 0;
  private readonly tailSlots: { slot: number; target: number }[] = [];

  private ensure(extra: number): void {
    if (this.pos + extra <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + extra));
    bigger.set(this.bytes);
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  /** Pads with zeros until `(pos + offset) % n === 0`. */
  align(n: number, offset = 0): void {
    while ((this.pos + offset) % n !== 0) this.u8(0);
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** Writes a 4-byte slot that `ref` will fill in when resolved. */
  refSlot(ref: Ref): void {
    ref.slots.push(this.pos);
    this.u32(0);
  }

  /** Writes a 4-byte slot pointing at `target` in the bytes appended after this buffer. */
  tailSlot(target: number): void {
    this.tailSlots.push({ slot: this.pos, target });
    this.u32(0);
  }

  /** Points every slot of `ref` at the current position. */
  resolve(ref: Ref): void {
    for (const slot of ref.slots) {
      if (slot >= this.pos) throw new Error('a FlatBuffers offset must point forward');
      this.view.setUint32(slot, this.pos - slot, true);
    }
  }

  /** A table; `fields[i]` is field id i. Scalars are stored inline, references as slots. */
  table(fields: Field[], self?: Ref): void {
    // Layout: 4-byte fields first, then bytes, so each stays aligned without padding bookkeeping.
    const offsets: number[] = fields.map(() => 0);
    let size = 4;
    fields.forEach((f, i) => {
      if (f && !('u8' in f)) {
        offsets[i] = size;
        size += 4;
      }
    });
    fields.forEach((f, i) => {
      if (f && 'u8' in f) {
        offsets[i] = size;
        size += 1;
      }
    });
    const vtableSize = 4 + 2 * fields.length;
    // The table must start 4-aligned right after the vtable (plus padding).
    this.align(2);
    const padAfter = (4 - ((this.pos + vtableSize) % 4)) % 4;
    const vtable = this.pos;
    this.u16(vtableSize);
    this.u16(size);
    for (const o of offsets) this.u16(o);
    for (let i = 0; i < padAfter; i++) this.u8(0);
    const start = this.pos;
    if (self) this.resolve(self);
    this.u32(start - vtable); // soffset: vtable = table - soffset
    fields.forEach((f) => {
      if (!f || 'u8' in f) return;
      if ('u32' in f) this.u32(f.u32);
      else if ('ref' in f) this.refSlot(f.ref);
      else this.tailSlot(f.tail);
    });
    fields.forEach((f) => {
      if (f && 'u8' in f) this.u8(f.u8);
    });
  }

  /** A vector of references to tables written later or in the tail. */
  refVector(items: ({ ref: Ref } | { tail: number })[], self?: Ref): void {
    this.align(4);
    if (self) this.resolve(self);
    this.u32(items.length);
    for (const item of items) {
      if ('ref' in item) this.refSlot(item.ref);
      else this.tailSlot(item.tail);
    }
  }

  /** A vector of float32. */
  floatVector(values: number[], self?: Ref): void {
    this.align(4);
    if (self) this.resolve(self);
    this.u32(values.length);
    for (const v of values) this.f32(v);
  }

  /** A vector of bytes whose data starts `dataAlign`-aligned (TFLite buffers ask for 16). */
  byteVector(data: Uint8Array, self?: Ref, dataAlign = 16): void {
    this.align(dataAlign, 4);
    if (self) this.resolve(self);
    this.u32(data.length);
    this.raw(data);
  }

  /** A zero-terminated UTF-8 string. */
  string(text: string, self?: Ref): void {
    const utf8 = new TextEncoder().encode(text);
    this.align(4);
    if (self) this.resolve(self);
    this.u32(utf8.length);
    this.raw(utf8);
    this.u8(0);
  }

  /**
   * The written bytes, padded to a multiple of `tailAlign`, followed by `tail`; slots made by
   * {@link tailSlot} now point into the tail.
   */
  finish(tail?: Uint8Array, tailAlign = 64): Uint8Array {
    this.align(tailAlign);
    const head = this.pos;
    for (const { slot, target } of this.tailSlots) this.view.setUint32(slot, head + target - slot, true);
    const out = new Uint8Array(head + (tail?.length ?? 0));
    out.set(this.bytes.subarray(0, head));
    if (tail) out.set(tail, head);
    return out;
  }
}
