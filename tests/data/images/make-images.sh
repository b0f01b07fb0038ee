#!/bin/sh
# Regenerates the image fixtures of tests/test-image.c (ImageMagick 6
# `convert` and python3, standard library only). Run from this folder.
set -eu

# The quadrant image, 64x48: red top-left, green top-right, blue bottom-left,
# white bottom-right. q-alpha.png: red, green, half-transparent blue, and a
# fully transparent black bottom-right (which must come out white).
convert -size 32x24 xc:red xc:lime +append \
        \( -size 32x24 xc:blue xc:white +append \) -append PNG24:q.png
convert -size 32x24 xc:red xc:lime +append \
        \( -size 32x24 'xc:rgba(0,0,255,0.5)' 'xc:rgba(0,0,0,0)' +append \) \
        -append PNG32:q-alpha.png

# JPEG
convert q.png -quality 92 -sampling-factor 2x2 q-baseline.jpg
convert q.png -quality 92 -interlace JPEG q-progressive.jpg
convert q.png -quality 92 -colorspace Gray q-gray.jpg
convert q.png -quality 92 -colorspace CMYK q-cmyk.jpg
# A large smooth photo stand-in for DCT-scaled decoding.
convert -size 1500x2000 gradient:red-blue -rotate 90 -quality 40 big-2000x1500.jpg

# PNG
convert q.png PNG8:q-palette.png
convert q.png -colorspace Gray -define png:color-type=0 -define png:bit-depth=8 q-gray.png
convert q-alpha.png -colorspace Gray -define png:color-type=4 q-gray-alpha.png
convert q.png -depth 16 PNG48:q-16.png
convert q-alpha.png PNG8:q-trns.png
convert q.png -interlace PNG q-interlaced.png

# GIF, WebP, TIFF
convert q.png q.gif
convert q.png -interlace GIF q-interlaced.gif
convert q-alpha.png q-trns.gif
convert q.png -quality 90 q-lossy.webp
convert q.png -define webp:lossless=true q-lossless.webp
convert q-alpha.png -define webp:lossless=true q-alpha.webp
convert q.png -compress lzw q.tif
convert q-alpha.png -compress zip q-alpha.tif
convert q.png -compress none -orient right-top q-orient6.tif

# BMP: ImageMagick writes the bottom-up 24-bit and the 32-bit alpha files;
# the rest (palettes, top-down, bit fields, 16-bit) come from the writer
# below.
convert q.png -type TrueColor BMP3:q-24.bmp
convert q-alpha.png BMP:q-32-alpha.bmp

python3 - <<'PY'
import struct, zlib

W, H = 64, 48
def color(x, y):
    if y < H // 2:
        return (255, 0, 0) if x < W // 2 else (0, 255, 0)
    return (0, 0, 255) if x < W // 2 else (255, 255, 255)
rows = [[color(x, y) for x in range(W)] for y in range(H)]  # top first

def write_bmp(path, bpp, top_down=False, masks=None, palette=None):
    def pack(px):
        if palette is not None:
            return palette.index(px)
        r, g, b = px
        if bpp == 24:
            return bytes((b, g, r))
        value = 0
        for c, mask in zip((r, g, b), masks):
            shift = (mask & -mask).bit_length() - 1
            top = mask >> shift
            value |= (c * top // 255) << shift
        return value.to_bytes(bpp // 8, 'little')
    data = b''
    for row in (rows if top_down else rows[::-1]):
        if palette is not None:
            idx = [pack(px) for px in row]
            if bpp == 8:
                line = bytes(idx)
            else:  # 4-bit
                line = bytes((idx[i] << 4) | idx[i + 1] for i in range(0, W, 2))
        else:
            line = b''.join(pack(px) for px in row)
        line += b'\0' * (-len(line) % 4)
        data += line
    compression = 3 if masks is not None and (bpp == 32 or masks != (0x7c00, 0x3e0, 0x1f)) else 0
    extra = struct.pack('<3I', *masks) if compression == 3 else b''
    pal = b''.join(bytes((b, g, r, 0)) for r, g, b in palette) if palette else b''
    offset = 14 + 40 + len(extra) + len(pal)
    info = struct.pack('<IiiHHIIiiII', 40, W, -H if top_down else H, 1, bpp,
                       compression, len(data), 2835, 2835,
                       len(palette) if palette else 0, 0)
    header = b'BM' + struct.pack('<IHHI', offset + len(data), 0, 0, offset)
    open(path, 'wb').write(header + info + extra + pal + data)

colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
write_bmp('q-24-topdown.bmp', 24, top_down=True)
write_bmp('q-8.bmp', 8, palette=colors)
write_bmp('q-8-topdown.bmp', 8, top_down=True, palette=colors)
write_bmp('q-4.bmp', 4, palette=colors)
write_bmp('q-32-bitfields.bmp', 32, masks=(0xff000000, 0x00ff0000, 0x0000ff00))
write_bmp('q-16-565.bmp', 16, top_down=True, masks=(0xf800, 0x07e0, 0x001f))

# q.png with an eXIf chunk saying orientation 6 (turn clockwise), after IDAT.
def chunk(kind, body):
    return (struct.pack('>I', len(body)) + kind + body
            + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))
exif = b'MM\0*' + struct.pack('>IH', 8, 1) + struct.pack('>HHIHH', 0x112, 3, 1, 6, 0) + b'\0\0\0\0'
png = open('q.png', 'rb').read()
iend = png.rindex(b'IEND') - 4
open('q-exif6.png', 'wb').write(png[:iend] + chunk(b'eXIf', exif) + png[iend:])

# WebP containers around the lossless bitstreams: a two-frame animation
# (q then q-alpha) and a still with an EXIF chunk saying orientation 8.
def riff_chunks(path):
    d = open(path, 'rb').read()
    out, p = {}, 12
    while p + 8 <= len(d):
        n = struct.unpack('<I', d[p + 4:p + 8])[0]
        out[d[p:p + 4]] = d[p:p + 8 + n + (n & 1)]
        p += 8 + n + (n & 1)
    return out
def webp_chunk(kind, body):
    return kind + struct.pack('<I', len(body)) + body + b'\0' * (len(body) & 1)
def u24(v):
    return struct.pack('<I', v)[:3]
def vp8x(flags):
    return webp_chunk(b'VP8X', bytes((flags, 0, 0, 0)) + u24(W - 1) + u24(H - 1))
def riff(body):
    return b'RIFF' + struct.pack('<I', 4 + len(body)) + b'WEBP' + body
still = riff_chunks('q-lossless.webp')[b'VP8L']
with_alpha = riff_chunks('q-alpha.webp')[b'VP8L']
def frame(bitstream):
    return webp_chunk(b'ANMF', u24(0) + u24(0) + u24(W - 1) + u24(H - 1)
                      + u24(100) + bytes((0x02,)) + bitstream)
open('q-anim.webp', 'wb').write(riff(
    vp8x(0x02 | 0x10) + webp_chunk(b'ANIM', b'\xff\xff\xff\xff' + struct.pack('<H', 0))
    + frame(still) + frame(with_alpha)))
exif8 = b'II*\0' + struct.pack('<IH', 8, 1) + struct.pack('<HHIHH', 0x112, 3, 1, 8, 0) + b'\0\0\0\0'
open('q-exif8.webp', 'wb').write(riff(vp8x(0x08) + still + webp_chunk(b'EXIF', exif8)))
PY
