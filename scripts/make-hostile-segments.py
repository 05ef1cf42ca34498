#!/usr/bin/env python3
"""Writes the hostile segment-log fixtures of fixtures/hostile/ (Tests/K2CompactTests/HostileLogTests.swift):
segment files whose CRCs are all valid but whose offsets, counts, sizes or sequences are out of range, and a
sequence high-water file at the largest sequence. Layout: docs/segment-format.md. Deterministic (fixed times).

    python3 scripts/make-hostile-segments.py    # rewrites fixtures/hostile/*.k2seg and the high-water fixture
"""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "hostile")
T0 = 1_707_472_723_000_000_000


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n):
    return varint(((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF)


def records(first_sequence, payloads, time=T0):
    """Data records with consecutive sequences from first_sequence, 1 ms apart."""
    out, prev_t, prev_s = bytearray(), 0, 0
    for i, p in enumerate(payloads):
        t, s = time + i * 1_000_000, first_sequence + i
        out += bytes([0, 0, 0]) + zigzag(t - prev_t) + varint(s - prev_s) + varint(len(p)) + p
        prev_t, prev_s = t, s
    return bytes(out)


def lz4_literals(data):
    """One LZ4 block holding `data` as literals only (a valid, incompressible encoding)."""
    n = len(data)
    out = bytearray([min(n, 15) << 4])
    if n >= 15:
        rest = n - 15
        while rest >= 255:
            out.append(255)
            rest -= 255
        out.append(rest)
    return bytes(out) + data


def zstd_raw(data):
    """One zstd frame: single segment, 1-byte content size, one raw last block."""
    assert len(data) < 256
    return bytes([0x28, 0xB5, 0x2F, 0xFD, 0x20, len(data)]) + struct.pack("<I", 1 | (len(data) << 3))[:3] + data


def file_header(segment_id=1, writer_id=0x4B32_4B32_0000_0001):
    b = b"K2SG" + struct.pack("<HHQQqI", 1, 40, segment_id, writer_id, T0, 0)
    return b + struct.pack("<I", crc32c(b))


def block(source, stream, codec, payload, uncompressed, count, first, last, min_t=T0, max_t=None):
    max_t = min_t + (count - 1) * 1_000_000 if max_t is None else max_t
    key = source.encode() + stream.encode()
    fixed = b"K2BK" + struct.pack("<BbHHHIIIQQqqI", codec, 3 if codec == 2 else 0, len(source.encode()),
                                  len(stream.encode()), 0, count, uncompressed, len(payload), first, last,
                                  min_t, max_t, crc32c(payload))
    return fixed + struct.pack("<I", crc32c(key, crc32c(fixed))) + key + payload


def index_and_footer(blocks, index_offset, count_override=None, offset_override=None, footer_offset_override=None):
    """blocks: (file offset, source, stream, first, last, min_t, max_t, records)."""
    streams = []
    for b in blocks:
        if (b[1], b[2]) not in streams:
            streams.append((b[1], b[2]))
    count = len(blocks) if count_override is None else count_override
    ix = b"K2IX" + struct.pack("<III", len(streams), count, 0)
    for s, t in streams:
        ix += struct.pack("<H", len(s.encode())) + s.encode() + struct.pack("<H", len(t.encode())) + t.encode()
    for off, s, t, first, last, min_t, max_t, n in blocks:
        off = off if offset_override is None else offset_override
        ix += struct.pack("<QQQqqII", off, first, last, min_t, max_t, n, streams.index((s, t)))
    footer_offset = index_offset if footer_offset_override is None else footer_offset_override
    f = struct.pack("<QQII", footer_offset, len(ix), crc32c(ix), count)
    return ix + f + struct.pack("<I", crc32c(f)) + b"K2FT"


def segment(blocks, **index_options):
    """blocks: (source, stream, block bytes, first, last, records). Returns the sealed segment's bytes."""
    data, entries = bytearray(file_header()), []
    for source, stream, raw, first, last, n in blocks:
        entries.append((len(data), source, stream, first, last, T0, T0 + (n - 1) * 1_000_000, n))
        data += raw
    return bytes(data) + index_and_footer(entries, len(data), **index_options)


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(data)} bytes")


def plain_block(source="binance", stream="btcusdt@trade", first=1, payloads=(b'{"t":1}', b'{"t":2}', b'{"t":3}')):
    recs = records(first, list(payloads))
    return (source, stream, block(source, stream, 0, recs, len(recs), len(payloads), first, first + len(payloads) - 1),
            first, first + len(payloads) - 1, len(payloads))


def main():
    os.makedirs(OUT, exist_ok=True)
    one = [plain_block()]

    # Footer: index offset 2^63-1 (valid footer CRC): offset + length + 32 overflowed Int64.
    write("segment-footer-index-offset-2p63.k2seg", segment(one, footer_offset_override=(1 << 63) - 1))

    # Footer and index: block count 0x7fffffff (valid CRCs): the index reserved 2^31 entries up front.
    write("segment-index-count-7fffffff.k2seg", segment(one, count_override=0x7FFFFFFF))

    # Index entry: block offset 2^64-1 (valid CRCs): converting it to Int64 trapped.
    write("segment-index-entry-offset-2p64.k2seg", segment(one, offset_override=(1 << 64) - 1))

    # Block header (valid CRC) claiming a payload of 1 GiB - 1 in a file of a few hundred bytes: the reader
    # allocated and zero-filled a buffer of that size before reading.
    recs = records(1, [b'{"t":1}'])
    raw = bytearray(block("binance", "btcusdt@trade", 0, recs, len(recs), 1, 1, 1))
    raw[16:24] = struct.pack("<II", (1 << 30) - 1, (1 << 30) - 1)
    raw[60:64] = struct.pack("<I", crc32c(bytes(raw[64:64 + len("binancebtcusdt@trade")]), crc32c(bytes(raw[0:60]))))
    write("segment-block-payload-beyond-file.k2seg", segment([("binance", "btcusdt@trade", bytes(raw), 1, 1, 1)]))

    # Six streams, each one block whose few payload bytes claim 1 GiB uncompressed (valid CRCs): a reader
    # allocated 1 GiB per stream before decompressing (k2-compact --check peaked at 6.1 GB).
    blocks = []
    for i in range(6):
        stream = f"s{i}"
        recs = records(1, [b'{"t":%d}' % i])
        codec, payload = (1, lz4_literals(recs)) if i % 2 == 0 else (2, zstd_raw(recs))
        blocks.append(("binance", stream, block("binance", stream, codec, payload, 1 << 30, 1, 1, 1), 1, 1, 1))
    write("segment-blocks-claim-1gib.k2seg", segment(blocks))

    # A block whose last sequence is 2^64-1 (valid CRCs): a writer reopening the log continued at last + 1.
    top = (1 << 64) - 1
    write("segment-block-last-sequence-uint64-max.k2seg",
          segment([("kraken", "XBT/USD", block("kraken", "XBT/USD", 0, records(top, [b"{}"]), len(records(top, [b"{}"])),
                                                1, top, top), top, top, 1)]))

    # The sequence high-water file at 2^64-1: the next writer's sequence + 1 overflowed.
    hw = {"version": 1, "streams": [{"source": "kraken", "sequence": top, "stream": "XBT/USD"}]}
    write("sequences-high-water-uint64-max.json", (json.dumps(hw, indent=2, sort_keys=True) + "\n").encode())


if __name__ == "__main__":
    main()
