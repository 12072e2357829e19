package protocol

import (
	"encoding/binary"
	"sync"

	"filippo.io/edwards25519"
	gf "filippo.io/edwards25519/field"
)

// The Ed25519 group arithmetic behind sign.go's fast paths. The formulas are those of Go's
// crypto/internal/fips140/edwards25519 (filippo.io/edwards25519 is the same code, exported);
// what differs is how the fixed-base multiplications use their tables:
//
//   - signing computes r·B with a constant-time lookup that reads each of a table's nine
//     entries as twelve machine words (canonical encodings) instead of selecting field
//     elements one limb at a time, which was a third of crypto/ed25519.Sign;
//   - verifying computes S·B - k·A with two fixed-base tables, B's and one per public key
//     (cached by the caller), so it needs 4 doublings instead of 252; it runs in variable time,
//     as crypto/ed25519.Verify does, since every input is public.
//
// Either way the result is the same group element, so the encodings, and therefore the
// signatures and verdicts, are exactly crypto/ed25519's (sign_test.go checks that).

// extPoint is a point in extended coordinates: x = X/Z, y = Y/Z, xy = T/Z.
type extPoint struct{ X, Y, Z, T gf.Element }

// niels is an affine point prepared for mixed addition: (y+x, y-x, 2dxy).
type niels struct{ ypx, ymx, xy2d gf.Element }

func (v *extPoint) setIdentity() {
	v.X.Zero()
	v.Y.One()
	v.Z.One()
	v.T.Zero()
}

// addNiels sets v = v + q.
func (v *extPoint) addNiels(q *niels) {
	var ypx, ymx, pp, mm, tt2d, z2 gf.Element
	ypx.Add(&v.Y, &v.X)
	ymx.Subtract(&v.Y, &v.X)
	pp.Multiply(&ypx, &q.ypx)
	mm.Multiply(&ymx, &q.ymx)
	tt2d.Multiply(&v.T, &q.xy2d)
	z2.Add(&v.Z, &v.Z)
	v.fromCompleted(&pp, &mm, &tt2d, &z2, false)
}

// subNiels sets v = v - q.
func (v *extPoint) subNiels(q *niels) {
	var ypx, ymx, pp, mm, tt2d, z2 gf.Element
	ypx.Add(&v.Y, &v.X)
	ymx.Subtract(&v.Y, &v.X)
	pp.Multiply(&ypx, &q.ymx)
	mm.Multiply(&ymx, &q.ypx)
	tt2d.Multiply(&v.T, &q.xy2d)
	z2.Add(&v.Z, &v.Z)
	v.fromCompleted(&pp, &mm, &tt2d, &z2, true)
}

// fromCompleted finishes a mixed addition from its products (the "P1xP1" step).
func (v *extPoint) fromCompleted(pp, mm, tt2d, z2 *gf.Element, sub bool) {
	var x, y, z, t gf.Element
	x.Subtract(pp, mm)
	y.Add(pp, mm)
	if sub {
		z.Subtract(z2, tt2d)
		t.Add(z2, tt2d)
	} else {
		z.Add(z2, tt2d)
		t.Subtract(z2, tt2d)
	}
	v.X.Multiply(&x, &t)
	v.Y.Multiply(&y, &z)
	v.Z.Multiply(&z, &t)
	v.T.Multiply(&x, &y)
}

// timesPow2 sets v = 2^k·v (k > 0) with k doublings, T recomputed only at the end.
func (v *extPoint) timesPow2(k uint) {
	x, y, z := v.X, v.Y, v.Z
	var xx, yy, zz2, s, x1, y1, z1, t1 gf.Element
	for i := uint(0); i < k; i++ {
		xx.Square(&x)
		yy.Square(&y)
		zz2.Square(&z)
		zz2.Add(&zz2, &zz2)
		s.Add(&x, &y)
		s.Square(&s)
		y1.Add(&yy, &xx)
		z1.Subtract(&yy, &xx)
		x1.Subtract(&s, &y1)
		t1.Subtract(&zz2, &z1)
		x.Multiply(&x1, &t1)
		y.Multiply(&y1, &z1)
		z.Multiply(&z1, &t1)
	}
	v.X, v.Y, v.Z = x, y, z
	v.T.Multiply(&x1, &y1)
}

// encode writes the 32-byte encoding of v: y, with the sign of x in the top bit. public allows
// a variable-time inversion.
func (v *extPoint) encode(out []byte, public bool) {
	var zinv, x, y gf.Element
	if public {
		invertVartime(&zinv, &v.Z)
	} else {
		invert(&zinv, &v.Z)
	}
	x.Multiply(&v.X, &zinv)
	y.Multiply(&v.Y, &zinv)
	copy(out[:32], y.Bytes())
	out[31] |= byte(x.IsNegative() << 7)
}

// signedRadix16 returns digits d[i] in [-8, 8] with s = Σ d[i]·16^i, for s < 2^255 given
// little-endian (as Go's Scalar.signedRadix16).
func signedRadix16(s []byte) [64]int8 {
	var d [64]int8
	for i := 0; i < 32; i++ {
		d[2*i] = int8(s[i] & 15)
		d[2*i+1] = int8(s[i] >> 4)
	}
	for i := 0; i < 63; i++ {
		carry := (d[i] + 8) >> 4
		d[i] -= carry << 4
		d[i+1] += carry
	}
	return d
}

// comb holds the multiples of a point Q that signed radix-2^w digits of a scalar need:
// j·2^(2wi)·Q for j = 1..2^(w-1), one row per pair of digit positions, since
// Σ d_k·2^(wk)·Q = 2^w·Σ d_(2i+1)·2^(2wi)·Q + Σ d_(2i)·2^(2wi)·Q: the odd-position digits are
// added first, then w doublings, then the even-position ones.
type comb struct {
	w   uint
	pts []niels // row i, multiple j at i<<(w-1) + j-1
}

// radixDigits is how many signed radix-2^w digits a reduced scalar (< 2^253) needs.
func radixDigits(w uint) int { return (253 + int(w) - 1) / int(w) }

// verifyRadix is the window of verification's tables: 51 digits per scalar (instead of 64 at
// w = 4) for tables of 50 KB; 6 would save another eight additions for tables of 84 KB.
const verifyRadix = 5

// ctTable is one row of the w = 4 comb of B as canonical encodings, for the constant-time
// lookup: for each of the three coordinates, 8 entries of 4 words.
type ctTable [3][8][4]uint64

// basepoint holds the tables of B: for signing (constant time) and verifying.
var basepoint = sync.OnceValue(func() *struct {
	ct [32]ctTable
	vt *comb
} {
	t := &struct {
		ct [32]ctTable
		vt *comb
	}{}
	c4 := newComb(edwards25519.NewGeneratorPoint(), 4)
	for i := range t.ct {
		for j := 0; j < 8; j++ {
			t.ct[i].set(j, &c4.pts[i*8+j])
		}
	}
	t.vt = newComb(edwards25519.NewGeneratorPoint(), verifyRadix)
	return t
})

func (t *ctTable) set(j int, n *niels) {
	for k, fe := range [3]*gf.Element{&n.ypx, &n.ymx, &n.xy2d} {
		b := fe.Bytes()
		for l := range t[k][j] {
			t[k][j][l] = binary.LittleEndian.Uint64(b[8*l:])
		}
	}
}

// d2 is 2d, d = -121665/121666 the curve constant.
var d2 = func() gf.Element {
	var num, den, d gf.Element
	num.Negate(feSmall(121665))
	invert(&den, feSmall(121666))
	d.Multiply(&num, &den)
	return *d.Add(&d, &d)
}()

func feSmall(v uint64) *gf.Element {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:], v)
	fe, _ := new(gf.Element).SetBytes(b[:])
	return fe
}

// newComb returns Q's comb for radix 2^w.
func newComb(q *edwards25519.Point, w uint) *comb {
	rows, per := (radixDigits(w)+1)/2, 1<<(w-1)
	pts := make([]edwards25519.Point, 0, rows*per)
	p := new(edwards25519.Point).Set(q)
	for i := 0; i < rows; i++ {
		acc := new(edwards25519.Point).Set(p)
		for j := 0; j < per; j++ {
			pts = append(pts, *acc)
			acc.Add(acc, p)
		}
		for k := uint(0); k < 2*w; k++ {
			p.Double(p)
		}
	}
	// Affine coordinates with one inversion for all the points (Montgomery's trick).
	c := &comb{w: w, pts: make([]niels, len(pts))}
	zs := make([]gf.Element, len(pts))
	prod := new(gf.Element).One()
	for i := range pts {
		_, _, z, _ := pts[i].ExtendedCoordinates()
		zs[i] = *prod
		prod.Multiply(prod, z)
	}
	var inv gf.Element
	invertVartime(&inv, prod) // the points are public
	for i := len(pts) - 1; i >= 0; i-- {
		x, y, z, _ := pts[i].ExtendedCoordinates()
		var zinv, ax, ay gf.Element
		zinv.Multiply(&inv, &zs[i]) // 1/z_i
		inv.Multiply(&inv, z)       // 1/(z_0…z_{i-1})
		ax.Multiply(x, &zinv)
		ay.Multiply(y, &zinv)
		n := &c.pts[i]
		n.ypx.Add(&ay, &ax)
		n.ymx.Subtract(&ay, &ax)
		n.xy2d.Multiply(&ax, &ay)
		n.xy2d.Multiply(&n.xy2d, &d2)
	}
	return c
}

// lookup sets q = digit·P in constant time, for digit in [-8, 8]: every entry is read.
func (t *ctTable) lookup(q *niels, digit int8) {
	m := digit >> 7
	abs := uint64(uint8((digit + m) ^ m))
	var masks [8]uint64
	for j := range masks {
		masks[j] = -(((abs ^ uint64(j+1)) - 1) >> 63) // all ones iff abs == j+1
	}
	zero := (abs - 1) >> 63 // 1 iff digit == 0: the identity (1, 1, 0), in no entry
	setFromWords(&q.ypx, &t[0], &masks, zero)
	setFromWords(&q.ymx, &t[1], &masks, zero)
	setFromWords(&q.xy2d, &t[2], &masks, 0)
	neg := int(m & 1) // -P = (y-x, y+x, -2dxy)
	q.ypx.Swap(&q.ymx, neg)
	var nxy gf.Element
	nxy.Negate(&q.xy2d)
	q.xy2d.Select(&nxy, &q.xy2d, neg)
}

// setFromWords sets fe to the entry of col whose mask is all ones (the others are zero), or
// to low when no mask is.
func setFromWords(fe *gf.Element, col *[8][4]uint64, masks *[8]uint64, low uint64) {
	w0, w1, w2, w3 := low, uint64(0), uint64(0), uint64(0)
	for j := range col {
		e, mk := &col[j], masks[j]
		w0 |= e[0] & mk
		w1 |= e[1] & mk
		w2 |= e[2] & mk
		w3 |= e[3] & mk
	}
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], w0)
	binary.LittleEndian.PutUint64(b[8:], w1)
	binary.LittleEndian.PutUint64(b[16:], w2)
	binary.LittleEndian.PutUint64(b[24:], w3)
	fe.SetBytes(b[:])
}

// scalarBaseMult writes the encoding of s·B (s little-endian, reduced) in constant time.
func scalarBaseMult(out []byte, s []byte) {
	tabs := &basepoint().ct
	digits := signedRadix16(s)
	var v extPoint
	var q niels
	v.setIdentity()
	for i := 1; i < 64; i += 2 {
		tabs[i/2].lookup(&q, digits[i])
		v.addNiels(&q)
	}
	v.timesPow2(4)
	for i := 0; i < 64; i += 2 {
		tabs[i/2].lookup(&q, digits[i])
		v.addNiels(&q)
	}
	v.encode(out, false)
}

// signedRadix returns the radixDigits(w) digits d[i] in [-2^(w-1), 2^(w-1)) with
// s = Σ d[i]·2^(wi), for a reduced scalar s (little-endian), 4 <= w <= 8.
func signedRadix(s []byte, w uint) (d [64]int8) {
	var buf [34]byte
	copy(buf[:], s)
	mask, carry := 1<<w-1, 0
	for i := 0; i < radixDigits(w); i++ {
		bit := i * int(w)
		v := int(binary.LittleEndian.Uint16(buf[bit/8:])>>(bit%8))&mask + carry
		carry = (v + 1<<(w-1)) >> w
		d[i] = int8(v - carry<<w)
	}
	return d
}

// addDigit adds digit·Q from row i of Q's comb, in variable time.
func (v *extPoint) addDigit(c *comb, i int, digit int8) {
	switch {
	case digit > 0:
		v.addNiels(&c.pts[i<<(c.w-1)+int(digit)-1])
	case digit < 0:
		v.subNiels(&c.pts[i<<(c.w-1)-int(digit)-1])
	}
}

// doubleBaseMult writes the encoding of a·B + b·P, where cp is P's comb for verifyRadix
// (variable time; a and b little-endian, reduced).
func doubleBaseMult(out []byte, a []byte, cp *comb, b []byte) {
	cb := basepoint().vt
	w := cb.w
	da, db := signedRadix(a, w), signedRadix(b, w)
	n := radixDigits(w)
	var v extPoint
	v.setIdentity()
	for i := 1; i < n; i += 2 {
		v.addDigit(cb, i/2, da[i])
		v.addDigit(cp, i/2, db[i])
	}
	v.timesPow2(w)
	for i := 0; i < n; i += 2 {
		v.addDigit(cb, i/2, da[i])
		v.addDigit(cp, i/2, db[i])
	}
	v.encode(out, true)
}
