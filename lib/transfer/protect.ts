/**
 * Origin and confidentiality of transfer files, and the bounds of reading one.
 *
 * Checksums (./digest.ts) prove a file intact, not who wrote it: anyone can edit a row and
 * recompute them. With `EXPORT_SIGNING_KEY` an export's footer carries an HMAC-SHA256, under that
 * key, of every byte before the footer (the bytes `fileSha256` covers; the footer's other fields
 * are recomputed from them on read), and an import refuses a file without it or with a wrong one.
 *
 * With `EXPORT_ENCRYPTION_KEY` (32 bytes) the whole file is sealed with AES-256-GCM: a first line
 * in clear (`{"type":"encrypted",…,"iv":…}`, authenticated as additional data), then the
 * ciphertext of the NDJSON, then the 16-byte tag. A fresh random 96-bit IV per file. It streams
 * both ways; a reader authenticates the whole ciphertext (one pass, plaintext discarded) before it
 * parses a single line, so nothing of an altered file is ever read as data.
 *
 * Reading is bounded whatever the file: a line longer than MAX_LINE_BYTES or JSON nested deeper
 * than MAX_JSON_DEPTH is refused at once, with memory bounded by the line limit.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { TransferError } from './errors';
import { FORMAT, FORMAT_VERSION, line, type Signature } from './format';

export interface TransferKeys {
  /** EXPORT_SIGNING_KEY: exports are signed; imports refuse unsigned and badly signed files. */
  signingKey?: Buffer;
  /** EXPORT_ENCRYPTION_KEY (32 bytes): exports are encrypted; imports can read encrypted files. */
  encryptionKey?: Buffer;
}

/** Longest line read (a row's JSON); past it a file is refused. 32 MiB. */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;
/** Deepest JSON nesting read (arrays and objects); past it a file is refused. */
export const MAX_JSON_DEPTH = 64;

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Names a key without revealing it (a one-way hash), so a file says which key it needs and a
 * wrong key is reported as such.
 */
export function keyId(key: Buffer): string {
  return crypto.createHash('sha256').update('omniops-transfer-key\n').update(key).digest('hex').slice(0, 16);
}

/** HMAC of the bytes before the footer, updated as they are written or read. */
export class Signer {
  private readonly hmac: crypto.Hmac;
  constructor(private readonly key: Buffer) {
    this.hmac = crypto.createHmac('sha256', key);
  }

  update(text: string): void {
    this.hmac.update(text);
  }

  signature(): Signature {
    return { alg: 'HMAC-SHA256', keyId: keyId(this.key), value: this.hmac.digest('hex') };
  }
}

/** Throws TransferError 'signature' unless `signature` is this key's over what `signer` saw. */
export function checkSignature(file: string, signer: Signer, signature: Signature | undefined, key: Buffer): void {
  if (!signature) {
    throw new TransferError('signature', `${file}: unsigned file: EXPORT_SIGNING_KEY is set, so only files exported with that key are imported; nothing was imported`);
  }
  if (signature.keyId !== keyId(key)) {
    throw new TransferError(
      'signature',
      `${file}: signed with another key (key id ${signature.keyId}, EXPORT_SIGNING_KEY has ${keyId(key)}); nothing was imported`,
    );
  }
  const expected = Buffer.from(signer.signature().value, 'hex');
  if (!crypto.timingSafeEqual(expected, Buffer.from(signature.value, 'hex'))) {
    throw new TransferError('signature', `${file}: bad signature: the file is not what was exported with this key (forged or altered); nothing was imported`);
  }
}

const envelopeSchema = z
  .object({
    type: z.literal('encrypted'),
    format: z.literal(FORMAT),
    version: z.literal(FORMAT_VERSION),
    cipher: z.literal('AES-256-GCM'),
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    iv: z.base64(),
  })
  .strict();

/** The NDJSON `chunks` sealed with AES-256-GCM under `key` (the layout in this file's comment). */
export async function* seal(chunks: AsyncIterable<string>, key: Buffer): AsyncGenerator<Buffer> {
  const iv = crypto.randomBytes(IV_BYTES);
  const envelope = Buffer.from(
    line({ type: 'encrypted', format: FORMAT, version: FORMAT_VERSION, cipher: 'AES-256-GCM', keyId: keyId(key), iv: iv.toString('base64') }),
  );
  const cipher = crypto.createCipheriv(CIPHER, key, iv);
  cipher.setAAD(envelope);
  yield envelope;
  for await (const chunk of chunks) {
    const out = cipher.update(chunk, 'utf8');
    if (out.length > 0) yield out;
  }
  const last = cipher.final();
  yield Buffer.concat([last, cipher.getAuthTag()]);
}

interface Sealed {
  /** Offset of the ciphertext. */
  start: number;
  size: number;
  decipher: () => crypto.DecipherGCM;
}

/** How an encrypted file is opened: undefined for a file in clear. */
async function sealedLayout(file: string, keys: TransferKeys): Promise<Sealed | undefined> {
  const handle = await fs.promises.open(file, 'r');
  let head: Buffer;
  let size: number;
  try {
    size = (await handle.stat()).size;
    head = Buffer.alloc(Math.min(size, 1024));
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const newline = head.indexOf(10);
  if (!head.subarray(0, Math.max(newline, 0)).toString('utf8').startsWith('{"type":"encrypted"')) return undefined;
  let parsed;
  try {
    parsed = envelopeSchema.safeParse(JSON.parse(head.subarray(0, newline).toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new TransferError('decrypt', `${file}: line 1: not a valid encryption header`);
  const envelope = parsed.data;
  const key = keys.encryptionKey;
  if (!key) throw new TransferError('decrypt', `${file} is encrypted: set EXPORT_ENCRYPTION_KEY to the key it was exported with`);
  if (envelope.keyId !== keyId(key)) {
    throw new TransferError('decrypt', `${file} is encrypted with another key (key id ${envelope.keyId}, EXPORT_ENCRYPTION_KEY has ${keyId(key)})`);
  }
  const start = newline + 1;
  if (size < start + TAG_BYTES) throw new TransferError('decrypt', `${file}: truncated encrypted file`);
  const tag = Buffer.alloc(TAG_BYTES);
  const handle2 = await fs.promises.open(file, 'r');
  try {
    await handle2.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    await handle2.close();
  }
  const aad = head.subarray(0, start);
  const iv = Buffer.from(envelope.iv, 'base64');
  return {
    start,
    size,
    decipher: () => {
      const d = crypto.createDecipheriv(CIPHER, key, iv);
      d.setAAD(aad);
      d.setAuthTag(tag);
      return d;
    },
  };
}

async function* decrypted(file: string, sealed: Sealed): AsyncGenerator<Buffer> {
  const decipher = sealed.decipher();
  // `end` is inclusive: everything between the clear first line and the tag.
  for await (const chunk of fs.createReadStream(file, { start: sealed.start, end: sealed.size - TAG_BYTES - 1 })) {
    const out = decipher.update(chunk as Buffer);
    if (out.length > 0) yield out;
  }
  try {
    const last = decipher.final();
    if (last.length > 0) yield last;
  } catch {
    throw new TransferError(
      'decrypt',
      `${file}: authentication failed: the encrypted file was altered or truncated (or the key is wrong); nothing was imported`,
    );
  }
}

/**
 * The plaintext bytes of a transfer file: the file itself, or — encrypted — its decryption, after
 * a first pass has authenticated all of it. Throws TransferError 'decrypt'.
 */
export async function plaintextOf(file: string, keys: TransferKeys): Promise<AsyncIterable<Buffer>> {
  const sealed = await sealedLayout(file, keys);
  if (!sealed) return fs.createReadStream(file);
  for await (const chunk of decrypted(file, sealed)) void chunk; // authenticate before anything is parsed
  return decrypted(file, sealed);
}

/**
 * The lines of `input` (without their `\n`, and a `\r` before it), each at most `maxBytes` bytes:
 * a longer one is refused as soon as it is seen, so memory stays bounded by the limit.
 */
export async function* boundedLines(input: AsyncIterable<Buffer>, file: string, maxBytes = MAX_LINE_BYTES): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let size = 0;
  let number = 0;
  const tooLong = () =>
    new TransferError('format', `${file}: line ${number + 1}: longer than ${maxBytes} bytes: not a transfer file of this app (refused unread)`);
  const take = (piece: Buffer) => {
    size += piece.length;
    if (size > maxBytes) throw tooLong();
    if (piece.length > 0) parts.push(piece);
  };
  const flush = () => {
    let text = Buffer.concat(parts, size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    parts = [];
    size = 0;
    number++;
    return text;
  };
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) {
        take(chunk.subarray(start));
        break;
      }
      take(chunk.subarray(start, newline));
      yield flush();
      start = newline + 1;
    }
  }
  if (size > 0) yield flush();
}

/** Whether the JSON text nests arrays and objects deeper than `max` (one pass, no parsing). */
export function nestedDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
