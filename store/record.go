package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	kflate "github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"

	"github.com/paperfeed/paperfeed/paper"
)

// Record kinds: the first byte of every stored value, in both formats.
const (
	kindRaw   byte = 1 // stored bytes are the body
	kindFlate byte = 2 // stored bytes are the body compressed with compress/flate (written until zstd)
	kindZstd  byte = 3 // stored bytes are the body as one zstd frame
)

// headerLen is the kind byte plus a CRC-32C of the stored bytes: bbolt checks
// its meta pages but not values, and a flipped byte in an abstract would
// otherwise decode into a silently different paper.
const headerLen = 5

// maxBody bounds a decoded body so a damaged or hostile value cannot make a
// decoder allocate without limit. Real records are a few KB.
const maxBody = 1 << 20

// compressMin is the body size from which compression is tried: flate's
// framing costs more than it saves on short records.
const compressMin = 256

// recordVersion is the "v" of every record this program writes. It changes
// only when a field changes meaning; adding a field to paper.Paper does not
// change it, since readers ignore fields they do not know and leave fields a
// record lacks zero.
const recordVersion = 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// record is the JSON body of a stored paper: the record version and the
// paper under its own json tags, without the ID, which is the key.
type record struct {
	V int `json:"v"`
	*paper.Paper
	// ID shadows Paper.ID (a shallower field wins in encoding/json) and is
	// left empty, so the key is not repeated in the value.
	ID string `json:"id,omitempty"`
	// Hub shadows Paper.Hub so that it is written false too: a record
	// without it was written before paper.Paper had the field, and its
	// Hub is inferred (see listedByHub).
	Hub *bool `json:"hub"`
}

// encoder turns papers into stored values. It reuses its buffers and its
// zstd encoder, which is expensive to create; it is not safe for concurrent
// use.
//
// Bodies are compressed with zstd (klauspost/compress), not flate as before:
// reading the whole history (a first routing, a like-topic's learning)
// spent 40% of its time decompressing, and a zstd record decompresses in
// 11 µs where a flate one takes 26 (200 realistic records, 2.6 kB each),
// for records 5% larger. Flate records already written stay as they are and
// are read as before; a record is written again as zstd when its paper
// changes.
type encoder struct {
	body bytes.Buffer
	json *json.Encoder
	zw   *zstd.Encoder
}

// newZstdEncoder is the encoder of record bodies: one frame per record,
// without zstd's own checksum (the header has a CRC-32C of the stored bytes).
func newZstdEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(maxBody),
		zstd.WithEncoderCRC(false), zstd.WithZeroFrames(true))
}

// encode returns the stored value of p. The returned slice is freshly
// allocated, as bbolt requires values to stay untouched until the
// transaction commits.
func (e *encoder) encode(p *paper.Paper) ([]byte, error) {
	if e.json == nil {
		e.json = json.NewEncoder(&e.body)
		e.json.SetEscapeHTML(false) // "<" in an abstract stays one byte
	}
	e.body.Reset()
	if err := e.json.Encode(record{V: recordVersion, Paper: p, Hub: &p.Hub}); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	body := bytes.TrimSuffix(e.body.Bytes(), []byte("\n"))
	if len(body) > maxBody {
		return nil, fmt.Errorf("record is %.1f MB, over the %d MiB limit", float64(len(body))/1e6, maxBody>>20)
	}
	kind, stored := kindRaw, body
	if len(body) >= compressMin {
		if e.zw == nil {
			zw, err := newZstdEncoder()
			if err != nil {
				return nil, fmt.Errorf("encode: %w", err)
			}
			e.zw = zw
		}
		// The value is made below, so the frame may live in the encoder's
		// own buffer until the next call.
		if z := e.zw.EncodeAll(body, nil); len(z) < len(body) {
			kind, stored = kindZstd, z
		}
	}
	v := make([]byte, headerLen+len(stored))
	v[0] = kind
	binary.LittleEndian.PutUint32(v[1:headerLen], crc32.Checksum(stored, castagnoli))
	copy(v[headerLen:], stored)
	return v, nil
}

// unpacker checks a stored value's header and returns its body, reusing its
// decompressors and buffer across records; it is not safe for concurrent
// use.
//
// Records are decompressed by klauspost/compress's flate (the format is
// compress/flate's, which still writes them): reading the history, as a
// first routing or a like-topic's training does, spends a third of its time
// decompressing, and this reader takes 9.1 µs a record where compress/flate
// takes 13.8 (BenchmarkRecord, a 2.7 kB record).
type unpacker struct {
	zr  io.ReadCloser // flate, made at the first flate record
	zd  *zstd.Decoder // made at the first zstd record
	buf bytes.Buffer  // a flate record's body
	out []byte        // a zstd record's body
}

// body returns the body of the stored value v: a part of v for a raw record,
// else the unpacker's buffer, valid until its next call.
func (u *unpacker) body(v []byte) ([]byte, error) {
	if len(v) < headerLen {
		return nil, fmt.Errorf("record of %d bytes is shorter than its header", len(v))
	}
	stored := v[headerLen:]
	if got, want := crc32.Checksum(stored, castagnoli), binary.LittleEndian.Uint32(v[1:headerLen]); got != want {
		return nil, fmt.Errorf("record checksum %08x does not match stored %08x", got, want)
	}
	switch v[0] {
	case kindRaw:
		return stored, nil
	case kindFlate:
		if u.zr == nil {
			u.zr = kflate.NewReader(bytes.NewReader(stored))
		} else if err := u.zr.(kflate.Resetter).Reset(bytes.NewReader(stored), nil); err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		u.buf.Reset()
		n, err := u.buf.ReadFrom(io.LimitReader(u.zr, maxBody+1))
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		if n > maxBody {
			return nil, fmt.Errorf("record expands beyond %d bytes", maxBody)
		}
		return u.buf.Bytes(), nil
	case kindZstd:
		if u.zd == nil {
			zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBody+1))
			if err != nil {
				return nil, fmt.Errorf("decompress: %w", err)
			}
			u.zd = zd
		}
		body, err := u.zd.DecodeAll(stored, u.out[:0])
		switch {
		case errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) || len(body) > maxBody:
			return nil, fmt.Errorf("record expands beyond %d bytes", maxBody)
		case err != nil:
			return nil, fmt.Errorf("decompress: %w", err)
		}
		u.out = body
		return body, nil
	}
	return nil, fmt.Errorf("unknown record kind %d", v[0])
}

// decoder turns stored values back into papers; it is not safe for
// concurrent use.
//
// The JSON is read by encoding/json/v2 (the go-json-experiment module, which
// mirrors it and aliases the standard library's once that is stable): it
// takes 5.3 µs for a 2.7 kB record where encoding/json takes 20-25, and
// reading the history is most of a first routing and of a like-topic's
// training. It is written by encoding/json, whose output v2 reads the same
// (TestRecordJSONv1v2).
type decoder struct{ u unpacker }

// v1Tolerance are the decoding options that keep encoding/json's leniency
// where v2 is stricter: a record is never refused for a byte sequence or a
// repeated name that encoding/json accepted.
var v1Tolerance = jsonv2.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// decode parses the stored value v of the paper keyed id. Fields the record
// lacks are zero, but for Hub (see listedByHub), and fields it has that
// paper.Paper lacks are ignored; a record of another version, or one that
// is not a JSON object, is an error.
func (d *decoder) decode(id string, v []byte) (paper.Paper, error) {
	body, err := d.u.body(v)
	if err != nil {
		return paper.Paper{}, err
	}
	var p paper.Paper
	rec := record{Paper: &p}
	if err := jsonv2.Unmarshal(body, &rec, v1Tolerance); err != nil {
		return paper.Paper{}, fmt.Errorf("record is not a paper: %w", err)
	}
	if rec.V != recordVersion {
		return paper.Paper{}, fmt.Errorf("record version %d, this program reads %d", rec.V, recordVersion)
	}
	p.ID = id
	if rec.Hub != nil {
		p.Hub = *rec.Hub
	} else {
		p.Hub = listedByHub(&p)
	}
	return p, nil
}

// listedByHub is the Hub of a paper stored before paper.Paper had the field
// (a format 2 record without "hub", a format 1 record): true when it is an
// arXiv paper (Hugging Face lists no other) and carries a field that only
// Hugging Face gives.
func listedByHub(p *paper.Paper) bool {
	return p.IsArxiv() && (p.Upvotes != 0 || p.Comments != 0 || p.GitHubStars != 0 ||
		p.AISummary != "" || len(p.AIKeywords) > 0 || p.Thumbnail != "" || p.Organization != "")
}

// listingDay is the day Prune dates a paper by.
func listingDay(p *paper.Paper) time.Time {
	switch {
	case !p.Day.IsZero():
		return p.Day
	case !p.Published.IsZero():
		return p.Published
	}
	return p.FirstSeen
}

// dayKey is p's key in the listing-day index: the Unix seconds of its
// listing day, big-endian with the sign bit flipped so that days before 1970
// sort first, then the ID.
func dayKey(p *paper.Paper) []byte {
	k := make([]byte, 8+len(p.ID))
	binary.BigEndian.PutUint64(k, uint64(listingDay(p).Unix())^1<<63)
	copy(k[8:], p.ID)
	return k
}

// dayKeySeconds returns the Unix seconds of an index key.
func dayKeySeconds(k []byte) int64 {
	return int64(binary.BigEndian.Uint64(k) ^ 1<<63)
}

// seenDay is LastSeen as the history keeps it: the UTC day of t.
func seenDay(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}
