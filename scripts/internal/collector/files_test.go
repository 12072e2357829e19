package collector

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadKeysFormats(t *testing.T) {
	dir := t.TempDir()
	one := `{"publicKey":"` + CollectorPublicKey + `","secretKey":"` + CollectorSecretKey + `"}`
	two := `{"publicKey":"` + StrangerPublicKey + `","secretKey":"` + StrangerSecretKey + `"}`
	for name, body := range map[string]string{"array": "[" + one + "," + two + "]", "lines": one + "\n" + two + "\n"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		keys, err := LoadKeys(p)
		if err != nil || len(keys) != 2 || keys[0].PublicHex != CollectorPublicKey || keys[1].PublicHex != StrangerPublicKey {
			t.Errorf("%s: %v %v", name, keys, err)
		}
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte(`{"publicKey":"`+CollectorPublicKey+`","secretKey":"`+StrangerSecretKey+`"}`), 0o644)
	if _, err := LoadKeys(bad); err == nil {
		t.Error("mismatched key pair accepted")
	}
}

func TestCursorFileRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	in := map[string]string{"receipt": "3.12.4096.00000000000000aa", "cycle": "1.1.10.00000000000000bb"}
	if err := SaveCursorFile(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := LoadCursorFile(p)
	if err != nil || len(out) != 2 || out["receipt"] != in["receipt"] || out["cycle"] != in["cycle"] {
		t.Errorf("round trip: %v %v", out, err)
	}
	os.WriteFile(p, []byte(`{"blocks":"1"}`), 0o644)
	if _, err := LoadCursorFile(p); err == nil {
		t.Error("unknown stream accepted")
	}
}
