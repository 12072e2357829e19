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

// times16 sets v = 16·v with four doublings, T recomputed only at the end.
func (v *extPoint) times16() {
	x, y, z := v.X, v.Y, v.Z
	var xx, yy, zz2, s, x1, y1, z1, t1 gf.Element
	for i := 0; i < 4; i++ {
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

// encode writes the 32-byte encoding of v: y, with the sign of x in the top bit.
func (v *extPoint) encode(out []byte) {
	var zinv, x, y gf.Element
	invert(&zinv, &v.Z)
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

// fixedTable holds j·P for j = 1..8 of one point P = 256^i·Q.
type fixedTable [8]niels

// ctTable is a fixedTable as canonical encodings, for the constant-time lookup: for each of
// the three coordinates, 8 entries of 4 words.
type ctTable [3][8][4]uint64

// basepoint holds the tables of B: for signing (constant time) and verifying.
var basepoint = sync.OnceValue(func() *struct {
	ct [32]ctTable
	vt [32]fixedTable
} {
	t := &struct {
		ct [32]ctTable
		vt [32]fixedTable
	}{}
	t.vt = fixedTables(edwards25519.NewGeneratorPoint())
	for i := range t.vt {
		for j := range t.vt[i] {
			t.ct[i].set(j, &t.vt[i][j])
		}
	}
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

// fixedTables returns the tables of j·256^i·q, i = 0..31, j = 1..8.
func fixedTables(q *edwards25519.Point) (t [32]fixedTable) {
	pts := make([]edwards25519.Point, 0, 256)
	p := new(edwards25519.Point).Set(q)
	for i := 0; i < 32; i++ {
		acc := new(edwards25519.Point).Set(p)
		for j := 0; j < 8; j++ {
			pts = append(pts, *acc)
			acc.Add(acc, p)
		}
		for k := 0; k < 8; k++ {
			p.Double(p)
		}
	}
	// Affine coordinates with one inversion for all 256 points (Montgomery's trick).
	zs := make([]gf.Element, len(pts))
	prod := new(gf.Element).One()
	for i := range pts {
		_, _, z, _ := pts[i].ExtendedCoordinates()
		zs[i] = *prod
		prod.Multiply(prod, z)
	}
	var inv gf.Element
	invert(&inv, prod)
	for i := len(pts) - 1; i >= 0; i-- {
		x, y, z, _ := pts[i].ExtendedCoordinates()
		var zinv, ax, ay gf.Element
		zinv.Multiply(&inv, &zs[i]) // 1/z_i
		inv.Multiply(&inv, z)       // 1/(z_0…z_{i-1})
		ax.Multiply(x, &zinv)
		ay.Multiply(y, &zinv)
		n := &t[i/8][i%8]
		n.ypx.Add(&ay, &ax)
		n.ymx.Subtract(&ay, &ax)
		n.xy2d.Multiply(&ax, &ay)
		n.xy2d.Multiply(&n.xy2d, &d2)
	}
	return t
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
	v.times16()
	for i := 0; i < 64; i += 2 {
		tabs[i/2].lookup(&q, digits[i])
		v.addNiels(&q)
	}
	v.encode(out)
}

// addDigit adds digit·P from a table, in variable time.
func (v *extPoint) addDigit(t *fixedTable, digit int8) {
	switch {
	case digit > 0:
		v.addNiels(&t[digit-1])
	case digit < 0:
		v.subNiels(&t[-digit-1])
	}
}

// doubleBaseMult writes the encoding of a·B + b·P, where tp holds P's tables (variable time;
// a and b little-endian, reduced).
func doubleBaseMult(out []byte, a []byte, tp *[32]fixedTable, b []byte) {
	tb := &basepoint().vt
	da, db := signedRadix16(a), signedRadix16(b)
	var v extPoint
	v.setIdentity()
	for i := 1; i < 64; i += 2 {
		v.addDigit(&tb[i/2], da[i])
		v.addDigit(&tp[i/2], db[i])
	}
	v.times16()
	for i := 0; i < 64; i += 2 {
		v.addDigit(&tb[i/2], da[i])
		v.addDigit(&tp[i/2], db[i])
	}
	v.encode(out)
}
