/**
 * The Mersenne Twister (mt19937) as PyTorch's CPU generator runs it: `torch.manual_seed(s)` seeds it with the
 * low 32 bits of `s` (Knuth's initialisation, as std::mt19937), and every draw is one tempered 32-bit word.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class MT19937 {
  private readonly state = new Uint32Array(N);
  private next = N;

  constructor(seed: number | bigint) {
    const s = this.state;
    s[0] = Number(BigInt.asUintN(32, BigInt(seed)));
    for (let j = 1; j < N; j++) {
      const prev = s[j - 1] ^ (s[j - 1] >>> 30);
      s[j] = (Math.imul(1812433253, prev) + j) >>> 0;
    }
  }

  /** An independent copy at the same point of the sequence. */
  clone(): MT19937 {
    const c = new MT19937(0);
    c.state.set(this.state);
    c.next = this.next;
    return c;
  }

  /** The next 32-bit word, as an unsigned integer. */
  nextU32(): number {
    if (this.next >= N) this.twist();
    let y = this.state[this.next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i] & UPPER) | (s[(i + 1) % N] & LOWER);
      s[i] = s[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.next = 0;
  }
}
