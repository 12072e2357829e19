package protocol

import (
	"encoding/binary"
	"math/bits"

	gf "filippo.io/edwards25519/field"
)

// invert sets out = 1/z mod p (p = 2^255-19; 0 for 0) in constant time, with the Bernstein–Yang
// "safegcd" divstep algorithm as libsecp256k1's modinv64 implements it (10 batches of 59
// divsteps, enough for any 256-bit input: its proven bound is 590). gf.Element.Invert raises
// to p-2 (254 squarings, 11 multiplications); this is about 40% faster in pure Go, and every
// signature and every verification encodes one point, which needs one inversion.
func invert(out, z *gf.Element) *gf.Element {
	g := toSigned62(z)
	f := p62
	var d, e signed62
	e[0] = 1
	zeta := int64(-1) // -(delta+1/2), delta = 1/2
	for i := 0; i < 10; i++ {
		var t transition
		zeta, t = divsteps59(zeta, uint64(f[0]), uint64(g[0]))
		updateDE(&d, &e, &t)
		updateFG(&f, &g, &t)
	}
	// g is now 0 and f is ±1 (gcd with a prime), so d is ±1/z.
	normalize62(&d, f[4])
	return fromSigned62(out, &d)
}

// invertVartime is invert in variable time, for public values only (verification): it stops
// as soon as g is 0 and skips runs of zero bits, which makes it about twice as fast
// (libsecp256k1's modinv64_var).
func invertVartime(out, z *gf.Element) *gf.Element {
	g := toSigned62(z)
	f := p62
	var d, e signed62
	e[0] = 1
	eta := int64(-1) // -delta, delta = 1
	n := 5
	for {
		var t transition
		eta, t = divsteps62Vartime(eta, uint64(f[0]), uint64(g[0]))
		updateDE(&d, &e, &t)
		updateFGLen(&f, &g, &t, n)
		if g[0] == 0 {
			var rest int64
			for j := 1; j < n; j++ {
				rest |= g[j]
			}
			if rest == 0 {
				break
			}
		}
		// Drop the top limbs once both f and g fit below them (they are 0 or -1).
		fn, gn := f[n-1], g[n-1]
		if n > 1 && (fn^fn>>63)|(gn^gn>>63) == 0 {
			f[n-2] |= int64(uint64(fn) << 62)
			g[n-2] |= int64(uint64(gn) << 62)
			n--
		}
	}
	normalize62(&d, f[n-1])
	return fromSigned62(out, &d)
}

// divsteps62Vartime performs 62 divsteps, several at a time where it can.
func divsteps62Vartime(eta int64, f0, g0 uint64) (int64, transition) {
	u, v, q, r := uint64(1), uint64(0), uint64(0), uint64(1)
	f, g := f0, g0
	i := 62
	for {
		// Divsteps with g even only halve g; do all of them at once (a sentinel bit stops at i).
		zeros := bits.TrailingZeros64(g | ^uint64(0)<<i)
		g >>= zeros
		u <<= zeros
		v <<= zeros
		eta -= int64(zeros)
		i -= zeros
		if i == 0 {
			break
		}
		// Add the multiple w of f to g that zeroes g's low bits: at most min(eta+1, i) of
		// them, and 6 (after a swap) or 4 with these formulas.
		var w uint64
		if eta < 0 {
			eta = -eta
			f, g = g, -f
			u, q = q, -u
			v, r = r, -v
			m := (^uint64(0) >> (64 - min(int(eta)+1, i))) & 63
			w = (f * g * (f*f - 2)) & m
		} else {
			m := (^uint64(0) >> (64 - min(int(eta)+1, i))) & 15
			w = f + ((f+1)&4)<<1
			w = (-w * g) & m
		}
		g += f * w
		q += u * w
		r += v * w
	}
	return eta, transition{int64(u), int64(v), int64(q), int64(r)}
}

// toSigned62 returns z, reduced, as signed62.
func toSigned62(z *gf.Element) signed62 {
	var b [32]byte
	copy(b[:], z.Bytes())
	w0 := binary.LittleEndian.Uint64(b[0:])
	w1 := binary.LittleEndian.Uint64(b[8:])
	w2 := binary.LittleEndian.Uint64(b[16:])
	w3 := binary.LittleEndian.Uint64(b[24:])
	return signed62{int64(w0 & m62), int64((w0>>62 | w1<<2) & m62), int64((w1>>60 | w2<<4) & m62),
		int64((w2>>58 | w3<<6) & m62), int64(w3 >> 56)}
}

// fromSigned62 sets out to d, whose limbs are normalised (d in [0, p)).
func fromSigned62(out *gf.Element, d *signed62) *gf.Element {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(d[0])|uint64(d[1])<<62)
	binary.LittleEndian.PutUint64(b[8:], uint64(d[1])>>2|uint64(d[2])<<60)
	binary.LittleEndian.PutUint64(b[16:], uint64(d[2])>>4|uint64(d[3])<<58)
	binary.LittleEndian.PutUint64(b[24:], uint64(d[3])>>6|uint64(d[4])<<56)
	out.SetBytes(b[:])
	return out
}

// signed62 is v[0] + v[1]·2^62 + … + v[4]·2^248 with signed limbs.
type signed62 [5]int64

const m62 = 1<<62 - 1

// p62 is 2^255-19 as signed62: -19 + 128·2^248.
var p62 = signed62{-19, 0, 0, 0, 128}

// pInv62 is 1/p mod 2^62 (Newton's iteration: each step doubles the correct low bits).
var pInv62 = func() uint64 {
	p := uint64(1<<64 - 19)
	x := p // correct to 3 bits, as for any odd number
	for i := 0; i < 5; i++ {
		x *= 2 - p*x
	}
	return x & m62
}()

// transition is the 2×2 matrix of a batch of divsteps, scaled by 2^62.
type transition struct{ u, v, q, r int64 }

// divsteps59 performs 59 constant-time divsteps on the low bits of f and g.
func divsteps59(zeta int64, f0, g0 uint64) (int64, transition) {
	u, v, q, r := uint64(8), uint64(0), uint64(0), uint64(8) // identity ·2^3, ·2^59 below
	f, g := f0, g0
	for i := 3; i < 62; i++ {
		c1 := uint64(zeta >> 63) // zeta < 0
		c2 := -(g & 1)           // g odd
		x := (f ^ c1) - c1
		y := (u ^ c1) - c1
		z := (v ^ c1) - c1
		g += x & c2
		q += y & c2
		r += z & c2
		c1 &= c2
		zeta = (zeta ^ int64(c1)) - 1
		f += g & c1
		u += q & c1
		v += r & c1
		g >>= 1
		u <<= 1
		v <<= 1
	}
	return zeta, transition{int64(u), int64(v), int64(q), int64(r)}
}

// acc128 is a signed 128-bit accumulator.
type acc128 struct {
	hi int64
	lo uint64
}

func mul128(a, b int64) acc128 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	hi -= uint64((a>>63)&b) + uint64((b>>63)&a) // signed correction of the unsigned product
	return acc128{int64(hi), lo}
}

func (c *acc128) add(a, b int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	hi -= uint64((a>>63)&b) + uint64((b>>63)&a)
	var carry uint64
	c.lo, carry = bits.Add64(c.lo, lo, 0)
	c.hi += int64(hi + carry)
}

// shr62 shifts right by 62 bits (arithmetic) and returns the 62 bits shifted out.
func (c *acc128) shr62() int64 {
	low := int64(c.lo & m62)
	c.lo = c.lo>>62 | uint64(c.hi)<<2
	c.hi >>= 62
	return low
}

// updateDE sets [d,e] = t·[d,e]/2^62 mod p, keeping both in (-2p, p). Limbs 1-3 of p are zero.
func updateDE(d, e *signed62, t *transition) {
	u, v, q, r := t.u, t.v, t.q, t.r
	sd, se := d[4]>>63, e[4]>>63
	md := (u & sd) + (v & se)
	me := (q & sd) + (r & se)
	cd := mul128(u, d[0])
	cd.add(v, e[0])
	ce := mul128(q, d[0])
	ce.add(r, e[0])
	// Add multiples of p so that the low 62 bits become zero.
	md -= int64((pInv62*cd.lo + uint64(md)) & m62)
	me -= int64((pInv62*ce.lo + uint64(me)) & m62)
	cd.add(p62[0], md)
	ce.add(p62[0], me)
	cd.shr62()
	ce.shr62()
	for i := 1; i < 4; i++ {
		cd.add(u, d[i])
		cd.add(v, e[i])
		ce.add(q, d[i])
		ce.add(r, e[i])
		d[i-1] = cd.shr62()
		e[i-1] = ce.shr62()
	}
	cd.add(u, d[4])
	cd.add(v, e[4])
	ce.add(q, d[4])
	ce.add(r, e[4])
	cd.add(p62[4], md)
	ce.add(p62[4], me)
	d[3] = cd.shr62()
	e[3] = ce.shr62()
	d[4] = int64(cd.lo)
	e[4] = int64(ce.lo)
}

// updateFG sets [f,g] = t·[f,g]/2^62 (exact).
func updateFG(f, g *signed62, t *transition) { updateFGLen(f, g, t, 5) }

// updateFGLen is updateFG for f and g of n limbs.
func updateFGLen(f, g *signed62, t *transition, n int) {
	u, v, q, r := t.u, t.v, t.q, t.r
	cf := mul128(u, f[0])
	cf.add(v, g[0])
	cg := mul128(q, f[0])
	cg.add(r, g[0])
	cf.shr62()
	cg.shr62()
	for i := 1; i < n; i++ {
		cf.add(u, f[i])
		cf.add(v, g[i])
		cg.add(q, f[i])
		cg.add(r, g[i])
		f[i-1] = cf.shr62()
		g[i-1] = cg.shr62()
	}
	f[n-1] = int64(cf.lo)
	g[n-1] = int64(cg.lo)
}

// normalize62 brings r from (-2p, p) to [0, p), negating it first if sign < 0.
func normalize62(r *signed62, sign int64) {
	r0, r1, r2, r3, r4 := r[0], r[1], r[2], r[3], r[4]
	add := r4 >> 63
	r0 += p62[0] & add
	r4 += p62[4] & add
	neg := sign >> 63
	r0 = (r0 ^ neg) - neg
	r1 = (r1 ^ neg) - neg
	r2 = (r2 ^ neg) - neg
	r3 = (r3 ^ neg) - neg
	r4 = (r4 ^ neg) - neg
	r1 += r0 >> 62
	r0 &= m62
	r2 += r1 >> 62
	r1 &= m62
	r3 += r2 >> 62
	r2 &= m62
	r4 += r3 >> 62
	r3 &= m62
	add = r4 >> 63
	r0 += p62[0] & add
	r4 += p62[4] & add
	r1 += r0 >> 62
	r0 &= m62
	r2 += r1 >> 62
	r1 &= m62
	r3 += r2 >> 62
	r2 &= m62
	r4 += r3 >> 62
	r3 &= m62
	*r = signed62{r0, r1, r2, r3, r4}
}
