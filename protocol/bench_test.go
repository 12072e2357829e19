package protocol

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
)

// receiptLine returns a realistic receipt data-log line of about 2 KB.
func receiptLine() []byte {
	var b strings.Builder
	b.WriteString(`{"receiptId":"8c3f5a0b9d2e4f6a1b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c","timestamp":1700000000123,"cycle":48213,`)
	b.WriteString(`"applyTimestamp":1700000000456,"globalModification":false,"executionShardKey":"3f2a","writtenAt":1700000000123456,`)
	b.WriteString(`"tx":{"txId":"8c3f5a0b9d2e4f6a1b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c","timestamp":1700000000123,"originalTxData":{"tx":{"raw":"0xf86c808504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83","timestamp":1700000000000}}},`)
	b.WriteString(`"signedReceipt":{"proposal":{"applied":true,"cant_preApply":false,"accountIDs":["1111111111111111111111111111111111111111000000000000000000000000","2222222222222222222222222222222222222222000000000000000000000000"],`)
	b.WriteString(`"beforeStateHashes":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],`)
	b.WriteString(`"afterStateHashes":["cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"],"appReceiptDataHash":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","txid":"8c3f5a0b9d2e4f6a1b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"},`)
	b.WriteString(`"proposalHash":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","signaturePack":[`)
	for i := 0; i < 2; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"owner":"%064x","sig":"%0128x"}`, i+1, i+7)
	}
	b.WriteString(`],"voteOffsets":[0,1]},`)
	b.WriteString(`"appReceiptData":{"accountId":"1111111111111111111111111111111111111111000000000000000000000000","data":{"readableReceipt":{"status":1,"gasUsed":"0x5208","value":{"dataType":"bi","value":"de0b6b3a7640000"},"nonce":"0x0"}}},`)
	b.WriteString(`"afterStates":[{"accountId":"2222222222222222222222222222222222222222000000000000000000000000","hash":"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd","timestamp":1700000000456,"isGlobal":false,"data":{"balance":{"dataType":"bi","value":"1bc16d674ec80000"},"nonce":{"dataType":"bi","value":"1"}}}]}`)
	return []byte(b.String())
}

func benchSigner(b *testing.B) Signer {
	v := loadVectors(b)
	kp, err := ParseKeyPair(v.Keys["distributor"].PublicKey, v.Keys["distributor"].SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	return Signer{HashKey: vectorHashKey(b, v), Keys: kp}
}

func BenchmarkFrame2KBReceipt(b *testing.B) {
	s := benchSigner(b)
	line := receiptLine()
	buf := make([]byte, 0, 8192)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		buf, err = s.AppendFrame(buf[:0], KindReceipt, line, "receipt-log3.txt:1234:5678")
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify2KB(b *testing.B) {
	s := benchSigner(b)
	frame, err := s.Frame(KindReceipt, receiptLine(), "receipt-log3.txt:1234:5678")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyJSON(s.HashKey, frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	line := receiptLine()
	buf := make([]byte, 0, 8192)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		buf, err = AppendCanonical(buf[:0], line)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMarshal2KB(b *testing.B) {
	line := receiptLine()
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, err := Parse(line)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReceiptLineSize(t *testing.T) {
	if n := len(receiptLine()); n < 1800 || n > 2400 {
		t.Fatalf("benchmark receipt is %d bytes, want about 2 KB", n)
	}
}

// The bare Ed25519 operations every frame and every verification pays: compare
// BenchmarkFrame2KBReceipt and BenchmarkVerify2KB with these from the same run.
func BenchmarkEd25519Sign(b *testing.B) {
	s := benchSigner(b)
	h := s.HashKey.Sum(receiptLine())
	var sig [64]byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Keys.signInto(&sig, h[:])
	}
}

func BenchmarkEd25519Verify(b *testing.B) {
	s := benchSigner(b)
	h := s.HashKey.Sum(receiptLine())
	sig := ed25519.Sign(s.Keys.Secret, h[:])
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !sodiumVerify(s.Keys.Public, h[:], sig) {
			b.Fatal("verify failed")
		}
	}
}
