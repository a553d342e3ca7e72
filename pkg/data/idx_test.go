package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func idxBytes(t testing.TB, dims []int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIDX(&buf, dims, data); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDXRawAndGzip(t *testing.T) {
	data := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	raw := idxBytes(t, []int{2, 3, 2}, data)
	// Header: magic 0x00000803, then 2, 3, 2 as big-endian uint32.
	wantHeader := []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2}
	if !bytes.Equal(raw[:16], wantHeader) {
		t.Fatalf("header % x, want % x", raw[:16], wantHeader)
	}
	for name, content := range map[string][]byte{"raw": raw, "gzip": gzipBytes(t, raw)} {
		idx, err := ReadIDX(bytes.NewReader(content))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(idx.Dims, []int{2, 3, 2}) || !bytes.Equal(idx.Data, data) {
			t.Errorf("%s: got dims %v data %v", name, idx.Dims, idx.Data)
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := idxBytes(t, []int{4, 3}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	gz := gzipBytes(t, good)
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)/2] ^= 0xff // damage the deflate stream
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-8] ^= 0xff // damage the CRC-32 in the gzip trailer
	wrongMagic := bytes.Clone(good)
	wrongMagic[2] = 0x0d // float type instead of unsigned byte
	cases := []struct {
		name, content, want string
	}{
		{"empty", "", "truncated"},
		{"wrong magic", string(wrongMagic), "wrong IDX magic number 0x00000d02"},
		{"text file", "<html>not found</html>", "wrong IDX magic number"},
		{"truncated header", string(good[:6]), "truncated"},
		{"truncated data", string(good[:len(good)-3]), "wrong length"},
		{"trailing data", string(append(bytes.Clone(good), 0)), "wrong length"},
		{"zero dimension", string(idxBytes(t, []int{0, 3}, nil)), "dimension 0 is zero"},
		{"truncated gzip", string(gz[:len(gz)-10]), "truncated"},
		{"corrupt gzip", string(corrupt), "gzip-compressed IDX"},
		{"gzip checksum", string(badCRC), "checksum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIDX(strings.NewReader(tc.content))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			t.Logf("%v", err)
			// The file variant names the file.
			path := filepath.Join(t.TempDir(), "train-images-idx3-ubyte.gz")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = ReadIDXFile(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("ReadIDXFile error %v does not name %s", err, path)
			}
		})
	}
	if _, err := ReadIDXFile(filepath.Join(t.TempDir(), "missing.gz")); err == nil || !strings.Contains(err.Error(), "missing.gz") {
		t.Errorf("missing file: error %v does not name the file", err)
	}
}
