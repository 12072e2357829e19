package queryapi

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/shardeum/distributor/protocol"
)

// TestAppendSignedMatchesVector: the direct signing path reproduces the shared "api response"
// vector byte for byte, and Signer.SignObject for payloads with members before and after "sign".
func TestAppendSignedMatchesVector(t *testing.T) {
	b, err := os.ReadFile("../../shared/protocol/vectors.json")
	if err != nil {
		b, err = os.ReadFile("/work/shared/protocol/vectors.json")
	}
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		HashKey string `json:"hashKey"`
		Sign    []struct {
			Name, Input, Signed, PublicKey, SecretKey string
		} `json:"sign"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	hk, _ := protocol.ParseHashKey(v.HashKey)
	found := false
	for _, s := range v.Sign {
		kp, err := protocol.ParseKeyPair(s.PublicKey, s.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		signer := protocol.Signer{HashKey: hk, Keys: kp}
		in, err := protocol.Parse([]byte(s.Input))
		if err != nil {
			t.Fatal(err)
		}
		var p payload
		for k, val := range in.(map[string]any) {
			p = append(p, field{key: k, val: val})
		}
		got, err := appendSigned(nil, signer, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != s.Signed {
			t.Errorf("%s:\n got %s\nwant %s", s.Name, got, s.Signed)
		}
		found = found || s.Name == "api response"
	}
	if !found {
		t.Error("no api response vector")
	}
	k, _ := protocol.ParseKeyPair(
		"758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3",
		"3be00019f23847529bd63e41124864983175063bb524bd54ea3c155f2fa12969758b1c119412298802cd28dbfa394cdfeecc4074492d60844cc192d632d84de3")
	signer := protocol.Signer{HashKey: hk, Keys: k}
	for _, p := range []payload{
		{},
		{{key: "totalTransactions", val: 3.0}, {key: "accounts", raw: []byte(`[{"a":1}]`)}},
		{{key: "success", val: false}, {key: "error", val: "Invalid count"}},
		{{key: "zz", val: "<>&\u2028"}},
	} {
		got, err := appendSigned(nil, signer, p, newSigCache())
		if err != nil {
			t.Fatal(err)
		}
		obj := map[string]any{}
		for _, f := range p {
			if f.raw != nil {
				obj[f.key], _ = protocol.Parse(f.raw)
			} else {
				obj[f.key] = f.val
			}
		}
		want, _ := signer.SignObject(obj)
		if string(got) != string(want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
}
