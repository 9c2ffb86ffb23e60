// A bounds-checked view of one FlatBuffer table on the flatbuffers package's ByteBuffer: the generated accessors
// (there is no flatc here) written by hand, so a truncated or corrupt file is an ImportError, not garbage numbers.
import { ByteBuffer } from 'flatbuffers';
import { ImportError } from '../import-error.ts';

/** Field slot in the vtable: 4 bytes of vtable header, then 2 bytes per field, in schema order. */
const slot = (field: number) => 4 + 2 * field;

export class FlatTable {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
    private readonly file: string,
  ) {
    this.check(pos, 4);
    const vtable = pos - bb.readInt32(pos);
    this.check(vtable, 4);
    this.check(vtable, bb.readUint16(vtable));
  }

  static root(bytes: Uint8Array, file: string): FlatTable {
    const bb = new ByteBuffer(bytes);
    if (bytes.length < 8) throw new ImportError(`${file} is too short to be a TFLite model (${bytes.length} bytes)`);
    return new FlatTable(bb, bb.readUint32(0), file);
  }

  private check(at: number, length: number): void {
    if (!(at >= 0 && at + length <= this.bb.capacity()))
      throw new ImportError(
        `${this.file} is truncated or corrupt: an offset points past its ${this.bb.capacity()} bytes`,
      );
  }

  /** Byte position of a field, 0 when the field is absent (the schema default applies). */
  private field(index: number): number {
    const at = this.bb.__offset(this.pos, slot(index));
    if (at) this.check(this.pos + at, 1);
    return at ? this.pos + at : 0;
  }

  int8(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.bb.readInt8(at) : fallback;
  }
  uint8(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.bb.readUint8(at) : fallback;
  }
  int32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.bb.readInt32(at) : fallback;
  }
  uint32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.bb.readUint32(at) : fallback;
  }
  uint64(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? Number(this.bb.readUint64(at)) : fallback;
  }
  float32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.bb.readFloat32(at) : fallback;
  }
  bool(index: number, fallback = false): boolean {
    return this.uint8(index, fallback ? 1 : 0) !== 0;
  }

  string(index: number): string | undefined {
    const at = this.field(index);
    if (!at) return undefined;
    const bytes = this.vectorBytes(at, 1);
    return new TextDecoder().decode(bytes);
  }

  table(index: number): FlatTable | undefined {
    const at = this.field(index);
    return at ? new FlatTable(this.bb, this.bb.__indirect(at), this.file) : undefined;
  }

  tables(index: number): FlatTable[] {
    const at = this.field(index);
    if (!at) return [];
    const { start, length } = this.vector(at, 4);
    return Array.from({ length }, (_, i) => new FlatTable(this.bb, this.bb.__indirect(start + 4 * i), this.file));
  }

  int32s(index: number): number[] {
    const at = this.field(index);
    if (!at) return [];
    const { start, length } = this.vector(at, 4);
    return Array.from({ length }, (_, i) => this.bb.readInt32(start + 4 * i));
  }
  float32s(index: number): number[] {
    const at = this.field(index);
    if (!at) return [];
    const { start, length } = this.vector(at, 4);
    return Array.from({ length }, (_, i) => this.bb.readFloat32(start + 4 * i));
  }
  int64s(index: number): number[] {
    const at = this.field(index);
    if (!at) return [];
    const { start, length } = this.vector(at, 8);
    return Array.from({ length }, (_, i) => Number(this.bb.readInt64(start + 8 * i)));
  }
  /** A [ubyte] vector as a view into the file (no copy). */
  bytes(index: number): Uint8Array | undefined {
    const at = this.field(index);
    return at ? this.vectorBytes(at, 1) : undefined;
  }

  private vector(at: number, size: number): { start: number; length: number } {
    this.check(at, 4);
    const start = this.bb.__vector(at);
    this.check(start - 4, 4);
    const length = this.bb.__vector_len(at);
    this.check(start, length * size);
    return { start, length };
  }
  private vectorBytes(at: number, size: number): Uint8Array {
    const { start, length } = this.vector(at, size);
    return this.bb.bytes().subarray(start, start + length * size);
  }
}
