// Slow password and PIN hashing with scrypt (Node's crypto, no native add-on) at OWASP's
// recommended cost, and session tokens of which only a SHA-256 is stored.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** OWASP (Password Storage Cheat Sheet): scrypt N=2^17, r=8, p=1. ~0.5 s and 128 MiB per hash here. */
const N = 2 ** 17,
  R = 8,
  P = 1,
  KEY_LENGTH = 32;

// scrypt needs 128·N·r bytes (plus a little); Node refuses anything above maxmem (default 32 MiB).
const derive = (secret: string, salt: Buffer, n: number, r: number, p: number) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(secret, salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r }, (e, key) => (e ? reject(e) : resolve(key))),
  );

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${(await derive(secret, salt, N, R, P)).toString('base64')}`;
}

// Parameters a stored hash may carry: never more than today's cost (a forged hash cannot make a
// sign-in allocate gigabytes), never absurdly little.
const plausible = (n: number, r: number, p: number) =>
  Number.isInteger(Math.log2(n)) && n >= 2 ** 10 && n <= N && r >= 1 && r <= R && p >= 1 && p <= P;

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || !plausible(Number(n), Number(r), Number(p))) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(secret, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash made at a lower cost than today's: re-hash the secret at the next successful sign-in. */
export const needsRehash = (stored: string) => !stored.startsWith(`scrypt$${N}$${R}$${P}$`);

/** A hash to compare against when the account does not exist, so timing does not reveal that. */
export const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_LENGTH).toString('base64')}`;

export const newToken = () => randomBytes(32).toString('base64url');
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
