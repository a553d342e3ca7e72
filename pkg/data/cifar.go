package data

import (
	"fmt"
	"io"
	"os"
)

// CIFAR-10 binary format: every record is one label byte followed by the
// 32×32×3 image as 1024 red, 1024 green and 1024 blue bytes (C×H×W).
const (
	cifarSize       = 32
	cifarChannels   = 3
	cifarImageBytes = cifarSize * cifarSize * cifarChannels
	// CIFARRecordBytes is the size of one record of the CIFAR-10 binary format.
	CIFARRecordBytes = 1 + cifarImageBytes
	// cifarFileRecords is the number of records in each file of the real dataset.
	cifarFileRecords = 10000
	numCIFARClasses  = 10
)

// CIFAR-10 file names inside the cifar-10-batches-bin folder.
var (
	cifarTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	cifarTestFiles  = []string{"test_batch.bin"}
)

// ReadCIFAR reads records in the CIFAR-10 binary format from r and returns the
// images as bytes in H×W×C order (32×32×3 per image) and their labels. The
// input must hold a whole, non-zero number of records and labels must be below 10.
func ReadCIFAR(r io.Reader) (images []byte, labels []int, err error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	return decodeCIFAR(raw)
}

func decodeCIFAR(raw []byte) (images []byte, labels []int, err error) {
	if len(raw) == 0 || len(raw)%CIFARRecordBytes != 0 {
		return nil, nil, fmt.Errorf("wrong length: %d bytes is not a whole number of %d-byte CIFAR-10 records (file truncated or not CIFAR-10 binary)",
			len(raw), CIFARRecordBytes)
	}
	n := len(raw) / CIFARRecordBytes
	images = make([]byte, n*cifarImageBytes)
	labels = make([]int, n)
	const plane = cifarSize * cifarSize
	for i := range n {
		rec := raw[i*CIFARRecordBytes : (i+1)*CIFARRecordBytes]
		if rec[0] >= numCIFARClasses {
			return nil, nil, fmt.Errorf("record %d has label %d, CIFAR-10 labels are 0..%d", i, rec[0], numCIFARClasses-1)
		}
		labels[i] = int(rec[0])
		chw := rec[1:]
		hwc := images[i*cifarImageBytes : (i+1)*cifarImageBytes]
		for p := range plane {
			hwc[3*p] = chw[p]
			hwc[3*p+1] = chw[plane+p]
			hwc[3*p+2] = chw[2*plane+p]
		}
	}
	return images, labels, nil
}

// ReadCIFARFile reads a CIFAR-10 binary file such as data_batch_1.bin; errors
// name the file.
func ReadCIFARFile(path string) (images []byte, labels []int, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	images, labels, err = decodeCIFAR(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("data: reading CIFAR-10 file %s: %w", path, err)
	}
	return images, labels, nil
}

// EncodeCIFAR writes images (H×W×C bytes, 32×32×3 each) and labels in the
// CIFAR-10 binary format, the inverse of [ReadCIFAR].
func EncodeCIFAR(w io.Writer, images []byte, labels []int) error {
	if len(images) != len(labels)*cifarImageBytes {
		return fmt.Errorf("data: EncodeCIFAR: %d image bytes for %d labels, want %d", len(images), len(labels), len(labels)*cifarImageBytes)
	}
	const plane = cifarSize * cifarSize
	rec := make([]byte, CIFARRecordBytes)
	for i, l := range labels {
		if l < 0 || l >= numCIFARClasses {
			return fmt.Errorf("data: EncodeCIFAR: label %d out of range 0..%d", l, numCIFARClasses-1)
		}
		rec[0] = byte(l)
		hwc := images[i*cifarImageBytes : (i+1)*cifarImageBytes]
		for p := range plane {
			rec[1+p] = hwc[3*p]
			rec[1+plane+p] = hwc[3*p+1]
			rec[1+2*plane+p] = hwc[3*p+2]
		}
		if _, err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
