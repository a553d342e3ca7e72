package data

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// FuzzReadIDX: any bytes give an IDX whose data matches its dimensions, or
// an error; never a panic or an allocation the input does not back.
func FuzzReadIDX(f *testing.F) {
	var raw bytes.Buffer
	_ = WriteIDX(&raw, []int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	f.Add(raw.Bytes())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	f.Add(gz.Bytes())
	f.Add([]byte{0, 0, 8, 2, 0, 0, 0x80, 0, 0, 0, 0x80, 0}) // 1 GiB announced, no data
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 3, 9, 9, 9, 9})       // trailing byte
	f.Add([]byte{0x1f, 0x8b, 8, 0})                         // broken gzip header
	f.Fuzz(func(t *testing.T, in []byte) {
		idx, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			return
		}
		n := 1
		for _, d := range idx.Dims {
			if d <= 0 {
				t.Fatalf("accepted dimension %d", d)
			}
			n *= d
		}
		if n != len(idx.Data) {
			t.Fatalf("dims %v but %d bytes", idx.Dims, len(idx.Data))
		}
		// Round trip through WriteIDX.
		var out bytes.Buffer
		if err := WriteIDX(&out, idx.Dims, idx.Data); err != nil {
			t.Fatal(err)
		}
		back, err := ReadIDX(&out)
		if err != nil || !bytes.Equal(back.Data, idx.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzReadCIFAR: any bytes give whole records with labels 0..9, or an error.
func FuzzReadCIFAR(f *testing.F) {
	f.Add(cifarRecord(3, pixelPattern(1)))
	f.Add(append(cifarRecord(0, pixelPattern(2)), cifarRecord(9, pixelPattern(3))...))
	f.Add(cifarRecord(10, pixelPattern(4))) // label out of range
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		images, labels, err := ReadCIFAR(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(labels)*CIFARRecordBytes != len(in) || len(images) != len(labels)*cifarImageBytes {
			t.Fatalf("%d bytes gave %d labels and %d image bytes", len(in), len(labels), len(images))
		}
		var out bytes.Buffer
		if err := EncodeCIFAR(&out, images, labels); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatal("EncodeCIFAR(ReadCIFAR(x)) != x")
		}
	})
}
