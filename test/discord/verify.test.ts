import { describe, expect, it } from 'vitest';
import { createInteractionVerifier, publicKeyFromHex } from '../../bot/discord/verify.ts';
import { makeSigningKeys, signBody } from './support/signed-interactions.ts';

const keys = makeSigningKeys();
const body = Buffer.from('{"type":1}');
const T0 = 1_790_000_000; // seconds

function verifierAt(nowSeconds: { value: number }) {
  return createInteractionVerifier({ publicKeyHex: keys.publicKeyHex, now: () => nowSeconds.value * 1000, maxAgeSeconds: 300, maxFutureSeconds: 60 });
}

describe('createInteractionVerifier', () => {
  it('GIVEN a valid signature THEN it accepts, also with upper-case hex', () => {
    const clock = { value: T0 };
    const verify = verifierAt(clock);
    expect(verify(body, signBody(keys, '{"type":1}', String(T0)), String(T0))).toEqual({ ok: true });
    expect(verify(body, signBody(keys, '{"type":1}', String(T0 - 1)).toUpperCase(), String(T0 - 1))).toEqual({ ok: true });
  });

  it('GIVEN the timestamp was changed after signing THEN bad_signature', () => {
    const verify = verifierAt({ value: T0 });
    expect(verify(body, signBody(keys, '{"type":1}', String(T0)), String(T0 - 1))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('GIVEN timestamps at and just past the window edges THEN only those inside are accepted', () => {
    const verify = verifierAt({ value: T0 });
    const at = (t: number) => verify(body, signBody(keys, '{"type":1}', String(t)), String(t));
    expect(at(T0 - 300)).toEqual({ ok: true });
    expect(at(T0 - 301)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(at(T0 + 60)).toEqual({ ok: true });
    expect(at(T0 + 61)).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('GIVEN the same signed request twice THEN the second is a replay; once the window has passed it is stale instead', () => {
    const clock = { value: T0 };
    const verify = verifierAt(clock);
    const signature = signBody(keys, '{"type":1}', String(T0));
    expect(verify(body, signature, String(T0)).ok).toBe(true);
    expect(verify(body, signature, String(T0))).toEqual({ ok: false, reason: 'replayed' });
    clock.value = T0 + 400;
    expect(verify(body, signature, String(T0))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('GIVEN missing or malformed headers THEN it says so without verifying', () => {
    const verify = verifierAt({ value: T0 });
    expect(verify(body, undefined, String(T0))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verify(body, 'ab', String(T0))).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(verify(body, 'a'.repeat(128), 'yesterday')).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('GIVEN a public key that is not 64 hex chars THEN the error explains and does not echo it', () => {
    const bad = 'not-a-key-0123456789';
    expect(() => publicKeyFromHex(bad)).toThrow(/64 hex characters/);
    try {
      publicKeyFromHex(bad);
    } catch (error) {
      expect((error as Error).message).not.toContain(bad);
    }
  });
});
