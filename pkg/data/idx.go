package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// IDX is the content of a file in the IDX format used by MNIST and
// Fashion-MNIST: an array of unsigned bytes with its dimensions, e.g.
// [60000 28 28] for the MNIST training images or [60000] for its labels.
type IDX struct {
	Dims []int
	Data []byte // row-major, len(Data) == product of Dims
}

// idxUnsignedByte is the IDX type code for unsigned bytes, the only element
// type the datasets use.
const idxUnsignedByte = 0x08

// maxIDXElements bounds the size a header may announce (1 GiB), so that a
// corrupt header yields an error instead of a huge allocation.
const maxIDXElements = 1 << 30

// ReadIDX reads an IDX file of unsigned bytes from r. The content may be
// gzip-compressed; this is detected from the first bytes. A wrong magic number,
// a truncated file, trailing data or a corrupt gzip stream is an error.
func ReadIDX(r io.Reader) (*IDX, error) {
	// The length of a file or an in-memory reader bounds what a header may
	// announce, checked before anything is allocated; other streams are read
	// in pieces, so memory grows only with the data actually there.
	size := int64(-1)
	switch v := r.(type) {
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := v.Seek(0, io.SeekCurrent); err == nil {
				size = st.Size() - off
			}
		}
	case interface{ Len() int }:
		size = int64(v.Len())
	}
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip stream: %w", truncated(err))
		}
		defer zr.Close()
		zr.Multistream(false)
		idx, err := readIDX(zr, -1)
		if err != nil {
			return nil, fmt.Errorf("gzip-compressed IDX: %w", err)
		}
		return idx, nil
	}
	return readIDX(br, size)
}

// readIDX reads an uncompressed IDX stream of size bytes (-1: unknown).
func readIDX(src io.Reader, size int64) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, fmt.Errorf("reading IDX magic number: %w", truncated(err))
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != idxUnsignedByte || magic[3] == 0 {
		return nil, fmt.Errorf("wrong IDX magic number 0x%08x (want 0x000008NN: unsigned bytes, NN dimensions)",
			binary.BigEndian.Uint32(magic[:]))
	}
	nDims := int(magic[3])
	dimBytes := make([]byte, 4*nDims)
	if _, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, fmt.Errorf("reading IDX dimensions: %w", truncated(err))
	}
	dims := make([]int, nDims)
	total := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
		if dims[i] == 0 {
			return nil, fmt.Errorf("IDX dimension %d is zero", i)
		}
		total *= dims[i]
		if total > maxIDXElements {
			return nil, fmt.Errorf("IDX dimensions %v announce more than %d bytes", dims[:i+1], maxIDXElements)
		}
	}
	if header := int64(4 + 4*nDims); size >= 0 && int64(total) > size-header {
		return nil, fmt.Errorf("wrong length: dimensions %v need %d data bytes, the file has %d: %w",
			dims, total, size-header, truncated(io.ErrUnexpectedEOF))
	}
	buf := make([]byte, 0, total)
	if size < 0 {
		buf = make([]byte, 0, min(total, 1<<20))
	}
	for len(buf) < total {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), total-len(buf)))
		}
		n, err := src.Read(buf[len(buf):min(cap(buf), total)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading data after %d of %d bytes: %w", len(buf), total, truncated(err))
		}
	}
	if len(buf) < total {
		return nil, fmt.Errorf("wrong length: dimensions %v need %d data bytes, the file has %d: %w", dims, total, len(buf), truncated(io.ErrUnexpectedEOF))
	}
	// Anything after the data means the file is not what its header says. Reading
	// to the end also makes gzip verify its checksum.
	var extra [1]byte
	n, err := io.ReadFull(src, extra[:])
	switch {
	case n > 0:
		return nil, fmt.Errorf("wrong length: more than the %d data bytes that dimensions %v announce", total, dims)
	case errors.Is(err, io.EOF):
	default:
		return nil, fmt.Errorf("reading end of data: %w", truncated(err))
	}
	return &IDX{Dims: dims, Data: buf}, nil
}

// truncated makes an unexpected end of input explicit in error messages.
func truncated(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("file truncated: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// ReadIDXFile reads the IDX file at path (gzip-compressed or raw); errors name
// the file.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	idx, err := ReadIDX(f)
	if err != nil {
		return nil, fmt.Errorf("data: reading IDX file %s: %w", path, err)
	}
	return idx, nil
}

// WriteIDX writes data with the given dimensions in the IDX format of unsigned
// bytes (uncompressed). It is the inverse of [ReadIDX], useful for tests and for
// exporting subsets.
func WriteIDX(w io.Writer, dims []int, data []byte) error {
	total := 1
	for _, d := range dims {
		total *= d
	}
	if len(dims) == 0 || len(dims) > 255 || total != len(data) {
		return fmt.Errorf("data: WriteIDX: %d bytes do not match dimensions %v", len(data), dims)
	}
	var hdr bytes.Buffer
	hdr.Write([]byte{0, 0, idxUnsignedByte, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&hdr, binary.BigEndian, uint32(d))
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
