#!/usr/bin/env python3
# diagram.py - draws docs/page-journey.svg, the figure of
# docs/how-it-works.md: the buffers one file page passes through, for
# read()+write(), sendfile(2) before Linux 2.4, sendfile(2) with gather
# DMA, and zcopy. Plain SVG text, no library: `python3 docs/diagram.py`
# rewrites the file, and tests/host.sh checks that the checked-in SVG is
# what this script draws.
import sys

BOX_W, BOX_H, GAP = 118, 44, 64
LEFT, TOP, ROW_H = 20, 70, 150
COLS = ["disk", "page cache", "user buffer", "socket buffer", "NIC"]
KERNEL = {"page cache", "socket buffer"}

# Each row: title, its count, and its moves (from, to, kind, label).
# kind: dma (a device copies), cpu (the CPU copies), ref (only a
# reference to the page moves: no byte is touched).
ROWS = [
    ("read() + write()", "4 copies (2 by the CPU), 4 context switches",
     [("disk", "page cache", "dma", "DMA"),
      ("page cache", "user buffer", "cpu", "CPU copy"),
      ("user buffer", "socket buffer", "cpu", "CPU copy"),
      ("socket buffer", "NIC", "dma", "DMA")]),
    ("sendfile(2) before Linux 2.4", "3 copies (1 by the CPU), 2 context switches",
     [("disk", "page cache", "dma", "DMA"),
      ("page cache", "socket buffer", "cpu", "CPU copy"),
      ("socket buffer", "NIC", "dma", "DMA")]),
    ("sendfile(2) with gather DMA", "2 copies (none by the CPU), 2 context switches",
     [("disk", "page cache", "dma", "DMA"),
      ("page cache", "socket buffer", "ref", "page + offset + length"),
      ("page cache", "NIC", "dma", "gather DMA")]),
    ("zcopy: ioctl(ZCOPY_IOC_SENDFILE)", "2 copies (none by the CPU), 2 context switches",
     [("disk", "page cache", "dma", "DMA"),
      ("page cache", "socket buffer", "ref", "skb fragment: folio ref"),
      ("page cache", "NIC", "dma", "gather DMA; ACK frees skb, folio_put()")]),
]
COLOUR = {"dma": "#1f77b4", "cpu": "#d62728", "ref": "#2ca02c"}


def x_of(col):
    return LEFT + COLS.index(col) * (BOX_W + GAP)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    width = LEFT * 2 + len(COLS) * BOX_W + (len(COLS) - 1) * GAP
    height = TOP + len(ROWS) * ROW_H + 40
    out = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8"?>')
    w('<!-- Drawn by docs/diagram.py; edit that, not this. -->')
    w(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
      f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">')
    w('<defs>')
    for k, c in COLOUR.items():
        w(f'<marker id="a-{k}" markerWidth="8" markerHeight="8" refX="7" refY="4" '
          f'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="{c}"/></marker>')
    w('</defs>')
    w(f'<rect width="{width}" height="{height}" fill="white"/>')
    w(f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">'
      'The journey of one file page to the network</text>')
    legend = [("dma", "a device copies (DMA)"), ("cpu", "the CPU copies"),
              ("ref", "a reference moves, no byte")]
    for i, (k, text) in enumerate(legend):
        lx = LEFT + i * 200
        w(f'<line x1="{lx}" y1="44" x2="{lx + 30}" y2="44" stroke="{COLOUR[k]}" '
          f'stroke-width="2.5" marker-end="url(#a-{k})"/>')
        w(f'<text x="{lx + 38}" y="48">{esc(text)}</text>')
    for r, (title, count, moves) in enumerate(ROWS):
        y = TOP + r * ROW_H
        by = y + 30
        w(f'<text x="{LEFT}" y="{y + 14}" font-weight="bold">{esc(title)}</text>')
        w(f'<text x="{width - LEFT}" y="{y + 14}" text-anchor="end">{esc(count)}</text>')
        used = {c for m in moves for c in m[:2]}
        for col in COLS:
            x = x_of(col)
            if col in used:
                fill = "#eef3fb" if col in KERNEL else "#fdf6e3"
                dash = ""
            else:
                fill, dash = "none", ' stroke-dasharray="4 3" opacity="0.35"'
            w(f'<rect x="{x}" y="{by}" width="{BOX_W}" height="{BOX_H}" rx="6" '
              f'fill="{fill}" stroke="#555"{dash}/>')
            w(f'<text x="{x + BOX_W / 2}" y="{by + 27}" text-anchor="middle"'
              f'{dash}>{esc(col)}</text>')
        for a, b, kind, label in moves:
            xa, xb = x_of(a), x_of(b)
            adjacent = COLS.index(b) - COLS.index(a) == 1
            c = COLOUR[kind]
            dash = ' stroke-dasharray="6 4"' if kind == "ref" else ""
            if adjacent:
                y0 = by + BOX_H / 2
                w(f'<line x1="{xa + BOX_W}" y1="{y0}" x2="{xb - 2}" y2="{y0}" stroke="{c}" '
                  f'stroke-width="2.5"{dash} marker-end="url(#a-{kind})"/>')
                w(f'<text x="{(xa + BOX_W + xb) / 2}" y="{y0 - 6}" text-anchor="middle" '
                  f'font-size="10" fill="{c}">{esc(label)}</text>')
            else:
                # Over the boxes between, below them for the DMA to the NIC.
                below = kind == "dma"
                y0 = by + BOX_H if below else by
                ym = y0 + 32 if below else y0 - 2
                w(f'<path d="M{xa + BOX_W / 2},{y0} C{xa + BOX_W / 2},{ym + (12 if below else -14)} '
                  f'{xb + BOX_W / 2},{ym + (12 if below else -14)} {xb + BOX_W / 2},{y0 + (2 if below else -2)}" '
                  f'fill="none" stroke="{c}" stroke-width="2.5"{dash} marker-end="url(#a-{kind})"/>')
                ty = ym + 26 if below else by - 17
                w(f'<text x="{(xa + xb + BOX_W) / 2}" y="{ty}" text-anchor="middle" '
                  f'font-size="10" fill="{c}">{esc(label)}</text>')
    w(f'<text x="{LEFT}" y="{height - 12}" font-size="10" fill="#555">'
      'Blue boxes: kernel memory; yellow: user memory and devices. '
      'Counts as in the classic articles: a context switch is a user/kernel transition.</text>')
    w('</svg>')
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/page-journey.svg"
    with open(path, "w") as f:
        f.write(main())
