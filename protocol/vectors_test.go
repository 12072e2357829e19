package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type vectorKeys struct {
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

type vectorFile struct {
	HashKey   string                `json:"hashKey"`
	Keys      map[string]vectorKeys `json:"keys"`
	Canonical []struct {
		Name, Input, Canonical, Hash string
	} `json:"canonical"`
	Sign []struct {
		Name, Input, PublicKey, SecretKey, Signed string
	} `json:"sign"`
	Verify []struct {
		Name, Signed string
		Valid        bool
	} `json:"verify"`
}

// The repository carries its own copy of the shared vectors, so it tests on its own.
const vectorsPath = "testdata/vectors.json"

// sharedVectorsPath is where the project's shared spec sits beside the repository.
var sharedVectorsPath = filepath.Join("..", "..", "shared", "protocol", "vectors.json")

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decoding %s: %v", vectorsPath, err)
	}
	if len(v.Canonical) == 0 || len(v.Sign) == 0 || len(v.Verify) == 0 {
		t.Fatalf("%s has empty sections", vectorsPath)
	}
	return v
}

func vectorHashKey(t testing.TB, v vectorFile) HashKey {
	t.Helper()
	k, err := ParseHashKey(v.HashKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVectorsCopyMatchesShared(t *testing.T) {
	shared, err := os.ReadFile(sharedVectorsPath)
	if os.IsNotExist(err) {
		t.Skipf("%s not present (repository checked out on its own)", sharedVectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, local) {
		t.Fatalf("%s differs from %s: copy the shared vectors again", vectorsPath, sharedVectorsPath)
	}
}

func TestVectorsCanonical(t *testing.T) {
	v := loadVectors(t)
	k := vectorHashKey(t, v)
	for _, c := range v.Canonical {
		t.Run(c.Name, func(t *testing.T) {
			got, err := Canonicalize([]byte(c.Input))
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			if string(got) != c.Canonical {
				t.Fatalf("Canonicalize\n got %s\nwant %s", got, c.Canonical)
			}
			parsed, err := Parse([]byte(c.Input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			viaAny, err := Marshal(parsed)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(viaAny) != c.Canonical {
				t.Fatalf("Marshal(Parse)\n got %s\nwant %s", viaAny, c.Canonical)
			}
			h := k.Sum(got)
			if hex.EncodeToString(h[:]) != c.Hash {
				t.Fatalf("hash %x, want %s", h, c.Hash)
			}
		})
	}
}

func TestVectorsSign(t *testing.T) {
	v := loadVectors(t)
	k := vectorHashKey(t, v)
	for _, c := range v.Sign {
		t.Run(c.Name, func(t *testing.T) {
			kp, err := ParseKeyPair(c.PublicKey, c.SecretKey)
			if err != nil {
				t.Fatal(err)
			}
			s := Signer{HashKey: k, Keys: kp}
			got, err := s.SignJSON([]byte(c.Input))
			if err != nil {
				t.Fatalf("SignJSON: %v", err)
			}
			if string(got) != c.Signed {
				t.Fatalf("SignJSON\n got %s\nwant %s", got, c.Signed)
			}
			parsed, err := Parse([]byte(c.Input))
			if err != nil {
				t.Fatal(err)
			}
			obj, ok := parsed.(map[string]any)
			if !ok {
				t.Fatalf("input is not an object: %T", parsed)
			}
			got, err = s.SignObject(obj)
			if err != nil {
				t.Fatalf("SignObject: %v", err)
			}
			if string(got) != c.Signed {
				t.Fatalf("SignObject\n got %s\nwant %s", got, c.Signed)
			}
			// Frames: the vectors' inputs are {<kind>: entry}; Frame(kind, entry, "") is the same object.
			if len(obj) == 1 {
				for key := range obj {
					if !Kind(key).Valid() {
						continue
					}
					line, err := Marshal(obj[key])
					if err != nil {
						t.Fatal(err)
					}
					frame, err := s.Frame(Kind(key), line, "")
					if err != nil {
						t.Fatalf("Frame: %v", err)
					}
					if string(frame) != c.Signed {
						t.Fatalf("Frame\n got %s\nwant %s", frame, c.Signed)
					}
				}
			}
			if err := VerifyJSON(k, got); err != nil {
				t.Fatalf("our own signature does not verify: %v", err)
			}
		})
	}
}

func TestVectorsVerify(t *testing.T) {
	v := loadVectors(t)
	k := vectorHashKey(t, v)
	for _, c := range v.Verify {
		t.Run(c.Name, func(t *testing.T) {
			err := VerifyJSON(k, []byte(c.Signed))
			if (err == nil) != c.Valid {
				t.Fatalf("VerifyJSON = %v, want valid=%v", err, c.Valid)
			}
			parsed, perr := Parse([]byte(c.Signed))
			if perr != nil {
				t.Fatal(perr)
			}
			err2 := Verify(k, parsed.(map[string]any))
			if (err2 == nil) != c.Valid {
				t.Fatalf("Verify = %v, want valid=%v", err2, c.Valid)
			}
		})
	}
}

func TestVectorKeysParse(t *testing.T) {
	v := loadVectors(t)
	for name, kp := range v.Keys {
		p, err := ParseKeyPair(kp.PublicKey, kp.SecretKey)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.PublicHex != kp.PublicKey {
			t.Fatalf("%s: PublicHex %s", name, p.PublicHex)
		}
	}
}
